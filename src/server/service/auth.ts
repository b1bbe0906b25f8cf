/**
 * API-key authentication (guide §3.2). A request carries `authorization: Bearer <key>` (the scheme
 * word in any case). With no keys configured the server is open and every request passes.
 *
 * Keys are compared in constant time: the presented key and every configured key are hashed with
 * SHA-256 and compared with `crypto.timingSafeEqual` (equal lengths by construction), and every
 * configured key is compared, so neither the length nor the position of a match leaks through
 * timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthResult } from './context.ts';

/** The exact gRPC details btrdb-python's test_incorrect_connect expects. */
export const INVALID_API_KEY = 'invalid api key';

const OPEN: AuthResult = { ok: true, keyIndex: null };
const DENIED: AuthResult = { ok: false, keyIndex: null };

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The key of an `authorization` header value, or undefined when it is not `Bearer <key>`. */
export function bearerKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bearer\s+(\S(?:.*\S)?)\s*$/i.exec(header);
  return m?.[1];
}

export class ApiKeyAuth {
  readonly #hashes: readonly Buffer[];

  /** `keys`: the accepted API keys; empty strings are ignored. No keys = an open server. */
  constructor(keys: readonly string[]) {
    this.#hashes = [...new Set(keys.filter((k) => k.length > 0))].map(sha256);
  }

  /** True when no key is configured: every request is accepted. */
  get open(): boolean {
    return this.#hashes.length === 0;
  }

  get keyCount(): number {
    return this.#hashes.length;
  }

  /** Check the value of a request's `authorization` header (undefined when absent). */
  check(authorization: string | undefined): AuthResult {
    if (this.open) return OPEN;
    const key = bearerKey(authorization);
    if (key === undefined) return DENIED;
    const presented = sha256(key);
    let match = -1;
    for (let i = 0; i < this.#hashes.length; i++) {
      if (timingSafeEqual(presented, this.#hashes[i]!) && match < 0) match = i;
    }
    return match < 0 ? DENIED : { ok: true, keyIndex: match };
  }
}

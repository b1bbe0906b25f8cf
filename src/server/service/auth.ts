/**
 * API-key authentication (guide §3.2). A request carries `authorization: Bearer <key>` (the scheme
 * word in any case). Two kinds of keys are accepted:
 *
 * - keys of the keys file (docs/format/keys.md), `arb_<id>_<secret>`, each with a role (read,
 *   write, admin; roles.ts). The id picks the file's line; SHA-256(salt ‖ secret) is compared with
 *   the stored hash by `crypto.timingSafeEqual`. The file is re-read when it changes (fs.watch
 *   marks it changed at once; and it is re-stat'ed at most every `recheckMs` while calls arrive),
 *   so `arbor keys add/revoke` take effect without a restart. A missing or unreadable file after
 *   it existed accepts none of its keys (fail closed).
 * - plain keys given with `--api-key` / `--api-keys-file` (the original, role-less options): they
 *   have role admin. SHA-256 of the presented key is compared with SHA-256 of every plain key,
 *   always visiting all of them.
 *
 * Both checks always run, whichever matches, so neither which kind matched nor the position of a
 * match leaks through timing (an unknown id still costs one hash and one comparison).
 *
 * The server is OPEN (every request passes, with role admin) only when there is no plain key and
 * no keys file exists. A keys file that appears closes it; one that disappears does not reopen it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AuthResult } from './context.ts';
import { type KeyEntry, parseKeyEntries, secretMatches, splitKey } from './keys-file.ts';

/** The exact gRPC details btrdb-python's test_incorrect_connect expects. */
export const INVALID_API_KEY = 'invalid api key';

/** Default: re-stat the keys file at most this often while calls arrive (ms). */
export const DEFAULT_KEYS_RECHECK_MS = 100;

const OPEN: AuthResult = { ok: true, keyIndex: null, role: 'admin', keyId: null };
const DENIED: AuthResult = { ok: false, keyIndex: null, role: null, keyId: null };

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The key of an `authorization` header value, or undefined when it is not `Bearer <key>`. */
export function bearerKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bearer\s+(\S(?:.*\S)?)\s*$/i.exec(header);
  return m?.[1];
}

export interface ApiKeyAuthOptions {
  /** The keys file to honour (and watch), or null/absent for plain keys only. */
  readonly keysFile?: string | null;
  /** Re-stat the keys file at most this often while calls arrive (ms, default 100; 0 = every call). */
  readonly recheckMs?: number;
  /** Watch the keys file's folder with fs.watch (default true). */
  readonly watch?: boolean;
  /** Where problems with the keys file are reported. */
  readonly log?: (line: string) => void;
}

/** An entry that never matches: unknown ids are compared against it so they cost the same time. */
const DUMMY: KeyEntry = {
  id: '000000000000',
  role: 'read',
  salt: randomBytes(16),
  hash: randomBytes(32),
  created: '1970-01-01T00:00:00.000Z',
  label: '',
};

export class ApiKeyAuth {
  readonly #plain: readonly Buffer[];
  readonly #file: string | null;
  readonly #recheckMs: number;
  readonly #log: (line: string) => void;
  #entries: ReadonlyMap<string, KeyEntry> = new Map();
  /** Identity of the file last read (ino, size, mtime, ctime), or null when it was missing. */
  #stamp: string | null = null;
  #seenFile = false;
  #lastStat = Number.NEGATIVE_INFINITY;
  #dirty = true;
  #watcher: fs.FSWatcher | null = null;

  /**
   * `keys`: plain API keys (role admin); empty strings are ignored. `opts.keysFile`: the keys
   * file. Neither = an open server.
   */
  constructor(keys: readonly string[], opts: ApiKeyAuthOptions = {}) {
    this.#plain = [...new Set(keys.filter((k) => k.length > 0))].map(sha256);
    this.#file = opts.keysFile ?? null;
    this.#recheckMs = opts.recheckMs ?? DEFAULT_KEYS_RECHECK_MS;
    this.#log = opts.log ?? (() => undefined);
    if (this.#file !== null) {
      this.#refresh(true);
      if (opts.watch !== false) this.#startWatch(this.#file);
    }
  }

  /** True when no key is configured: every request is accepted. */
  get open(): boolean {
    this.#refresh(false);
    return this.#plain.length === 0 && !this.#seenFile;
  }

  /** Plain keys plus the keys file's keys. */
  get keyCount(): number {
    this.#refresh(false);
    return this.#plain.length + this.#entries.size;
  }

  get plainKeyCount(): number {
    return this.#plain.length;
  }

  get fileKeyCount(): number {
    this.#refresh(false);
    return this.#entries.size;
  }

  get keysFile(): string | null {
    return this.#file;
  }

  /** Re-read the keys file now (e.g. on SIGHUP). */
  reload(): void {
    this.#refresh(true);
  }

  /** Stop watching the keys file. */
  close(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }

  /** Check the value of a request's `authorization` header (undefined when absent). */
  check(authorization: string | undefined): AuthResult {
    this.#refresh(false);
    if (this.#plain.length === 0 && !this.#seenFile) return OPEN;
    const key = bearerKey(authorization);
    if (key === undefined) return DENIED;
    // Keys-file key: the id is not secret; the secret is compared in constant time.
    const parts = splitKey(key);
    const entry = parts === undefined ? undefined : this.#entries.get(parts.id);
    const fileOk = secretMatches(entry ?? DUMMY, parts?.secret ?? key) && entry !== undefined;
    // Plain keys: every one is compared.
    const presented = sha256(key);
    let match = -1;
    for (let i = 0; i < this.#plain.length; i++) {
      if (timingSafeEqual(presented, this.#plain[i]!) && match < 0) match = i;
    }
    if (fileOk) return { ok: true, keyIndex: null, role: entry!.role, keyId: entry!.id };
    if (match >= 0) return { ok: true, keyIndex: match, role: 'admin', keyId: null };
    return DENIED;
  }

  #startWatch(file: string): void {
    const name = path.basename(file);
    try {
      this.#watcher = fs.watch(path.dirname(file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) this.#dirty = true;
      });
      this.#watcher.on('error', () => {
        this.#watcher?.close();
        this.#watcher = null; // the re-stat on calls still notices changes
      });
    } catch {
      // The folder is missing or fs.watch is unsupported: the re-stat on calls still works.
    }
  }

  #refresh(force: boolean): void {
    const file = this.#file;
    if (file === null) return;
    const now = performance.now();
    if (!force && !this.#dirty && now - this.#lastStat < this.#recheckMs) return;
    this.#lastStat = now;
    this.#dirty = false;
    let stamp: string | null = null;
    try {
      const s = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
      if (s !== undefined) stamp = `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (e) {
      stamp = `error:${(e as Error).message}`;
    }
    if (!force && stamp === this.#stamp) return;
    this.#stamp = stamp;
    if (stamp === null) {
      if (this.#seenFile && this.#entries.size > 0)
        this.#log(`keys file ${file} is gone: none of its keys is accepted`);
      this.#entries = new Map();
      return;
    }
    this.#seenFile = true;
    try {
      const entries = parseKeyEntries(fs.readFileSync(file, 'utf8'));
      this.#entries = new Map(entries.map((e) => [e.id, e]));
    } catch (e) {
      this.#entries = new Map();
      this.#log(`keys file ${file} cannot be read, so none of its keys is accepted: ${(e as Error).message}`);
    }
  }
}

/**
 * Helpers for the HTTP API tests: a small client for one server (JSON in and out, raw bodies,
 * status and headers kept) and a Backend wrapper that counts or breaks raw reads.
 */
import http from 'node:http';
import type { Backend } from '../../db/backend.ts';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: unknown;
}

export interface ErrorJson {
  readonly error: { readonly code: number; readonly name: string; readonly message: string };
}

export class TestClient {
  constructor(
    readonly base: string,
    readonly key?: string,
  ) {}

  async request(
    method: string,
    path: string,
    init: { body?: string | Uint8Array; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (this.key !== undefined) headers.authorization = `Bearer ${this.key}`;
    const res = await fetch(this.base + path, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.request('GET', path, { headers });
  }

  send(method: string, path: string, body: unknown): Promise<Answer> {
    return this.request(method, path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  /** GET bytes (e.g. Arrow). */
  async bytes(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Uint8Array; type: string }> {
    const h = { ...headers, ...(this.key === undefined ? {} : { authorization: `Bearer ${this.key}` }) };
    const res = await fetch(this.base + path, { headers: h });
    return {
      status: res.status,
      body: new Uint8Array(await res.arrayBuffer()),
      type: res.headers.get('content-type') ?? '',
    };
  }
}

/** The error of a JSON error answer (fails loudly when the answer is not one). */
export function errorOf(a: Answer): ErrorJson['error'] {
  const e = (a.json as ErrorJson | undefined)?.error;
  if (e === undefined) throw new Error(`not an error answer: ${a.status} ${a.text.slice(0, 200)}`);
  return e;
}

/** A Backend whose rawValues count the batches pulled and may fail after `failAfter` batches. */
export function countingBackend(
  inner: Backend,
  opts: { failAfter?: number } = {},
): { backend: Backend; pulled: () => number } {
  let pulled = 0;
  const backend = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'rawValues') {
        return async function* (...args: Parameters<Backend['rawValues']>) {
          let n = 0;
          for await (const v of target.rawValues(...args)) {
            if (opts.failAfter !== undefined && n >= opts.failAfter) throw new Error('injected read failure');
            n++;
            pulled++;
            yield v;
          }
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { backend, pulled: () => pulled };
}

/** GET with node:http and pause the answer after the headers: a client that reads nothing. */
export function stalledGet(url: string): Promise<{ res: http.IncomingMessage; destroy: () => void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      res.pause();
      resolve({ res, destroy: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

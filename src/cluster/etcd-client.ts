/**
 * A small etcd v3 client over etcd's JSON gRPC gateway (`POST /v3/...`, served by etcd ≥ 3.4):
 * key ranges, puts, deletes, transactions and leases — all cluster mode needs for membership and
 * election. No dependency beyond Node's fetch.
 *
 * Every HTTP call has a deadline (`timeoutMs`, default 2 s). A call that cannot connect, times
 * out, or is answered "unavailable" by a member (no leader, request timed out) is retried on the
 * next endpoint; the endpoint that last answered is tried first. When every endpoint fails the
 * call throws `DbError` 434 naming each endpoint and its failure; an answer that is an etcd error
 * (bad request, unknown lease) or not the expected JSON throws `DbError` 500 naming the endpoint.
 *
 * Retrying on a timeout means a write may be applied twice (the first attempt may have landed):
 * callers use idempotent puts, or transactions whose outcome they check by reading back.
 *
 * Gateway facts: keys and values are base64 in JSON; int64 fields (revisions, lease ids, TTLs)
 * are decimal strings; zero-valued fields are omitted (a missing `TTL` is 0, a missing
 * `succeeded` is false). Strings here are UTF-8 keys/values; lease ids and revisions are bigint.
 */
import { DbError } from '../core/errors.ts';

export type LeaseId = bigint;

export interface EtcdClientOptions {
  /** Client URLs, e.g. `http://127.0.0.1:2379`. At least one. */
  readonly endpoints: readonly string[];
  /** Deadline of each HTTP attempt, ms (default 2000). */
  readonly timeoutMs?: number;
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: bigint;
  readonly modRevision: bigint;
  readonly version: bigint;
  /** 0n when the key has no lease. */
  readonly lease: LeaseId;
}

export interface RangeResult {
  readonly kvs: KeyValue[];
  /** The store revision at which the range was read. */
  readonly revision: bigint;
}

/** A comparison in a transaction: `target` of `key` `result` the given value. */
export type Compare =
  | {
      readonly key: string;
      readonly target: 'CREATE' | 'MOD' | 'VERSION';
      readonly result: CompareResult;
      readonly revision: bigint;
    }
  | { readonly key: string; readonly target: 'VALUE'; readonly result: CompareResult; readonly value: string }
  | { readonly key: string; readonly target: 'LEASE'; readonly result: CompareResult; readonly lease: LeaseId };
export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';

export type TxnOp =
  | { readonly put: { readonly key: string; readonly value: string; readonly lease?: LeaseId } }
  | { readonly range: { readonly key: string; readonly prefix?: boolean } }
  | { readonly delete: { readonly key: string; readonly prefix?: boolean } };

export type TxnOpResult =
  | { readonly kind: 'put' }
  | { readonly kind: 'range'; readonly kvs: KeyValue[] }
  | { readonly kind: 'delete'; readonly deleted: number };

export interface TxnResult {
  readonly succeeded: boolean;
  readonly revision: bigint;
  readonly responses: TxnOpResult[];
}

/** gRPC status codes after which another member may well succeed. */
const RETRY_GRPC_CODES = new Set([4 /* DeadlineExceeded */, 14 /* Unavailable */]);

type Json = Record<string, unknown>;

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: unknown): string => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');
const int = (v: unknown): bigint => (typeof v === 'string' || typeof v === 'number' ? BigInt(v) : 0n);

/** The first key after every key that starts with `prefix` (etcd's `range_end` for a prefix). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = bytes[i]! + 1;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64'); // every key: etcd's "\0" range_end
}

function rangeFields(key: string, prefix: boolean | undefined): Json {
  return prefix === true ? { key: b64(key), range_end: prefixEnd(key) } : { key: b64(key) };
}

function parseKv(o: unknown): KeyValue {
  const kv = (o ?? {}) as Json;
  return {
    key: unb64(kv.key),
    value: unb64(kv.value),
    createRevision: int(kv.create_revision),
    modRevision: int(kv.mod_revision),
    version: int(kv.version),
    lease: int(kv.lease),
  };
}

const revisionOf = (body: Json): bigint => int((body.header as Json | undefined)?.revision);

class Retryable extends Error {}

export class EtcdClient {
  readonly endpoints: readonly string[];
  readonly timeoutMs: number;
  private preferred = 0;

  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new DbError(438, 'etcd: no endpoints given');
    this.endpoints = options.endpoints.map((e) => e.replace(/\/+$/, ''));
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  /** The endpoint that answered last (tried first by the next call). */
  get currentEndpoint(): string {
    return this.endpoints[this.preferred]!;
  }

  /** POST `path` with `body` to the endpoints in turn, from the preferred one, until one answers. */
  private async call(path: string, body: Json, timeoutMs = this.timeoutMs): Promise<Json> {
    const failures: string[] = [];
    const n = this.endpoints.length;
    for (let k = 0; k < n; k++) {
      const i = (this.preferred + k) % n;
      const endpoint = this.endpoints[i]!;
      try {
        const result = await this.attempt(endpoint, path, body, timeoutMs);
        this.preferred = i;
        return result;
      } catch (e) {
        if (!(e instanceof Retryable)) throw e;
        failures.push(`${endpoint}: ${e.message}`);
      }
    }
    throw new DbError(434, `etcd ${path}: no endpoint answered (${failures.join('; ')})`);
  }

  private async attempt(endpoint: string, path: string, body: Json, timeoutMs: number): Promise<Json> {
    let text: string;
    let status: number;
    try {
      const res = await fetch(`${endpoint}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      if (err.name === 'TimeoutError' || err.name === 'AbortError')
        throw new Retryable(`no answer within ${timeoutMs} ms`);
      throw new Retryable(err.cause?.code ?? err.cause?.message ?? err.message);
    }
    // The keepalive endpoint streams newline-delimited JSON: the first line is the answer.
    const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      if (status >= 500) throw new Retryable(`HTTP ${status}: ${text.slice(0, 200)}`);
      throw new DbError(
        500,
        `etcd ${endpoint}${path}: HTTP ${status}, not JSON: ${JSON.stringify(text.slice(0, 200))}`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null) {
      throw new DbError(500, `etcd ${endpoint}${path}: HTTP ${status}, unexpected answer ${line.slice(0, 200)}`);
    }
    const o = parsed as Json;
    const err = (o.error ?? (status >= 400 ? o : undefined)) as Json | string | undefined;
    if (err !== undefined) {
      // Two shapes: `{error, code, message}` for unary calls, `{error: {grpc_code, message}}` in streams.
      const code = typeof err === 'object' ? Number(err.grpc_code ?? err.code) : Number(o.code);
      const message = typeof err === 'object' ? String(err.message ?? err.error) : String(o.message ?? err);
      if (RETRY_GRPC_CODES.has(code) || status === 503) throw new Retryable(`etcd error ${code}: ${message}`);
      throw new EtcdError(code, `etcd ${endpoint}${path}: ${message} (gRPC code ${code}, HTTP ${status})`);
    }
    return o;
  }

  /** Keys equal to `key`, or starting with it when `prefix`, in key order. Linearizable read. */
  async range(key: string, options: { prefix?: boolean; limit?: number } = {}): Promise<RangeResult> {
    const req: Json = rangeFields(key, options.prefix);
    if (options.limit !== undefined) req.limit = String(options.limit);
    const o = await this.call('/v3/kv/range', req);
    const kvs = Array.isArray(o.kvs) ? o.kvs.map(parseKv) : [];
    return { kvs, revision: revisionOf(o) };
  }

  /** The value of `key`, or null. */
  async get(key: string): Promise<KeyValue | null> {
    return (await this.range(key)).kvs[0] ?? null;
  }

  /** Set `key` to `value`, attached to `lease` if given. Resolves with the new store revision. */
  async put(key: string, value: string, options: { lease?: LeaseId } = {}): Promise<bigint> {
    const req: Json = { key: b64(key), value: b64(value) };
    if (options.lease !== undefined) req.lease = options.lease.toString();
    return revisionOf(await this.call('/v3/kv/put', req));
  }

  /** Delete `key` (or every key under the prefix). Resolves with the number deleted. */
  async delete(key: string, options: { prefix?: boolean } = {}): Promise<number> {
    const o = await this.call('/v3/kv/deleterange', rangeFields(key, options.prefix));
    return Number(int(o.deleted));
  }

  /** If every comparison holds run `success`, else `failure`, atomically. */
  async txn(
    compare: readonly Compare[],
    success: readonly TxnOp[],
    failure: readonly TxnOp[] = [],
  ): Promise<TxnResult> {
    const o = await this.call('/v3/kv/txn', {
      compare: compare.map(compareJson),
      success: success.map(opJson),
      failure: failure.map(opJson),
    });
    const responses = Array.isArray(o.responses) ? o.responses.map(parseOpResult) : [];
    return { succeeded: o.succeeded === true, revision: revisionOf(o), responses };
  }

  /** A new lease of `ttlSeconds` (whole seconds, ≥ 1; etcd may raise it to its minimum). */
  async leaseGrant(ttlSeconds: number): Promise<{ id: LeaseId; ttlSeconds: number }> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1)
      throw new DbError(438, `etcd lease TTL must be a whole number ≥ 1 s, got ${ttlSeconds}`);
    const o = await this.call('/v3/lease/grant', { TTL: String(ttlSeconds) });
    if (typeof o.error === 'string' && o.error !== '') throw new DbError(500, `etcd lease grant: ${o.error}`);
    const id = int(o.ID);
    if (id === 0n) throw new DbError(500, `etcd lease grant: no lease id in ${JSON.stringify(o).slice(0, 200)}`);
    return { id, ttlSeconds: Number(int(o.TTL)) };
  }

  /**
   * Renew `lease` once. Resolves with its remaining TTL in seconds: the full TTL when renewed,
   * 0 when the lease no longer exists (expired or revoked). `timeoutMs` bounds each attempt.
   */
  async leaseKeepAlive(lease: LeaseId, timeoutMs = this.timeoutMs): Promise<number> {
    try {
      const o = await this.call('/v3/lease/keepalive', { ID: lease.toString() }, timeoutMs);
      const result = (o.result ?? {}) as Json;
      return Number(int(result.TTL));
    } catch (e) {
      if (e instanceof EtcdError && e.grpcCode === 5) return 0; // NotFound: the lease is gone
      throw e;
    }
  }

  /** Revoke `lease`, deleting its keys. Resolves false when it no longer existed. */
  async leaseRevoke(lease: LeaseId): Promise<boolean> {
    try {
      await this.call('/v3/lease/revoke', { ID: lease.toString() });
      return true;
    } catch (e) {
      if (e instanceof EtcdError && e.grpcCode === 5) return false;
      throw e;
    }
  }
}

/** An error answered by etcd itself (not a transport failure), with its gRPC status code. */
export class EtcdError extends DbError {
  readonly grpcCode: number;
  constructor(grpcCode: number, message: string) {
    super(500, message);
    this.grpcCode = grpcCode;
  }
}

function compareJson(c: Compare): Json {
  const base: Json = { key: b64(c.key), result: c.result, target: c.target };
  switch (c.target) {
    case 'CREATE':
      return { ...base, create_revision: c.revision.toString() };
    case 'MOD':
      return { ...base, mod_revision: c.revision.toString() };
    case 'VERSION':
      return { ...base, version: c.revision.toString() };
    case 'VALUE':
      return { ...base, value: b64(c.value) };
    case 'LEASE':
      return { ...base, lease: c.lease.toString() };
  }
}

function opJson(op: TxnOp): Json {
  if ('put' in op) {
    const p: Json = { key: b64(op.put.key), value: b64(op.put.value) };
    if (op.put.lease !== undefined) p.lease = op.put.lease.toString();
    return { request_put: p };
  }
  if ('range' in op) return { request_range: rangeFields(op.range.key, op.range.prefix) };
  return { request_delete_range: rangeFields(op.delete.key, op.delete.prefix) };
}

function parseOpResult(r: unknown): TxnOpResult {
  const o = (r ?? {}) as Json;
  if (o.response_range !== undefined) {
    const rr = o.response_range as Json;
    return { kind: 'range', kvs: Array.isArray(rr.kvs) ? rr.kvs.map(parseKv) : [] };
  }
  if (o.response_delete_range !== undefined) {
    return { kind: 'delete', deleted: Number(int((o.response_delete_range as Json).deleted)) };
  }
  return { kind: 'put' };
}

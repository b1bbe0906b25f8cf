import { DbError } from '../core/errors.ts';
import type { ObjectInfo, ObjectStore } from './object-store.ts';

/** The calls of an ObjectStore, for fault hooks and counters. */
export type ObjectOp = 'create' | 'get' | 'list' | 'delete';

/**
 * How an armed fault makes a call fail: `throw` before doing anything (500), `hang` until the
 * store's deadline and then throw 434 (a store that does not answer), `land-then-throw` do the
 * call and then throw 434 (a timeout after the write reached the store: the caller cannot know).
 */
export type ObjectFaultMode = 'throw' | 'hang' | 'land-then-throw';

/** Calls and bytes since the store was made (a MemoryObjectStore counts every call). */
export interface ObjectStoreStats {
  creates: number;
  createdBytes: number;
  gets: number;
  gotBytes: number;
  lists: number;
  deletes: number;
}

export const newObjectStoreStats = (): ObjectStoreStats => ({
  creates: 0,
  createdBytes: 0,
  gets: 0,
  gotBytes: 0,
  lists: 0,
  deletes: 0,
});

interface ArmedFault {
  remaining: number;
  readonly mode: ObjectFaultMode;
  readonly ops: ReadonlySet<ObjectOp> | undefined;
}

export interface MemoryObjectStoreOptions {
  /** Deadline of one call, ms: a `hang` fault fails after this long. Default 5000. */
  readonly timeoutMs?: number;
}

/**
 * An in-memory ObjectStore with the same semantics as S3 (create-only writes, ranged gets, lists in
 * byte order of keys, deletes that ignore missing keys), checked by the same contract suite
 * (object-store.conformance.ts). Every call yields to the event loop once before it acts, so
 * concurrent callers interleave as they would against a server. Several instances may share one
 * `objects` map (two processes over one bucket). Test support, plus fault hooks.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly location = 'memory';
  readonly stats: ObjectStoreStats = newObjectStoreStats();
  private readonly faults: ArmedFault[] = [];
  private readonly timeoutMs: number;
  private closed = false;

  constructor(
    /** Key → bytes. Shared when two stores stand for two processes over one bucket. */
    readonly objects: Map<string, Uint8Array> = new Map(),
    opts: MemoryObjectStoreOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  /** Another client of the same bucket (its own faults and counters). */
  peer(opts: MemoryObjectStoreOptions = {}): MemoryObjectStore {
    return new MemoryObjectStore(this.objects, { timeoutMs: opts.timeoutMs ?? this.timeoutMs });
  }

  /** Make the next `n` calls (of the given ops, default all) fail in `mode`. Faults queue up in order. */
  failNext(n: number, mode: ObjectFaultMode = 'throw', ops?: readonly ObjectOp[]): void {
    this.faults.push({ remaining: n, mode, ops: ops ? new Set(ops) : undefined });
  }

  /** Disarm every pending fault. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  async create(key: string, body: Uint8Array): Promise<boolean> {
    return this.call('create', key, () => {
      this.stats.creates++;
      if (this.objects.has(key)) return false;
      this.objects.set(key, body.slice());
      this.stats.createdBytes += body.length;
      return true;
    });
  }

  async get(key: string, range?: { readonly offset: number; readonly length: number }): Promise<Uint8Array | null> {
    return this.call('get', key, () => {
      this.stats.gets++;
      const body = this.objects.get(key);
      if (!body) return null;
      if (range && (range.offset < 0 || range.length <= 0 || range.offset >= body.length)) {
        throw new DbError(
          500,
          `get ${key} in ${this.location}: range [${range.offset}, +${range.length}) is not satisfiable (object of ${body.length} bytes)`,
        );
      }
      const out = range ? body.slice(range.offset, range.offset + range.length) : body.slice();
      this.stats.gotBytes += out.length;
      return out;
    });
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    return this.call('list', prefix, () => {
      this.stats.lists++;
      const out: ObjectInfo[] = [];
      for (const [key, body] of this.objects) if (key.startsWith(prefix)) out.push({ key, size: body.length });
      return out.sort((a, b) => compareKeys(a.key, b.key));
    });
  }

  async delete(keys: readonly string[]): Promise<void> {
    return this.call('delete', keys[0] ?? '', () => {
      this.stats.deletes += keys.length;
      for (const k of keys) this.objects.delete(k);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async call<T>(op: ObjectOp, key: string, act: () => T): Promise<T> {
    if (this.closed) throw new DbError(500, `object store ${this.location} is closed`);
    const fault = this.takeFault(op);
    await new Promise<void>((r) => setImmediate(r));
    if (fault === 'throw') throw new DbError(500, `${op} ${key} in ${this.location} failed: injected fault`);
    if (fault === 'hang') {
      await new Promise<void>((r) => setTimeout(r, this.timeoutMs));
      throw timeout(op, key, this.location, this.timeoutMs);
    }
    const result = act();
    if (fault === 'land-then-throw') throw timeout(op, key, this.location, this.timeoutMs);
    return result;
  }

  private takeFault(op: ObjectOp): ObjectFaultMode | undefined {
    const f = this.faults.find((x) => !x.ops || x.ops.has(op));
    if (!f) return undefined;
    if (--f.remaining <= 0) this.faults.splice(this.faults.indexOf(f), 1);
    return f.mode;
  }
}

/** Byte order of UTF-8 keys (S3's list order); equal to code-unit order for ASCII keys. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function timeout(op: string, key: string, location: string, ms: number): DbError {
  return new DbError(434, `${op} ${key} in ${location} did not answer within ${ms} ms`);
}

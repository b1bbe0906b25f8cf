/**
 * `ClusterBackend`: the Backend every node of a cluster serves to users (docs/cluster.md). Any node
 * accepts any request:
 *
 * - Metadata (tags, annotations, lookups, collections, SQL) goes straight to the shared catalog
 *   (PostgreSQL), from whichever node was asked.
 * - Everything about one stream's data — and create / obliterate, which touch the catalog and the
 *   shard's engine in order — runs on the owner of the stream's shard: here when this node owns it,
 *   else forwarded over gRPC to the owner's internal port.
 *
 * A refusal that proves the request did nothing (453: the shard is not, or no longer, owned by the
 * node that got it; or no live node owns it yet) is retried on the owner of the moment until
 * `routeTimeoutMs`; so a client sees a failover as a slower call, not an error. Any other error is
 * the client's — in particular an insert whose forwarding connection broke may or may not have
 * been applied, exactly as for a single server that dies mid-call.
 */
import type { Catalog } from '../catalog/types.ts';
import { DbError, isDbError } from '../core/errors.ts';
import type { StatPoint } from '../core/stat.ts';
import type { MergePolicy, PointBatch, StreamDescriptor, StreamId, Version } from '../core/types.ts';
import { parseStreamId } from '../core/uuid.ts';
import type { Backend, CreateRequest, LookupQuery, MetaFilter, ServerInfo, Versioned } from '../db/backend.ts';
import { BUILD, PROTOCOL_VERSION } from '../db/database.ts';

/** What the backend needs from the node it runs on. */
export interface ShardRouter {
  readonly shards: number;
  shardOf(id: StreamId): number;
  /**
   * The Backend that executes requests for `shard` right now: this node's shard database (waiting
   * while it opens) or the owner's internal endpoint. Throws 453 when no live node owns it.
   */
  route(shard: number): Promise<Backend>;
  /**
   * A pinned-version read served here from the shared manifest and immutable blocks, or null when
   * this node should not (it owns the shard, or has no views): then the owner answers.
   */
  pinned?<T>(shard: number, op: (b: Backend) => Promise<T>): Promise<T> | null;
  /** This node's view of the shard for a pinned raw read, or null (as `pinned`). */
  view?(shard: number): Promise<Backend> | null;
}

export interface ClusterBackendOptions {
  /** How long a request keeps retrying while its shard changes owner (ms, default 20 000). */
  readonly routeTimeoutMs?: number;
  /** Pause between retries (ms, default 100). */
  readonly retryDelayMs?: number;
}

/**
 * True when the request may be sent again: a 453 proves it had no effect; a transport failure
 * (402: the owner died or its connection broke) only for requests that change nothing.
 */
export const isRetryable = (e: unknown, idempotent: boolean): boolean =>
  isDbError(e, 453) || (idempotent && isDbError(e, 402));

export class ClusterBackend implements Backend {
  readonly #routeTimeoutMs: number;
  readonly #retryDelayMs: number;

  constructor(
    private readonly catalog: Catalog,
    private readonly router: ShardRouter,
    opts: ClusterBackendOptions = {},
  ) {
    this.#routeTimeoutMs = opts.routeTimeoutMs ?? 20_000;
    this.#retryDelayMs = opts.retryDelayMs ?? 100;
  }

  /** Run `op` on the executor of `id`'s shard, retrying refusals that did nothing. */
  async #on<T>(id: StreamId, op: (b: Backend) => Promise<T>, idempotent = true): Promise<T> {
    const shard = this.router.shardOf(parseStreamId(id));
    const deadline = Date.now() + this.#routeTimeoutMs;
    for (;;) {
      try {
        return await op(await this.router.route(shard));
      } catch (e) {
        if (!isRetryable(e, idempotent) || Date.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, this.#retryDelayMs));
      }
    }
  }

  async info(): Promise<ServerInfo> {
    return {
      majorVersion: PROTOCOL_VERSION.major,
      minorVersion: PROTOCOL_VERSION.minor,
      build: BUILD,
      proxyEndpoints: [],
    };
  }

  create(req: CreateRequest): Promise<StreamDescriptor> {
    return this.#on(req.id, (b) => b.create(req), false);
  }

  streamInfo(id: StreamId): Promise<{ descriptor: StreamDescriptor; version: Version }> {
    return this.#on(id, (b) => b.streamInfo(id));
  }

  async setAnnotations(
    id: StreamId,
    expected: number,
    changes: MetaFilter,
    removals: readonly string[],
  ): Promise<void> {
    await this.catalog.setAnnotations(parseStreamId(id), expected, changes, [...removals]);
  }

  async setTags(
    id: StreamId,
    expected: number,
    tags: MetaFilter,
    collection: string,
    remove: readonly string[],
  ): Promise<void> {
    await this.catalog.setTags(parseStreamId(id), expected, tags, collection, [...remove]);
  }

  lookupStreams(q: LookupQuery): Promise<StreamDescriptor[]> {
    return this.catalog.lookup(q);
  }

  listCollections(prefix: string): Promise<string[]> {
    return this.catalog.listCollections(prefix);
  }

  metadataUsage(prefix: string): Promise<{ tags: Record<string, number>; annotations: Record<string, number> }> {
    return this.catalog.metadataUsage(prefix);
  }

  sql(query: string, params: readonly string[]): Promise<Record<string, unknown>[]> {
    return this.catalog.sql(query, [...params]);
  }

  /**
   * A read of a committed version (version ≠ 0): from this node's view of the shard when it can
   * answer, else from the owner. Version 0 (latest) always goes to the owner (read barrier).
   */
  async #read<T>(id: StreamId, version: number, op: (b: Backend) => Promise<T>): Promise<T> {
    if (version !== 0) {
      const here = this.router.pinned?.(this.router.shardOf(parseStreamId(id)), op);
      if (here) {
        try {
          return await here;
        } catch {
          // The view could not answer (a version not committed yet, a stream it cannot see):
          // the owner decides, errors included.
        }
      }
    }
    return this.#on(id, op);
  }

  insert(id: StreamId, batch: PointBatch, policy: MergePolicy): Promise<Version> {
    return this.#on(id, (b) => b.insert(id, batch, policy), false);
  }

  async *rawValues(id: StreamId, start: bigint, end: bigint, version: number): AsyncGenerator<Versioned<PointBatch>> {
    const shard = this.router.shardOf(parseStreamId(id));
    const view = version === 0 ? null : (this.router.view?.(shard) ?? null);
    if (view) {
      // A committed version from this node's view of the shard; if it cannot give the first
      // chunk (a version not committed yet, a stream it cannot see), the owner answers.
      let it: AsyncIterator<Versioned<PointBatch>> | null = null;
      let first: IteratorResult<Versioned<PointBatch>> | null = null;
      try {
        it = (await view).rawValues(id, start, end, version)[Symbol.asyncIterator]();
        first = await it.next();
      } catch {
        first = null;
      }
      if (it && first) {
        for (let r = first; !r.done; r = await it.next()) yield r.value;
        return;
      }
    }
    // Retried only until the first chunk arrives; a stream cut later is the client's error.
    const deadline = Date.now() + this.#routeTimeoutMs;
    for (;;) {
      let sent = false;
      try {
        for await (const chunk of (await this.router.route(shard)).rawValues(id, start, end, version)) {
          sent = true;
          yield chunk;
        }
        return;
      } catch (e) {
        if (sent || !isRetryable(e, true) || Date.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, this.#retryDelayMs));
      }
    }
  }

  alignedWindows(
    id: StreamId,
    start: bigint,
    end: bigint,
    pw: number,
    version: number,
  ): Promise<Versioned<StatPoint[]>> {
    return this.#read(id, version, (b) => b.alignedWindows(id, start, end, pw, version));
  }

  windows(
    id: StreamId,
    start: bigint,
    end: bigint,
    width: bigint,
    depth: number,
    version: number,
  ): Promise<Versioned<StatPoint[]>> {
    return this.#read(id, version, (b) => b.windows(id, start, end, width, depth, version));
  }

  nearest(
    id: StreamId,
    time: bigint,
    backward: boolean,
    version: number,
  ): Promise<Versioned<{ time: bigint; value: number }> | null> {
    return this.#read(id, version, (b) => b.nearest(id, time, backward, version));
  }

  changes(
    id: StreamId,
    from: number,
    to: number,
    resolution: number,
  ): Promise<Versioned<{ start: bigint; end: bigint }[]>> {
    return this.#read(id, from !== 0 && to !== 0 ? to : 0, (b) => b.changes(id, from, to, resolution));
  }

  delete(id: StreamId, start: bigint, end: bigint): Promise<Version> {
    return this.#on(id, (b) => b.delete(id, start, end), false);
  }

  flush(id: StreamId): Promise<Version> {
    return this.#on(id, (b) => b.flush(id), false);
  }

  obliterate(id: StreamId): Promise<void> {
    return this.#on(id, (b) => b.obliterate(id), false);
  }

  async *subscribe(ids: readonly StreamId[], signal: AbortSignal): AsyncGenerator<{ id: StreamId; batch: PointBatch }> {
    // One subscription per owner, merged. Inserts reach only their owner, so that is where to listen.
    const byShard = new Map<number, StreamId[]>();
    for (const id of ids) {
      const shard = this.router.shardOf(parseStreamId(id));
      byShard.set(shard, [...(byShard.get(shard) ?? []), id]);
    }
    const queue: { id: StreamId; batch: PointBatch }[] = [];
    const waiter: { wake: (() => void) | null } = { wake: null };
    let failure: unknown = null;
    let running = byShard.size;
    for (const [shard, group] of byShard) {
      void (async () => {
        try {
          for await (const item of (await this.router.route(shard)).subscribe(group, signal)) {
            queue.push(item);
            waiter.wake?.();
          }
        } catch (e) {
          failure ??= e;
        } finally {
          running--;
          waiter.wake?.();
        }
      })();
    }
    while (!signal.aborted) {
      const item = queue.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (failure !== null) throw failure;
      if (running === 0) return;
      await new Promise<void>((r) => {
        waiter.wake = r;
        signal.addEventListener('abort', () => r(), { once: true });
      });
      waiter.wake = null;
    }
  }

  async close(): Promise<void> {
    // The node owns the catalog and the shards; it closes them.
  }
}

/** 453 for a shard that no live member owns (yet). */
export const unowned = (shard: number): DbError =>
  new DbError(453, `shard ${shard} has no live owner at the moment (a node is joining or leaving); retry`);

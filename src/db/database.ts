/**
 * `Database`: the catalog (stream metadata, PGlite) and the engine (data) behind one Backend.
 *
 * Consistency between the two (docs/adr/0003-catalog-engine-consistency.md): create writes the
 * catalog first, then the engine; obliterate marks the catalog first, then erases the engine's
 * stream. After a crash between the two steps, `open` reconciles: a live catalog stream missing in
 * the engine is created there (it was never written to), an engine stream the catalog does not
 * know or has obliterated is erased. So a user never sees a half-created or half-deleted stream.
 */
import { EventEmitter, on } from 'node:events';
import path from 'node:path';
import { openPgliteCatalog } from '../catalog/pglite-catalog.ts';
import type { Catalog } from '../catalog/types.ts';
import { DbError, isDbError } from '../core/errors.ts';
import type { StatPoint } from '../core/stat.ts';
import type { MergePolicy, PointBatch, StreamDescriptor, StreamId, Version } from '../core/types.ts';
import { parseStreamId } from '../core/uuid.ts';
import { type CheckReport, checkEngine } from '../engine/check.ts';
import type { CompactionReport, RetentionPolicy } from '../engine/compaction.ts';
import { Engine, type EngineOptions } from '../engine/engine.ts';
import { openEngineDir, openEngineStorage } from '../engine/open-dir.ts';
import { MemoryEnv } from '../storage/index.ts';
import type { Backend, CreateRequest, LookupQuery, MetaFilter, ServerInfo, Versioned } from './backend.ts';

/** The BTrDB protocol version ArborDB reports (≥ 5.30 turns on the Python client's Arrow path). */
export const PROTOCOL_VERSION = { major: 5, minor: 34 } as const;
export const BUILD = 'arbordb 0.1.0';

export interface DatabaseOptions extends EngineOptions {
  /** Use this catalog instead of the embedded PGlite one (e.g. a PostgreSQL server). */
  readonly catalog?: Catalog;
  readonly retention?: RetentionPolicy;
}

export class Database implements Backend {
  private readonly events = new EventEmitter();

  private constructor(
    readonly engine: Engine,
    readonly catalog: Catalog,
    readonly dir: string | null,
    private readonly ownsCatalog = true,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Open (creating if needed) the database in `dir`; `null` = in memory (tests, examples). */
  static async open(dir: string | null, opts: DatabaseOptions = {}): Promise<Database> {
    const engine =
      dir === null
        ? await Engine.open(await openEngineStorage(new MemoryEnv(), '/db'), opts)
        : await openEngineDir(dir, opts);
    let catalog: Catalog;
    try {
      catalog = opts.catalog ?? (await openPgliteCatalog(dir === null ? null : path.join(dir, 'catalog')));
    } catch (e) {
      await engine.close();
      throw e;
    }
    const db = new Database(engine, catalog, dir);
    await db.reconcile();
    return db;
  }

  /**
   * A Database over an engine that holds only some of the catalog's streams — one shard of a
   * cluster (src/cluster): `owns(id)` tells which. Reconciles that part only. Closing it closes the
   * engine, not the (shared) catalog.
   */
  static async over(
    engine: Engine,
    catalog: Catalog,
    owns: (id: StreamId) => boolean,
    opts: { readonly reconcile?: boolean } = {},
  ): Promise<Database> {
    const db = new Database(engine, catalog, null, false);
    // A read-only view of a shard (src/cluster/replica.ts) must not write: it skips reconciling.
    if (opts.reconcile !== false) await db.reconcile(owns);
    return db;
  }

  /** Bring engine and catalog back into agreement after a crash between their two steps. */
  private async reconcile(owns: (id: StreamId) => boolean = () => true): Promise<void> {
    const live = (await this.catalog.liveIds()).filter(owns);
    const known = new Set<string>(live);
    for (const id of live) if (!this.engine.hasStream(id)) await this.engine.createStream(id);
    for (const id of this.engine.streamIds()) if (!known.has(id)) await this.engine.obliterate(id);
  }

  async info(): Promise<ServerInfo> {
    return {
      majorVersion: PROTOCOL_VERSION.major,
      minorVersion: PROTOCOL_VERSION.minor,
      build: BUILD,
      proxyEndpoints: [],
    };
  }

  async create(req: CreateRequest): Promise<StreamDescriptor> {
    const id = parseStreamId(req.id);
    if (this.engine.hasStream(id)) throw new DbError(417, `stream ${id} already exists`);
    const meta = await this.catalog.create({
      id,
      collection: req.collection,
      tags: req.tags,
      annotations: req.annotations,
    });
    await this.engine.createStream(id, { allowNonFinite: req.allowNonFinite ?? false });
    return meta;
  }

  async streamInfo(id: StreamId): Promise<{ descriptor: StreamDescriptor; version: Version }> {
    const descriptor = await this.describe(id);
    return { descriptor, version: (await this.engine.info(id)).version };
  }

  private async describe(id: StreamId): Promise<StreamDescriptor> {
    const meta = await this.catalog.get(id);
    if (!meta) throw new DbError(404, `stream ${id} does not exist`);
    return meta;
  }

  async setAnnotations(
    id: StreamId,
    expected: number,
    changes: MetaFilter,
    removals: readonly string[],
  ): Promise<void> {
    await this.catalog.setAnnotations(id, expected, changes, [...removals]);
  }

  async setTags(
    id: StreamId,
    expected: number,
    tags: MetaFilter,
    collection: string,
    remove: readonly string[],
  ): Promise<void> {
    await this.catalog.setTags(id, expected, tags, collection, [...remove]);
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

  async insert(id: StreamId, batch: PointBatch, policy: MergePolicy = 'never'): Promise<Version> {
    const v = await this.engine.insert(id, batch, policy);
    if (this.events.listenerCount(id) > 0) this.events.emit(id, batch);
    return v;
  }

  async *rawValues(id: StreamId, start: bigint, end: bigint, version: number): AsyncGenerator<Versioned<PointBatch>> {
    const r = await this.engine.resolve(id, version);
    let any = false;
    for await (const batch of this.engine.values(id, start, end, r.version)) {
      any = true;
      yield { value: batch, version: r.version };
    }
    if (!any) yield { value: { times: new BigInt64Array(0), values: new Float64Array(0) }, version: r.version };
  }

  async alignedWindows(
    id: StreamId,
    start: bigint,
    end: bigint,
    pw: number,
    version: number,
  ): Promise<Versioned<StatPoint[]>> {
    const r = await this.engine.alignedWindows(id, start, end, pw, version);
    return { value: r.windows, version: r.version };
  }

  async windows(
    id: StreamId,
    start: bigint,
    end: bigint,
    width: bigint,
    depth: number,
    version: number,
  ): Promise<Versioned<StatPoint[]>> {
    const r = await this.engine.windows(id, start, end, width, depth, version);
    return { value: r.windows, version: r.version };
  }

  async nearest(
    id: StreamId,
    time: bigint,
    backward: boolean,
    version: number,
  ): Promise<Versioned<{ time: bigint; value: number }> | null> {
    try {
      const p = await this.engine.nearest(id, time, backward, version);
      return { value: { time: p.time, value: p.value }, version: p.version };
    } catch (e) {
      if (isDbError(e, 401)) return null;
      throw e;
    }
  }

  async changes(
    id: StreamId,
    from: number,
    to: number,
    resolution: number,
  ): Promise<Versioned<{ start: bigint; end: bigint }[]>> {
    const r = await this.engine.changes(id, from, to, resolution);
    return { value: r.ranges, version: r.version };
  }

  delete(id: StreamId, start: bigint, end: bigint): Promise<Version> {
    return this.engine.delete(id, start, end);
  }

  flush(id: StreamId): Promise<Version> {
    return this.engine.flush(id);
  }

  async obliterate(id: StreamId): Promise<void> {
    await this.catalog.obliterate(id);
    if (this.engine.hasStream(id)) await this.engine.obliterate(id);
  }

  /** Yields each batch inserted into the given streams through this database until `signal` aborts. */
  async *subscribe(ids: readonly StreamId[], signal: AbortSignal): AsyncGenerator<{ id: StreamId; batch: PointBatch }> {
    const queue = new EventEmitter();
    const forward = (id: StreamId) => (batch: PointBatch) => queue.emit('data', { id, batch });
    const handlers = ids.map((id) => [id, forward(id)] as const);
    for (const [id, h] of handlers) this.events.on(id, h);
    try {
      for await (const [item] of on(queue, 'data', { signal })) yield item as { id: StreamId; batch: PointBatch };
    } catch (e) {
      if (!(e instanceof Error && e.name === 'AbortError')) throw e;
    } finally {
      for (const [id, h] of handlers) this.events.off(id, h);
    }
  }

  check(): Promise<CheckReport> {
    return checkEngine(this.engine);
  }

  compact(policy?: RetentionPolicy): Promise<CompactionReport> {
    return this.engine.compact(policy);
  }

  async close(): Promise<void> {
    try {
      await this.engine.close();
    } finally {
      if (this.ownsCatalog) await this.catalog.close();
    }
  }
}

export const openDatabase = (dir: string | null, opts: DatabaseOptions = {}): Promise<Database> =>
  Database.open(dir, opts);

/**
 * Attached archives (as openHistorian attaches archive folders): a Backend that serves the live
 * database plus any number of archives opened read-only. A stream of an attached archive is read
 * like a live one — raw values, windows, nearest, changes, lookups and collection listings include
 * it — and every write to it is refused (403 for data, 421 for metadata), naming the archive.
 *
 * A uuid that exists live wins: the archive's copy of that stream is not served (the attach report
 * lists it; `arbor archive import` merges such an archive into the live data instead). SQL covers the
 * live catalog only.
 */
import path from 'node:path';
import { DbError } from '../core/errors.ts';
import type { StatPoint } from '../core/stat.ts';
import type { MergePolicy, PointBatch, StreamDescriptor, StreamId, Version } from '../core/types.ts';
import { type ArchiveManifest, openArchive } from './archive.ts';
import type { Backend, CreateRequest, LookupQuery, MetaFilter, ServerInfo, Versioned } from './backend.ts';
import type { Database } from './database.ts';

export interface AttachedArchive {
  /** Its name (the directory's base name unless given). */
  readonly name: string;
  readonly dir: string;
  readonly manifest: ArchiveManifest;
  /** Streams served from it. */
  readonly streams: number;
  /** Streams not served because the uuid exists live. */
  readonly shadowed: readonly string[];
}

interface Mounted {
  readonly info: AttachedArchive;
  readonly db: Database;
}

export class AttachedBackend implements Backend {
  private readonly mounts = new Map<string, Mounted>();
  private readonly owner = new Map<string, Mounted>();

  constructor(readonly live: Backend) {}

  /** Attach the archive in `dir` under `name`. 438 if the name is taken or it is not an archive. */
  async attach(dir: string, name: string = path.basename(path.resolve(dir))): Promise<AttachedArchive> {
    if (this.mounts.has(name)) throw new DbError(438, `an archive named ${JSON.stringify(name)} is already attached`);
    const { manifest, db } = await openArchive(dir);
    try {
      const shadowed: string[] = [];
      const mine: string[] = [];
      for (const s of await db.lookupStreams({ collection: '', isPrefix: true })) {
        if (this.owner.has(s.id))
          throw new DbError(
            438,
            `stream ${s.id} is already served by attached archive ${this.owner.get(s.id)?.info.name}`,
          );
        if (await this.liveHas(s.id)) shadowed.push(s.id);
        else mine.push(s.id);
      }
      const m: Mounted = { info: { name, dir: path.resolve(dir), manifest, streams: mine.length, shadowed }, db };
      this.mounts.set(name, m);
      for (const id of mine) this.owner.set(id, m);
      return m.info;
    } catch (e) {
      await db.close();
      throw e;
    }
  }

  /** Detach and close an archive. 404-like 438 if no archive has that name. */
  async detach(name: string): Promise<void> {
    const m = this.mounts.get(name);
    if (!m) throw new DbError(438, `no attached archive is named ${JSON.stringify(name)}`);
    this.mounts.delete(name);
    for (const [id, o] of this.owner) if (o === m) this.owner.delete(id);
    await m.db.close();
  }

  attached(): AttachedArchive[] {
    return [...this.mounts.values()].map((m) => m.info);
  }

  private async liveHas(id: StreamId): Promise<boolean> {
    try {
      await this.live.streamInfo(id);
      return true;
    } catch (e) {
      if (e instanceof DbError && e.code === 404) return false;
      throw e;
    }
  }

  /** The backend that serves reads of `id`. */
  private reader(id: StreamId): Backend {
    return this.owner.get(id)?.db ?? this.live;
  }

  /** The live backend, unless `id` lives in an archive: then the write is refused. */
  private writer(id: StreamId, what: string, code: 403 | 421): Backend {
    const m = this.owner.get(id);
    if (m)
      throw new DbError(
        code,
        `${what}: stream ${id} belongs to the attached archive ${m.info.name} (${m.info.dir}), which is read-only`,
      );
    return this.live;
  }

  info(): Promise<ServerInfo> {
    return this.live.info();
  }
  async create(req: CreateRequest): Promise<StreamDescriptor> {
    if (this.owner.has(req.id))
      throw new DbError(417, `stream ${req.id} exists in the attached archive ${this.owner.get(req.id)?.info.name}`);
    return this.live.create(req);
  }
  streamInfo(id: StreamId): Promise<{ descriptor: StreamDescriptor; version: Version }> {
    return this.reader(id).streamInfo(id);
  }
  async setAnnotations(
    id: StreamId,
    expected: number,
    changes: MetaFilter,
    removals: readonly string[],
  ): Promise<void> {
    return this.writer(id, 'set annotations', 421).setAnnotations(id, expected, changes, removals);
  }
  async setTags(
    id: StreamId,
    expected: number,
    tags: MetaFilter,
    collection: string,
    remove: readonly string[],
  ): Promise<void> {
    return this.writer(id, 'set tags', 421).setTags(id, expected, tags, collection, remove);
  }
  async lookupStreams(q: LookupQuery): Promise<StreamDescriptor[]> {
    const out = await this.live.lookupStreams(q);
    for (const m of this.mounts.values()) {
      for (const s of await m.db.lookupStreams(q)) if (this.owner.get(s.id) === m) out.push(s);
    }
    return out;
  }
  async listCollections(prefix: string): Promise<string[]> {
    const all = new Set(await this.live.listCollections(prefix));
    for (const m of this.mounts.values()) {
      for (const s of await m.db.lookupStreams({ collection: prefix, isPrefix: true }))
        if (this.owner.get(s.id) === m) all.add(s.collection);
    }
    return [...all].sort();
  }
  async metadataUsage(prefix: string): Promise<{ tags: Record<string, number>; annotations: Record<string, number> }> {
    const u = await this.live.metadataUsage(prefix);
    const tags = { ...u.tags };
    const annotations = { ...u.annotations };
    for (const m of this.mounts.values()) {
      for (const s of await m.db.lookupStreams({ collection: prefix, isPrefix: true })) {
        if (this.owner.get(s.id) !== m) continue;
        for (const k of Object.keys(s.tags)) if (s.tags[k] !== '') tags[k] = (tags[k] ?? 0) + 1;
        for (const k of Object.keys(s.annotations)) annotations[k] = (annotations[k] ?? 0) + 1;
      }
    }
    return { tags, annotations };
  }
  sql(query: string, params: readonly string[]): Promise<Record<string, unknown>[]> {
    return this.live.sql(query, params);
  }
  async insert(id: StreamId, batch: PointBatch, policy: MergePolicy): Promise<Version> {
    return this.writer(id, 'insert', 403).insert(id, batch, policy);
  }
  rawValues(id: StreamId, start: bigint, end: bigint, version: number): AsyncIterable<Versioned<PointBatch>> {
    return this.reader(id).rawValues(id, start, end, version);
  }
  alignedWindows(
    id: StreamId,
    start: bigint,
    end: bigint,
    pw: number,
    version: number,
  ): Promise<Versioned<StatPoint[]>> {
    return this.reader(id).alignedWindows(id, start, end, pw, version);
  }
  windows(
    id: StreamId,
    start: bigint,
    end: bigint,
    width: bigint,
    depth: number,
    version: number,
  ): Promise<Versioned<StatPoint[]>> {
    return this.reader(id).windows(id, start, end, width, depth, version);
  }
  nearest(
    id: StreamId,
    time: bigint,
    backward: boolean,
    version: number,
  ): Promise<Versioned<{ time: bigint; value: number }> | null> {
    return this.reader(id).nearest(id, time, backward, version);
  }
  changes(
    id: StreamId,
    from: number,
    to: number,
    resolution: number,
  ): Promise<Versioned<{ start: bigint; end: bigint }[]>> {
    return this.reader(id).changes(id, from, to, resolution);
  }
  async delete(id: StreamId, start: bigint, end: bigint): Promise<Version> {
    return this.writer(id, 'delete', 403).delete(id, start, end);
  }
  flush(id: StreamId): Promise<Version> {
    return this.owner.has(id)
      ? this.reader(id)
          .streamInfo(id)
          .then((i) => i.version)
      : this.live.flush(id);
  }
  async obliterate(id: StreamId): Promise<void> {
    return this.writer(id, 'obliterate', 403).obliterate(id);
  }
  subscribe(ids: readonly StreamId[], signal: AbortSignal): AsyncIterable<{ id: StreamId; batch: PointBatch }> {
    for (const id of ids) this.writer(id, 'subscribe (an archive never changes)', 421);
    return this.live.subscribe(ids, signal);
  }
  /** Close the archives (the live backend is its owner's to close). */
  async close(): Promise<void> {
    for (const name of [...this.mounts.keys()]) await this.detach(name);
  }
}

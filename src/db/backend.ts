/**
 * The Backend: every operation the user API (src/client) needs, transport-agnostic, one method per
 * BTrDB v5 RPC. `Database` (embedded, this folder) and the remote gRPC client implement it, and the
 * conformance suite (test/conformance) runs the same tests against both.
 *
 * Times are ns (bigint), ranges half-open [start, end). Version 0 = latest. Errors are DbError with
 * BTrDB codes (src/core/errors.ts).
 */
import type { StatPoint } from '../core/stat.ts';
import type { MergePolicy, PointBatch, StreamDescriptor, StreamId, Version } from '../core/types.ts';

export interface ServerInfo {
  readonly majorVersion: number;
  readonly minorVersion: number;
  readonly build: string;
  readonly proxyEndpoints: readonly string[];
}

/** A tag or annotation filter: a string value must match; null means "the key is present". */
export type MetaFilter = Readonly<Record<string, string | null>>;

export interface LookupQuery {
  readonly collection: string;
  readonly isPrefix: boolean;
  readonly tags?: MetaFilter;
  readonly annotations?: MetaFilter;
}

export interface CreateRequest {
  readonly id: StreamId;
  readonly collection: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Store NaN/±Inf instead of rejecting them (425). Not visible over the BTrDB wire. */
  readonly allowNonFinite?: boolean;
}

export interface Versioned<T> {
  readonly value: T;
  /** The version the answer was read at. */
  readonly version: Version;
}

export interface Backend {
  info(): Promise<ServerInfo>;

  create(req: CreateRequest): Promise<StreamDescriptor>;
  /** Descriptor and current data version (acknowledged, unflushed data included). 404 if unknown. */
  streamInfo(id: StreamId): Promise<{ descriptor: StreamDescriptor; version: Version }>;
  /** Upsert (string) or remove (null) annotations, and remove `removals`; 423 on a stale property version. */
  setAnnotations(
    id: StreamId,
    expectedPropertyVersion: number,
    changes: MetaFilter,
    removals: readonly string[],
  ): Promise<void>;
  /** Upsert (string) or remove (null) tags, optionally move collection ('' = unchanged); 423 on a stale version. */
  setTags(
    id: StreamId,
    expectedPropertyVersion: number,
    tags: MetaFilter,
    collection: string,
    remove: readonly string[],
  ): Promise<void>;
  lookupStreams(q: LookupQuery): Promise<StreamDescriptor[]>;
  listCollections(prefix: string): Promise<string[]>;
  metadataUsage(prefix: string): Promise<{ tags: Record<string, number>; annotations: Record<string, number> }>;
  /** Read-only SQL over the `streams` table; rows as JSON objects. 441 if rejected. */
  sql(query: string, params: readonly string[]): Promise<Record<string, unknown>[]>;

  /** Insert points (any order) under a merge policy; resolves once durable. */
  insert(id: StreamId, batch: PointBatch, policy: MergePolicy): Promise<Version>;
  /** Raw points in [start, end), ascending, in chunks. */
  rawValues(id: StreamId, start: bigint, end: bigint, version: number): AsyncIterable<Versioned<PointBatch>>;
  alignedWindows(
    id: StreamId,
    start: bigint,
    end: bigint,
    pointWidth: number,
    version: number,
  ): Promise<Versioned<StatPoint[]>>;
  windows(
    id: StreamId,
    start: bigint,
    end: bigint,
    width: bigint,
    depth: number,
    version: number,
  ): Promise<Versioned<StatPoint[]>>;
  /** Forward: first point ≥ time; backward: last point < time; null when there is none (BTrDB 401). */
  nearest(
    id: StreamId,
    time: bigint,
    backward: boolean,
    version: number,
  ): Promise<Versioned<{ time: bigint; value: number }> | null>;
  changes(
    id: StreamId,
    fromVersion: number,
    toVersion: number,
    resolution: number,
  ): Promise<Versioned<{ start: bigint; end: bigint }[]>>;
  delete(id: StreamId, start: bigint, end: bigint): Promise<Version>;
  flush(id: StreamId): Promise<Version>;
  obliterate(id: StreamId): Promise<void>;
  /** Live push of newly inserted points of the given streams until the signal aborts. */
  subscribe(ids: readonly StreamId[], signal: AbortSignal): AsyncIterable<{ id: StreamId; batch: PointBatch }>;

  close(): Promise<void>;
}

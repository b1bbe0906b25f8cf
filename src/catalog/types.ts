/**
 * The catalog: what a stream *is* (collection, tags, annotations, property version) as opposed to
 * what it holds (the engine's points). `Catalog` is the seam: the embedded implementation is PGlite
 * (`openPgliteCatalog`), and a PostgreSQL server can replace it without the db layer noticing.
 *
 * Every method validates its input and throws `DbError` with the BTrDB code (guide §3.1, §4.11):
 * 404 unknown/obliterated stream, 407 collection, 408 tag/annotation key, 409 value, 417 live uuid,
 * 418 ambiguous collection + tag set, 423 property-version mismatch, 429 obliterated uuid, 441 SQL.
 *
 * ## Crash consistency with the engine (ADR 0003)
 * `create` and `obliterate` are each ONE SQL transaction and are durable against a process crash
 * (kill -9) when their promise resolves: a restart sees either all of the change or none of it.
 * (PGlite's file system has no fsync, so a power loss / OS crash is not covered: see
 * docs/format/catalog.md. A PostgreSQL-server catalog would cover it.) The db layer orders the two
 * stores around that:
 * - create: `catalog.create` first, then the engine. A crash in between leaves a live, empty stream
 *   that the engine creates on open (`liveIds()` lists what to check).
 * - obliterate: `catalog.obliterate` first (the uuid is remembered for 429 from then on), then the
 *   engine erases the data. On open the engine erases every stream for which `get(id)` is undefined
 *   (`isObliterated(id)` tells an unfinished obliterate from an unknown stream).
 */
import type { StreamId } from '../core/types.ts';

/** The tag keys BTrDB knows (guide §4.11); any other tag key is 408. */
export const TAG_KEYS = ['name', 'unit', 'ingress', 'distiller'] as const;
export type TagKey = (typeof TAG_KEYS)[number];

/** A live stream's metadata, as StreamInfo / LookupStreams return it. */
export interface StreamMeta {
  readonly id: StreamId;
  /** 1–255 UTF-8 bytes, no NUL. "/" is a convention only. */
  readonly collection: string;
  /** Always `name`, `unit`, `ingress` ('' when unset); `distiller` only when set. */
  readonly tags: Readonly<Record<string, string>>;
  /** Free-form key → value; `{}` when there are none. */
  readonly annotations: Readonly<Record<string, string>>;
  /** 1 after create; +1 per successful setTags / setAnnotations. Never changed by data writes. */
  readonly propertyVersion: number;
}

/** What `create` needs. Missing name/unit/ingress tags read back as ''. */
export interface NewStream {
  readonly id: StreamId;
  readonly collection: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * A LookupStreams query. Filters are ANDed; a `null` value means "the key is present" (with any
 * value), a string means "present with exactly this value". `collection` is an exact match, or a
 * plain string prefix when `isPrefix` ('' = every collection).
 */
export interface LookupQuery {
  readonly collection: string;
  readonly isPrefix: boolean;
  readonly tags?: Readonly<Record<string, string | null>> | undefined;
  readonly annotations?: Readonly<Record<string, string | null>> | undefined;
}

/** GetMetadataUsage: per key, how many live streams under the prefix carry it. */
export interface MetadataUsage {
  readonly tags: Record<string, number>;
  readonly annotations: Record<string, number>;
}

export interface SqlOptions {
  /** Wall-clock limit for the query once it runs, ms (default {@link DEFAULT_SQL_TIMEOUT_MS}). */
  readonly timeoutMs?: number | undefined;
  /** More result rows than this is 441 (default {@link DEFAULT_SQL_MAX_ROWS}). */
  readonly maxRows?: number | undefined;
}

/** One result row of `sql`, keyed by output column name; values are plain JSON (hstore → object). */
export type SqlRow = Record<string, unknown>;

export const DEFAULT_SQL_TIMEOUT_MS = 2000;
export const DEFAULT_SQL_MAX_ROWS = 1_000_000;

export interface Catalog {
  /**
   * Create a stream at property version 1. 407/408/409 on bad input, 417 if the uuid is live,
   * 429 if it was obliterated, 418 if another live stream has the same collection + tag set.
   * One SQL transaction, durable when it resolves.
   */
  create(meta: NewStream): Promise<StreamMeta>;

  /**
   * Create many streams in one transaction, all or nothing (importers, benchmarks). Same checks as
   * `create`; the first failure rejects the whole batch. Returns how many were created.
   */
  createMany(metas: readonly NewStream[]): Promise<number>;

  /** The live stream's metadata; undefined when unknown or obliterated. */
  get(id: StreamId): Promise<StreamMeta | undefined>;

  /** True when `id` was obliterated (it can never be created again: 429). */
  isObliterated(id: StreamId): Promise<boolean>;

  /**
   * Upsert annotations (`changes`: string = set, null = remove) and delete `removals` (missing keys
   * are ignored). 408/409 on bad keys/values, 404 unknown stream, 423 when
   * `expectedPropertyVersion` is not the current one. Bumps the property version by one even when
   * nothing changed. Returns the new metadata.
   */
  setAnnotations(
    id: StreamId,
    expectedPropertyVersion: number,
    changes: Readonly<Record<string, string | null>>,
    removals: readonly string[],
  ): Promise<StreamMeta>;

  /**
   * Upsert tags (null = remove: name/unit/ingress become '', distiller disappears), move to
   * `collection` ('' = unchanged) and delete the `remove` keys. 407/408/409, 404, 423, 418 (the
   * result collides with another live stream). Bumps the property version by one.
   */
  setTags(
    id: StreamId,
    expectedPropertyVersion: number,
    tags: Readonly<Record<string, string | null>>,
    collection: string,
    remove: readonly string[],
  ): Promise<StreamMeta>;

  /**
   * Forget the stream's metadata and remember its uuid forever (429 on a later create). 404 when it
   * is unknown or already obliterated. One SQL transaction, durable when it resolves.
   */
  obliterate(id: StreamId): Promise<void>;

  /** Live streams matching `query`, sorted by collection, then name, then uuid (byte order). */
  lookup(query: LookupQuery): Promise<StreamMeta[]>;

  /** Distinct collections starting with `prefix` that hold at least one live stream, sorted. */
  listCollections(prefix: string): Promise<string[]>;

  /** Tag and annotation key usage over the live streams whose collection starts with `prefix`. */
  metadataUsage(prefix: string): Promise<MetadataUsage>;

  /**
   * Run one read-only SQL query over the `streams` table (guide §4.12) with `$1…` bound to
   * `params`, in a sandbox: anything but a single SELECT over `streams`, or a query that runs past
   * the time limit, is DbError 441. See docs/format/catalog.md for the sandbox's design.
   */
  sql(query: string, params: readonly string[], opts?: SqlOptions): Promise<SqlRow[]>;

  /** Number of live streams. */
  count(): Promise<number>;

  /** Every live stream's uuid (unordered), for the db layer's open-time reconciliation. */
  liveIds(): Promise<StreamId[]>;

  /** Release the database and the SQL sandbox. Further calls reject. */
  close(): Promise<void>;
}

/**
 * A handle on one stream (btrdb-python `Stream`). Creating a handle does not touch the server;
 * metadata (collection, tags, annotations, property version) is read once and cached until
 * `refresh()`; data reads always go to the server.
 *
 * Times are accepted as {@link TimeInput} (bigint ns, safe-integer ns, ISO-8601, Date) and always
 * returned as bigint ns. Ranges are half-open [start, end). `version` 0 (the default) reads the
 * latest data, including acknowledged but unflushed points; any other number reads exactly that
 * version (450 if it does not exist). Errors are DbError with BTrDB codes.
 */
import type { Table } from 'apache-arrow';
import { DbError, isDbError } from '../core/errors.ts';
import { currentlyAsNs, MAX_INSERT_TIME, MIN_TIME, toNanos } from '../core/time.ts';
import type { MergePolicy, StreamDescriptor, StreamId, Version } from '../core/types.ts';
import { parseStreamId } from '../core/uuid.ts';
import type { Backend } from '../db/backend.ts';
import { decodeAnnotation } from './annotations.ts';
import { checkMergePolicy, type PointsInput, splitBatch, toPointBatch } from './insert-data.ts';
import type { PointAt, RawChunk, RawResult, StatPoint, StatResult } from './points.ts';
import { type UpdateOptions, updateStream } from './stream-update.ts';
import type { TimeInput } from './time.ts';
import { arrowToPoints, rawToArrow, statsToArrow } from './transformers/arrow.ts';

export interface VersionOption {
  /** Stream version to read; 0 (default) = latest. */
  readonly version?: number;
}

export interface CountOptions extends VersionOption {
  /** Default MINIMUM_TIME (−2^60). */
  readonly start?: TimeInput;
  /** Default MAXIMUM_TIME ((48 << 56) − 1). */
  readonly end?: TimeInput;
  /** Largest point width to count at (default 62); see {@link Stream.count}. */
  readonly pointWidth?: number;
  /** Count exactly with one window of width end − start (default false). */
  readonly precise?: boolean;
}

export interface NearestOptions extends VersionOption {
  /** false (default): first point at or after `time`; true: last point strictly before it. */
  readonly backward?: boolean;
}

export interface WindowsOptions extends VersionOption {
  /** Deprecated precision hint (btrdb-python); only 0 is meaningful. Default 0. */
  readonly depth?: number;
}

export interface InsertOptions {
  /** What to do with a point whose time is already stored: 'never' (default), 'equal', 'retain', 'replace'. */
  readonly mergePolicy?: MergePolicy;
}

export interface ArrowValuesOptions extends VersionOption {
  /** Add a `flags` column when the points carry quality flags (default false). */
  readonly includeFlags?: boolean;
}

const checkVersion = (v: number | undefined): number => {
  const version = v ?? 0;
  if (!Number.isSafeInteger(version) || version < 0) throw new DbError(450, `invalid version ${version}`);
  return version;
};

const toWidth = (w: bigint | number): bigint => {
  if (typeof w === 'bigint') return w;
  if (!Number.isSafeInteger(w)) throw new DbError(415, `window width ${w} is not a whole number of ns`);
  return BigInt(w);
};

/** ⌊log2 x⌋ for x > 0, exactly. */
const floorLog2 = (x: bigint): number => x.toString(2).length - 1;

export class Stream {
  /** The stream's uuid, lower-case and hyphenated. */
  readonly uuid: StreamId;
  readonly #backend: Backend;
  #meta: StreamDescriptor | undefined;

  /** A handle on stream `uuid` (438 if not a uuid); pass `descriptor` when it is already known. */
  constructor(backend: Backend, uuid: string, descriptor?: StreamDescriptor) {
    this.uuid = parseStreamId(uuid);
    this.#backend = backend;
    this.#meta = descriptor;
  }

  /** The cached descriptor, if one has been read (no server round trip). */
  get descriptor(): StreamDescriptor | undefined {
    return this.#meta;
  }

  /** Re-read the metadata from the server (404 if the stream does not exist). */
  async refresh(): Promise<this> {
    this.#meta = (await this.#backend.streamInfo(this.uuid)).descriptor;
    return this;
  }

  async #described(): Promise<StreamDescriptor> {
    if (this.#meta === undefined) await this.refresh();
    return this.#meta!;
  }

  /** True if the stream exists (false after obliterate or for an unknown uuid). */
  async exists(): Promise<boolean> {
    try {
      await this.refresh();
      return true;
    } catch (e) {
      if (isDbError(e, 404)) return false;
      throw e;
    }
  }

  /** The `name` tag. */
  async name(): Promise<string> {
    return (await this.#described()).tags.name ?? '';
  }

  /** The `unit` tag. */
  async unit(): Promise<string> {
    return (await this.#described()).tags.unit ?? '';
  }

  async collection(): Promise<string> {
    return (await this.#described()).collection;
  }

  /** The tags: always `name`, `unit`, `ingress` ('' when unset), `distiller` when set. */
  async tags(): Promise<Record<string, string>> {
    return { ...(await this.#described()).tags };
  }

  /** The annotations as stored (strings). See `decodedAnnotations` for btrdb-python's JSON decoding. */
  async annotations(): Promise<Record<string, string>> {
    return { ...(await this.#described()).annotations };
  }

  /** The annotations JSON-decoded like btrdb-python (a value that is not JSON stays a string). */
  async decodedAnnotations(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries((await this.#described()).annotations)) out[k] = decodeAnnotation(v);
    return out;
  }

  /** The metadata version: 1 after create, raised by every update (not by data changes). */
  async propertyVersion(): Promise<number> {
    return (await this.#described()).propertyVersion;
  }

  /** The current data version (never cached). */
  async version(): Promise<Version> {
    return (await this.#backend.streamInfo(this.uuid)).version;
  }

  /**
   * Number of points in [start, end). By default it sums aligned windows at point width
   * pw = min(pointWidth, ⌊log2(end − start)⌋ − 1) — cheap, but start and end are floored to
   * multiples of 2^pw, so the edges are approximate; with the defaults it covers [−2^60, 2^61),
   * exactly as btrdb-python does. `precise` counts exactly with one window [start, end).
   */
  async count(opts: CountOptions = {}): Promise<number> {
    const start = toNanos(opts.start ?? MIN_TIME);
    const end = toNanos(opts.end ?? MAX_INSERT_TIME);
    const version = checkVersion(opts.version);
    let points: StatPoint[];
    if (opts.precise) {
      points = (await this.#backend.windows(this.uuid, start, end, end - start, 0, version)).value;
    } else {
      const span = floorLog2(end > start ? end - start : 1n);
      const pw = Math.max(0, Math.min(opts.pointWidth ?? 62, span - 1));
      points = (await this.#backend.alignedWindows(this.uuid, start, end, pw, version)).value;
    }
    let n = 0;
    for (const p of points) n += p.count;
    return n;
  }

  /**
   * The nearest point: forward = the first point with t ≥ time; backward = the last point with
   * t < time (strictly). null when there is none (BTrDB 401).
   */
  async nearest(time: TimeInput, opts: NearestOptions = {}): Promise<PointAt | null> {
    try {
      const r = await this.#backend.nearest(
        this.uuid,
        toNanos(time),
        opts.backward ?? false,
        checkVersion(opts.version),
      );
      return r === null ? null : { time: r.value.time, value: r.value.value, version: r.version };
    } catch (e) {
      if (isDbError(e, 401)) return null;
      throw e;
    }
  }

  /** The first point of the stream, or null if it has none. */
  earliest(opts: VersionOption = {}): Promise<PointAt | null> {
    return this.nearest(MIN_TIME, { ...opts, backward: false });
  }

  /** The last point of the stream, or null if it has none. */
  latest(opts: VersionOption = {}): Promise<PointAt | null> {
    return this.nearest(MAX_INSERT_TIME, { ...opts, backward: true });
  }

  /** The last point before now (no future points), or null. */
  current(opts: VersionOption = {}): Promise<PointAt | null> {
    return this.nearest(currentlyAsNs(), { ...opts, backward: true });
  }

  /** Raw points in [start, end), ascending, as a stream of chunks (memory stays bounded). */
  async *values(start: TimeInput, end: TimeInput, opts: VersionOption = {}): AsyncGenerator<RawChunk> {
    const s = toNanos(start);
    const e = toNanos(end);
    for await (const chunk of this.#backend.rawValues(this.uuid, s, e, checkVersion(opts.version))) {
      const { times, values, flags } = chunk.value;
      yield flags === undefined
        ? { times, values, version: chunk.version }
        : { times, values, flags, version: chunk.version };
    }
  }

  /** Raw points in [start, end), ascending, in one set of typed arrays. */
  async valuesArray(start: TimeInput, end: TimeInput, opts: VersionOption = {}): Promise<RawResult> {
    const chunks: RawChunk[] = [];
    for await (const c of this.values(start, end, opts)) chunks.push(c);
    return concatChunks(chunks);
  }

  /**
   * Statistics of the windows [w, w + 2^pointWidth) for w from start to end, both floored to a
   * multiple of 2^pointWidth; windows without points are omitted. pointWidth 0–63 (else 415).
   */
  async alignedWindows(
    start: TimeInput,
    end: TimeInput,
    pointWidth: number,
    opts: VersionOption = {},
  ): Promise<StatResult> {
    if (!Number.isInteger(pointWidth)) throw new DbError(415, `point width ${pointWidth} is not an integer`);
    const r = await this.#backend.alignedWindows(
      this.uuid,
      toNanos(start),
      toNanos(end),
      pointWidth,
      checkVersion(opts.version),
    );
    return { points: r.value, version: r.version };
  }

  /**
   * Statistics of the windows [start + k·width, start + (k+1)·width) that end at or before `end`
   * (a window crossing `end` is dropped); empty windows are included with count 0.
   */
  async windows(
    start: TimeInput,
    end: TimeInput,
    width: bigint | number,
    opts: WindowsOptions = {},
  ): Promise<StatResult> {
    const r = await this.#backend.windows(
      this.uuid,
      toNanos(start),
      toNanos(end),
      toWidth(width),
      opts.depth ?? 0,
      checkVersion(opts.version),
    );
    return { points: r.value, version: r.version };
  }

  /** `valuesArray` as an Arrow table (`time` timestamp[ns, UTC], `value` float64, optional `flags`). */
  async arrowValues(start: TimeInput, end: TimeInput, opts: ArrowValuesOptions = {}): Promise<Table> {
    const r = await this.valuesArray(start, end, opts);
    return rawToArrow(r, { includeFlags: opts.includeFlags ?? false });
  }

  /** `alignedWindows` as an Arrow table in BTrDB's window schema. */
  async arrowAlignedWindows(
    start: TimeInput,
    end: TimeInput,
    pointWidth: number,
    opts: VersionOption = {},
  ): Promise<Table> {
    return statsToArrow((await this.alignedWindows(start, end, pointWidth, opts)).points);
  }

  /** `windows` as an Arrow table in BTrDB's window schema. */
  async arrowWindows(
    start: TimeInput,
    end: TimeInput,
    width: bigint | number,
    opts: WindowsOptions = {},
  ): Promise<Table> {
    return statsToArrow((await this.windows(start, end, width, opts)).points);
  }

  /**
   * Insert points (any order) and return the stream's version afterwards. Accepts typed columns
   * `{times, values, flags?}` or `[time, value]` pairs. Like btrdb-python, more than 50 000 points
   * are sent as several inserts of 50 000 in arrival order: the merge policy still sees the points
   * in that order, but such an insert is NOT atomic — a failure part-way leaves the earlier
   * batches stored. Each batch is validated whole (413 time out of range, 425 NaN/±Inf).
   */
  async insert(data: PointsInput, opts: InsertOptions = {}): Promise<Version> {
    const policy = checkMergePolicy(opts.mergePolicy ?? 'never');
    const batch = toPointBatch(data);
    if (batch.times.length === 0) return this.version();
    let last = 0;
    for (const part of splitBatch(batch)) last = Math.max(last, await this.#backend.insert(this.uuid, part, policy));
    return last as Version;
  }

  /** Insert an Arrow table with `time` (timestamp or int64 ns) and `value` (float) columns; see `insert`. */
  arrowInsert(table: Table, opts: InsertOptions = {}): Promise<Version> {
    return this.insert(arrowToPoints(table), opts);
  }

  /**
   * Update metadata (see {@link UpdateOptions}) guarded by the property version this handle last
   * saw (423 if it is stale: `refresh()` and retry). Returns the new property version.
   */
  async update(opts: UpdateOptions): Promise<number> {
    const seen = await this.#described();
    const reload = async (): Promise<StreamDescriptor> => (await this.refresh()).#meta!;
    this.#meta = await updateStream(this.#backend, this.uuid, seen, opts, reload);
    return this.#meta.propertyVersion;
  }

  /** Delete the points in [start, end); older versions keep them. Returns the new version. */
  delete(start: TimeInput, end: TimeInput): Promise<Version> {
    return this.#backend.delete(this.uuid, toNanos(start), toNanos(end));
  }

  /** Commit buffered points to the tree (reads see them already). Returns the version. */
  flush(): Promise<Version> {
    return this.#backend.flush(this.uuid);
  }

  /** Erase the stream: data, versions and metadata. Its uuid can never be used again (429). */
  async obliterate(): Promise<void> {
    await this.#backend.obliterate(this.uuid);
    this.#meta = undefined;
  }

  /**
   * The time ranges whose data differs between `fromVersion` (exclusive) and `toVersion`
   * (0 = latest), at a granularity of 2^resolution ns.
   */
  async changes(
    fromVersion: number,
    toVersion = 0,
    resolution = 0,
  ): Promise<{ ranges: { start: bigint; end: bigint }[]; version: Version }> {
    const r = await this.#backend.changes(this.uuid, fromVersion, toVersion, resolution);
    return { ranges: r.value, version: r.version };
  }

  toString(): string {
    return `Stream(${this.uuid})`;
  }
}

/** Concatenate raw chunks into one result (flags kept when any chunk has them; 0 elsewhere). */
export function concatChunks(chunks: readonly RawChunk[]): RawResult {
  if (chunks.length === 1) return chunks[0]!;
  let n = 0;
  let withFlags = false;
  for (const c of chunks) {
    n += c.times.length;
    if (c.flags !== undefined) withFlags = true;
  }
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  const flags = withFlags ? new Uint32Array(n) : undefined;
  let at = 0;
  for (const c of chunks) {
    times.set(c.times, at);
    values.set(c.values, at);
    if (flags !== undefined && c.flags !== undefined) flags.set(c.flags, at);
    at += c.times.length;
  }
  const version = chunks.length === 0 ? (0 as Version) : chunks[chunks.length - 1]!.version;
  return flags === undefined ? { times, values, version } : { times, values, flags, version };
}

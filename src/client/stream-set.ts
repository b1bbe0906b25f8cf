/**
 * A set of streams queried together (btrdb-python `StreamSet`). It is iterable over its Streams
 * and carries query settings: a time range [start, end) (default [MINIMUM_TIME, MAXIMUM_TIME)), an
 * optional sampling frequency for snapped tables, and a window query (`alignedWindows(pw)` or
 * `windows(width)`) that turns its reads from raw points (`StreamSet<'raw'>`) into window
 * statistics (`StreamSet<'stat'>`).
 *
 * Versions: the first read pins every member to its current version (or call `pinVersions`), and
 * every later read of this set uses the pinned versions, so all answers come from one snapshot.
 * Writes through the set do not move the pins; call `pinVersions()` again to see them. `filter`
 * and the window methods return new sets that copy the pins.
 */
import type { Table } from 'apache-arrow';
import { DbError } from '../core/errors.ts';
import { currentlyAsNs, MAX_INSERT_TIME, MIN_TIME, toNanos } from '../core/time.ts';
import type { StreamId, Version } from '../core/types.ts';
import type { Frame } from './frame.ts';
import { checkMergePolicy, type PointsInput } from './insert-data.ts';
import { gatherFlags, gatherFloat, type JoinIndex, outerJoin, snapJoin, snapPeriod, snapReach } from './join.ts';
import { type PointAt, type StatField, statColumns } from './points.ts';
import { type SetTable, splitSetTable } from './set-table.ts';
import type { InsertOptions, Stream } from './stream.ts';
import { type MemberFilter, memberMatcher, selectsMembers } from './stream-set-filter.ts';
import {
  aggFields,
  columnLabel,
  type FrameOptions,
  type RawSeries,
  rawFrame,
  type StatSeries,
  statFrame,
} from './stream-set-frame.ts';
import type { TimeInput } from './time.ts';
import { frameToArrow } from './transformers/arrow.ts';
import { type CsvOptions, frameToCsv } from './transformers/csv.ts';
import { writeCsvFile } from './transformers/csv-file.ts';
import { type FrameRecord, frameToRecords } from './transformers/records.ts';
import { type Series, toSeriesRecord } from './transformers/series.ts';
import { frameToText } from './transformers/text-table.ts';

export type QueryKind = 'raw' | 'stat';
/** What `values()` answers per member: raw points, or window statistics. */
export type SeriesOf<K extends QueryKind> = K extends 'stat' ? StatSeries : RawSeries;

type WindowSpec =
  | { readonly kind: 'aligned'; readonly pointWidth: number }
  | { readonly kind: 'windows'; readonly width: bigint; readonly depth: number };

interface Settings {
  readonly start?: bigint;
  readonly end?: bigint;
  readonly samplingFrequency?: number;
  readonly window?: WindowSpec;
}

export interface FilterOptions extends MemberFilter {
  /** Inclusive start of every query. */
  readonly start?: TimeInput;
  /** Exclusive end of every query. */
  readonly end?: TimeInput;
  /** Hz; rows and tables snap to the grid start + k·⌊1e9/Hz⌋ ns (0 = no snapping). */
  readonly samplingFrequency?: number;
}

/** Rows aligned on time: one Float64Array per member (NaN where it has no point), flags when present. */
export interface JoinedRows {
  readonly times: BigInt64Array;
  readonly columns: Float64Array[];
  readonly flags: (Uint32Array | undefined)[];
}

export class StreamSet<K extends QueryKind = 'raw'> implements Iterable<Stream> {
  readonly #streams: readonly Stream[];
  #settings: Settings = {};
  #pins: Map<StreamId, Version> | undefined;

  constructor(streams: Iterable<Stream>) {
    this.#streams = [...streams];
  }

  #derive<K2 extends QueryKind>(streams: readonly Stream[], settings: Settings): StreamSet<K2> {
    const s = new StreamSet<K2>(streams);
    s.#settings = settings;
    if (this.#pins !== undefined)
      s.#pins = new Map([...this.#pins].filter(([id]) => streams.some((m) => m.uuid === id)));
    return s;
  }

  [Symbol.iterator](): Iterator<Stream> {
    return this.#streams[Symbol.iterator]();
  }

  /** The members, in order. */
  get streams(): readonly Stream[] {
    return this.#streams;
  }

  get length(): number {
    return this.#streams.length;
  }

  /** A copy with the same members, settings and pins. */
  clone(): StreamSet<K> {
    return this.#derive<K>(this.#streams, this.#settings);
  }

  #start(): bigint {
    return this.#settings.start ?? MIN_TIME;
  }

  #end(): bigint {
    return this.#settings.end ?? MAX_INSERT_TIME;
  }

  /**
   * A new set narrowed by `opts` (see {@link FilterOptions} and stream-set-filter.ts). Member
   * filters need the members' metadata, read once if not cached. 413 if start ≥ end.
   */
  async filter(opts: FilterOptions): Promise<StreamSet<K>> {
    const settings: { -readonly [P in keyof Settings]: Settings[P] } = { ...this.#settings };
    if (opts.start !== undefined) settings.start = toNanos(opts.start);
    if (opts.end !== undefined) settings.end = toNanos(opts.end);
    if (settings.start !== undefined && settings.end !== undefined && settings.start >= settings.end) {
      throw new DbError(413, `filter: start ${settings.start} must be before end ${settings.end}`);
    }
    if (opts.samplingFrequency !== undefined) {
      if (opts.samplingFrequency === 0) delete settings.samplingFrequency;
      else {
        snapPeriod(opts.samplingFrequency);
        settings.samplingFrequency = opts.samplingFrequency;
      }
    }
    let members = this.#streams;
    if (selectsMembers(opts)) {
      await this.#loadMetadata();
      const match = memberMatcher(opts);
      members = members.filter((s) => match(s.descriptor!));
    }
    return this.#derive<K>(members, settings);
  }

  /** Read window statistics of width 2^pointWidth (see `Stream.alignedWindows`) instead of raw points. */
  alignedWindows(pointWidth: number): StreamSet<'stat'> {
    if (!Number.isInteger(pointWidth)) throw new DbError(415, `point width ${pointWidth} is not an integer`);
    return this.#derive<'stat'>(this.#streams, { ...this.#settings, window: { kind: 'aligned', pointWidth } });
  }

  /** Read windows of `width` ns from start (see `Stream.windows`) instead of raw points. */
  windows(width: bigint | number, depth = 0): StreamSet<'stat'> {
    const w = typeof width === 'bigint' ? width : BigInt(toNanos(width));
    return this.#derive<'stat'>(this.#streams, { ...this.#settings, window: { kind: 'windows', width: w, depth } });
  }

  async #loadMetadata(): Promise<void> {
    await Promise.all(this.#streams.map((s) => (s.descriptor === undefined ? s.refresh() : s)));
  }

  /**
   * Pin the versions later reads use: the given ones (one per member, by uuid) or, without an
   * argument, each member's current version. Returns this set.
   */
  async pinVersions(versions?: ReadonlyMap<string, number> | Readonly<Record<string, number>>): Promise<this> {
    if (versions === undefined) {
      this.#pins = new Map(await Promise.all(this.#streams.map(async (s) => [s.uuid, await s.version()] as const)));
      return this;
    }
    const given = versions instanceof Map ? versions : new Map(Object.entries(versions));
    const pins = new Map<StreamId, Version>();
    for (const [k, v] of given) {
      const member = this.#streams.find((s) => s.uuid === k.toLowerCase());
      if (member === undefined) throw new DbError(438, `pinVersions: ${k} is not a member of this set`);
      pins.set(member.uuid, v as Version);
    }
    for (const s of this.#streams)
      if (!pins.has(s.uuid)) throw new DbError(438, `pinVersions: no version for ${s.uuid}`);
    this.#pins = pins;
    return this;
  }

  /** The pinned versions, or (if not pinned yet) the members' current versions — without pinning. */
  async versions(): Promise<Map<StreamId, Version>> {
    if (this.#pins !== undefined) return new Map(this.#pins);
    return new Map(await Promise.all(this.#streams.map(async (s) => [s.uuid, await s.version()] as const)));
  }

  async #pinned(): Promise<Map<StreamId, Version>> {
    if (this.#pins === undefined) await this.pinVersions();
    return this.#pins!;
  }

  /** Total points of all members in the range (see `Stream.count` for `precise`). */
  async count(opts: { precise?: boolean } = {}): Promise<number> {
    const pins = await this.#pinned();
    const counts = await Promise.all(
      this.#streams.map((s) =>
        s.count({ start: this.#start(), end: this.#end(), version: pins.get(s.uuid)!, precise: opts.precise ?? false }),
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Each member's nearest point to `time` at its pinned version, kept only if it lies in the range. */
  async #nearestEach(time: bigint, backward: boolean): Promise<(PointAt | null)[]> {
    const pins = await this.#pinned();
    const [start, end] = [this.#start(), this.#end()];
    return Promise.all(
      this.#streams.map(async (s) => {
        const p = await s.nearest(time, { version: pins.get(s.uuid)!, backward });
        return p !== null && p.time >= start && p.time < end ? p : null;
      }),
    );
  }

  /** Each member's first point in the range, or null. */
  earliest(): Promise<(PointAt | null)[]> {
    return this.#nearestEach(this.#start(), false);
  }

  /** Each member's last point in the range, or null. */
  latest(): Promise<(PointAt | null)[]> {
    return this.#nearestEach(this.#end(), true);
  }

  /** Each member's last point before now (and in the range), or null. 413 if now is outside the range. */
  async current(): Promise<(PointAt | null)[]> {
    const now = currentlyAsNs();
    if (now < this.#start() || now > this.#end()) throw new DbError(413, 'current time is outside the filtered range');
    return this.#nearestEach(now, true);
  }

  /**
   * Insert into several members. `data` is either a SetTable (shared times, one column per member;
   * NaN cells are skipped) or a map from uuid to that stream's points. Each stream's insert
   * follows `Stream.insert` (batches of 50 000, not atomic); the streams are written one after
   * another. Returns each written stream's new version.
   */
  async insert(
    data: SetTable | ReadonlyMap<string, PointsInput>,
    opts: InsertOptions = {},
  ): Promise<Map<StreamId, Version>> {
    checkMergePolicy(opts.mergePolicy ?? 'never');
    const out = new Map<StreamId, Version>();
    const perStream = data instanceof Map ? data : splitSetTable(data as SetTable, this.#streams);
    for (const [id, points] of perStream) {
      const member = this.#streams.find((s) => s.uuid === id.toLowerCase());
      if (member === undefined) throw new DbError(438, `insert: ${id} is not a member of this set`);
      out.set(member.uuid, await member.insert(points, opts));
    }
    return out;
  }

  async #raw(start: bigint, end: bigint): Promise<RawSeries[]> {
    const pins = await this.#pinned();
    return Promise.all(
      this.#streams.map(async (stream) => ({
        stream,
        ...(await stream.valuesArray(start, end, { version: pins.get(stream.uuid)! })),
      })),
    );
  }

  async #stats(spec: WindowSpec): Promise<StatSeries[]> {
    const pins = await this.#pinned();
    return Promise.all(
      this.#streams.map(async (stream) => {
        const version = pins.get(stream.uuid)!;
        const r =
          spec.kind === 'aligned'
            ? await stream.alignedWindows(this.#start(), this.#end(), spec.pointWidth, { version })
            : await stream.windows(this.#start(), this.#end(), spec.width, { depth: spec.depth, version });
        return { stream, version: r.version, ...statColumns(r.points) };
      }),
    );
  }

  /** Per member, in order: its raw points (or window statistics after a window method) in the range. */
  async values(): Promise<SeriesOf<K>[]> {
    const w = this.#settings.window;
    const out = w === undefined ? await this.#raw(this.#start(), this.#end()) : await this.#stats(w);
    return out as SeriesOf<K>[];
  }

  /** Raw reads joined on time (snapped when a sampling frequency is set). */
  async #rawJoined(): Promise<{ series: RawSeries[]; join: JoinIndex }> {
    const hz = this.#settings.samplingFrequency;
    if (hz === undefined) {
      const series = await this.#raw(this.#start(), this.#end());
      return { series, join: outerJoin(series.map((s) => s.times)) };
    }
    const period = snapPeriod(hz);
    const start = this.#start();
    // read from as far before start as a point can lie and still snap to start (bigints: no Math.max)
    let from = start - snapReach(period);
    if (from < MIN_TIME) from = MIN_TIME;
    const series = await this.#raw(from, this.#end());
    return {
      series,
      join: snapJoin(
        series.map((s) => s.times),
        start,
        this.#end(),
        period,
      ),
    };
  }

  /**
   * Members aligned on time: one row per time any member has a point (see join.ts for duplicate
   * times and for snapping when a sampling frequency is set); NaN where a member has none. After a
   * window method, rows are windows and `agg` picks the statistic (default 'mean').
   */
  async rows(opts: { agg?: StatField } = {}): Promise<JoinedRows> {
    const w = this.#settings.window;
    if (w !== undefined) {
      const [field] = aggFields(opts.agg ?? 'mean');
      const series = await this.#stats(w);
      const join = outerJoin(series.map((s) => s.times));
      return {
        times: join.times,
        columns: series.map((s, i) => gatherFloat(s[field!], join.index[i]!)),
        flags: series.map(() => undefined),
      };
    }
    const { series, join } = await this.#rawJoined();
    return {
      times: join.times,
      columns: series.map((s, i) => gatherFloat(s.values, join.index[i]!)),
      flags: series.map((s, i) => (s.flags === undefined ? undefined : gatherFlags(s.flags, join.index[i]!))),
    };
  }

  /** The set as a Frame (time + labelled columns), the input of every tabular transformer. */
  async frame(opts: FrameOptions = {}): Promise<Frame> {
    if (opts.columnName !== 'uuid') await this.#loadMetadata();
    const labels = this.#streams.map((s) => columnLabel(s, opts.columnName));
    const w = this.#settings.window;
    if (w !== undefined) return statFrame(await this.#stats(w), labels, opts.agg);
    const { series, join } = await this.#rawJoined();
    return rawFrame(series, join, labels, opts.includeFlags ?? false);
  }

  /** Arrow table: `time` timestamp[ns, UTC] + one column per member (or per statistic). */
  async toArrow(opts: FrameOptions = {}): Promise<Table> {
    return frameToArrow(await this.frame(opts));
  }

  /** btrdb-python `arrow_values`: the joined table with columns named by uuid. */
  arrowValues(): Promise<Table> {
    return this.toArrow({ columnName: 'uuid' });
  }

  /** CSV text (see transformers/csv.ts for the format). */
  async toCsv(opts: FrameOptions & CsvOptions = {}): Promise<string> {
    return frameToCsv(await this.frame(opts), opts);
  }

  /** Write the CSV to a file, row by row. */
  async writeCsv(path: string, opts: FrameOptions & CsvOptions = {}): Promise<void> {
    await writeCsvFile(path, await this.frame(opts), opts);
  }

  /** One object per row: `time` plus one key per column (null where missing); btrdb-python `to_dict`. */
  async toRecords(opts: FrameOptions = {}): Promise<FrameRecord[]> {
    return frameToRecords(await this.frame(opts));
  }

  /** A printable fixed-width table; btrdb-python `to_table`. */
  async toTextTable(opts: FrameOptions & { time?: 'ns' | 'iso' } = {}): Promise<string> {
    return frameToText(await this.frame(opts), opts);
  }

  /** Per member, unjoined: label → {times, values (or the `agg` statistic), flags?}; btrdb-python `to_series`. */
  async toSeries(opts: Omit<FrameOptions, 'agg'> & { agg?: StatField } = {}): Promise<Record<string, Series>> {
    if (opts.columnName !== 'uuid') await this.#loadMetadata();
    const arrays = await this.toArrays(opts);
    return toSeriesRecord(
      arrays.map((series, i) => ({ name: columnLabel(this.#streams[i]!, opts.columnName), series })),
    );
  }

  /** Per member, in order: {times, values (or the `agg` statistic), flags?}; btrdb-python `to_array`. */
  async toArrays(opts: { agg?: StatField; includeFlags?: boolean } = {}): Promise<Series[]> {
    const w = this.#settings.window;
    if (w !== undefined) {
      const [field] = aggFields(opts.agg ?? 'mean');
      return (await this.#stats(w)).map((s) => ({ times: s.times, values: s[field!] }));
    }
    return (await this.#raw(this.#start(), this.#end())).map((s) =>
      opts.includeFlags && s.flags !== undefined
        ? { times: s.times, values: s.values, flags: s.flags }
        : { times: s.times, values: s.values },
    );
  }
}

/**
 * `arbor export` — write streams' points (or window statistics) as CSV, NDJSON or Arrow IPC.
 *
 * Exports are streamed: raw points are read chunk by chunk (Stream.values) and windows in slices
 * of at most {@link WINDOWS_PER_QUERY} windows, each written out before the next is read, with
 * the output's back-pressure respected — memory stays bounded whatever the range. Every read of a
 * stream uses the version current when the export started (or --version), so the file is one
 * snapshot even if writers are busy.
 *
 * Exactness: times are integer ns (plus ISO-8601 with nine fraction digits in CSV); values are
 * printed in JavaScript's shortest round-trip form (`String(v)`: parsing the text gives back the
 * same float64, so "2.959" stays "2.959"), NaN/±Inf as NaN, Infinity, -Infinity.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import {
  Field,
  Float64,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  TimestampNanosecond,
  Uint32,
  Uint64,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import type { Connection, StatPoint, Stream } from '../client/index.ts';
import { connectionOver, formatIso, MAX_TIME, MIN_TIME, statColumns } from '../client/index.ts';
import { openDatabase } from '../db/database.ts';
import { dataDir, flag, has, parseArgs, timeFlag } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `arbor export — write points or window statistics to a file

Usage: arbor export <uuid | collection/name>... --format csv|json|arrow [--out FILE]
                    [--start T] [--end T] [--version V]... [--windows PW | --width DURATION]
                    [--flags]

Raw points by default; with --windows PW the statistics (min, mean, max, count, stddev) of the
aligned windows [t, t + 2^PW ns), with --width DURATION of windows of that width from --start.
Times T are integer ns or ISO-8601 (UTC unless an offset is given); the range is [start, end).
Default range: all points (windows: from the first point to the last, whole windows).

Formats:
  csv    header, then one row per point: time (ns), time_iso, value — or time, time_iso, min,
         mean, max, count, stddev for windows (statistics empty for windows without points)
  json   NDJSON, one object per line: {"time":"<ns>","value":v} — time is a string so no ns is
         lost; NaN/±Inf as the strings "NaN", "Infinity", "-Infinity"
  arrow  Arrow IPC file (Feather v2; --ipc stream for the IPC stream format): time
         timestamp[ns, UTC], value float64 — or BTrDB's window schema (count uint64)
With several streams they follow one another and a leading "stream" column (collection/name)
says which stream each row belongs to.

Values are printed in their shortest exact form (JavaScript String(v)): re-reading the text
gives the same float64, so a CSV export re-imports bit-for-bit.

  --flags         raw points only: add a "flags" column, each point's uint32 quality flags
                  (csv integer, json number, arrow uint32); 0 for points stored without flags,
                  as in the raw-read API. Not allowed with --windows or --width.
  --version V     read this stream version (once per stream, in order; default: latest)
  --out FILE      write to FILE instead of stdout
  --data DIR      data directory (default $ARBOR_DATA or ./data)

Examples:
  arbor export pmu/kth01/frequency --format csv --out freq.csv
  arbor export pmu/kth01/frequency --format json --start 2012-12-12T05:00:00Z --end 2012-12-12T05:01:00Z
  arbor export pmu/kth01/magnitude pmu/kth01/angle --format arrow --out kth01.arrow
  arbor export pmu/kth01/frequency --format csv --width 1m      # one-minute statistics
  arbor export pmu/kth01/frequency --format arrow --flags --out freq.arrow
  arbor export 4b9f3c1e-8a2d-4c55-9e0a-0d6f7e1b2a33 --format csv --windows 30 --version 12
`;

export type ExportFormat = 'csv' | 'json' | 'arrow';

/** Window queries are split so that each answers at most this many windows. */
export const WINDOWS_PER_QUERY = 65_536;
/** Arrow record batches hold up to this many rows. */
const ARROW_BATCH_ROWS = 65_536;

export interface ExportOptions {
  readonly format: ExportFormat;
  readonly start?: bigint;
  readonly end?: bigint;
  /** One per stream; 0 or absent = the latest. */
  readonly versions?: readonly number[];
  /** Aligned windows of 2^pointWidth ns. */
  readonly pointWidth?: number;
  /** Windows of this many ns. */
  readonly width?: bigint;
  /** Arrow: 'file' (default) or 'stream' IPC format. */
  readonly ipc?: 'file' | 'stream';
  /**
   * Raw exports: add a `flags` column (uint32). Points stored without flags read as 0, as in
   * `Stream.valuesArray`, so a file has one schema whichever chunks carried flags.
   */
  readonly flags?: boolean;
}

export interface ExportSummary {
  readonly streams: number;
  /** Raw points or windows written. */
  readonly rows: number;
}

/** A text or byte sink with back-pressure. */
type Out = NodeJS.WritableStream;

async function write(out: Out, chunk: string | Uint8Array): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

/** A float64 as exact text: shortest round-trip form; -0, NaN and ±Inf spelled out. */
export function exactNumber(v: number): string {
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

const csvField = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
const jsonNumber = (v: number): string => (Number.isFinite(v) ? exactNumber(v) : JSON.stringify(String(v)));

/** One format's writer: rows go in as columns (raw) or StatPoints (windows). */
interface Sink {
  /** `flags` is given exactly when the export has a flags column. */
  raw(label: string, times: BigInt64Array, values: Float64Array, flags?: Uint32Array): Promise<void>;
  stats(label: string, windows: readonly StatPoint[]): Promise<void>;
  end(): Promise<void>;
}

const STAT_COLUMNS = ['min', 'mean', 'max', 'count', 'stddev'] as const;

function csvSink(out: Out, multi: boolean, windows: boolean, withFlags: boolean): Sink {
  const lead = multi ? 'stream,' : '';
  let headed = false;
  const head = async () => {
    if (headed) return;
    headed = true;
    const cols = windows ? STAT_COLUMNS.join(',') : withFlags ? 'value,flags' : 'value';
    await write(out, `${lead}time,time_iso,${cols}\n`);
  };
  return {
    async raw(label, times, values, flags) {
      await head();
      const pre = multi ? `${csvField(label)},` : '';
      let text = '';
      for (let i = 0; i < times.length; i++) {
        const t = times[i]!;
        const f = flags === undefined ? '' : `,${flags[i]!}`;
        text += `${pre}${t},${formatIso(t)},${exactNumber(values[i]!)}${f}\n`;
      }
      await write(out, text);
    },
    async stats(label, ws) {
      await head();
      const pre = multi ? `${csvField(label)},` : '';
      let text = '';
      for (const w of ws) {
        const s =
          w.count === 0
            ? ',,,0,'
            : `${exactNumber(w.min)},${exactNumber(w.mean)},${exactNumber(w.max)},${w.count},${exactNumber(w.stddev)}`;
        text += `${pre}${w.time},${formatIso(w.time)},${s}\n`;
      }
      await write(out, text);
    },
    end: head, // an empty export still gets its header
  };
}

function jsonSink(out: Out, multi: boolean): Sink {
  const pre = (label: string) => (multi ? `"stream":${JSON.stringify(label)},` : '');
  return {
    async raw(label, times, values, flags) {
      let text = '';
      for (let i = 0; i < times.length; i++) {
        const f = flags === undefined ? '' : `,"flags":${flags[i]!}`;
        text += `{${pre(label)}"time":"${times[i]}","value":${jsonNumber(values[i]!)}${f}}\n`;
      }
      await write(out, text);
    },
    async stats(label, ws) {
      let text = '';
      for (const w of ws) {
        const s = STAT_COLUMNS.map(
          (k) => `"${k}":${k === 'count' ? w.count : w.count === 0 ? 'null' : jsonNumber(w[k])}`,
        );
        text += `{${pre(label)}"time":"${w.time}",${s.join(',')}}\n`;
      }
      await write(out, text);
    },
    async end() {},
  };
}

/** Concatenate typed-array parts into one array of `n` elements. */
function concatParts<T extends BigInt64Array | Float64Array | Uint32Array>(
  parts: readonly T[],
  n: number,
  make: (n: number) => T,
): T {
  const out = make(n);
  let at = 0;
  for (const p of parts) {
    out.set(p as never, at);
    at += p.length;
  }
  return out;
}

/**
 * Arrow: rows are gathered as typed-array parts (copies: raw chunks are views into cached leaves)
 * into record batches of ≈ ARROW_BATCH_ROWS, which the IPC writer streams out as they are made.
 */
function arrowSink(out: Out, multi: boolean, windows: boolean, withFlags: boolean, ipc: 'file' | 'stream'): Sink {
  const f64 = (name: string) => new Field(name, new Float64(), false);
  const valueFields = windows
    ? [f64('min'), f64('mean'), f64('max'), new Field('count', new Uint64(), false), f64('stddev')]
    : [f64('value')];
  const fields = [
    ...(multi ? [new Field('stream', new Utf8(), false)] : []),
    new Field('time', new TimestampNanosecond('UTC'), false),
    ...valueFields,
    ...(withFlags ? [new Field('flags', new Uint32(), false)] : []),
  ];
  const schema = new Schema(fields);
  const writer = ipc === 'file' ? new RecordBatchFileWriter() : new RecordBatchStreamWriter();
  const bytes = writer.toNodeStream();
  bytes.pipe(out, { end: false });
  const ended = once(bytes, 'end');
  writer.reset(undefined, schema); // the schema goes out even if no row follows
  let labels: string[] = [];
  let times: BigInt64Array[] = [];
  let cols: Float64Array[][] = valueFields.map(() => []);
  let flagParts: Uint32Array[] = [];
  let n = 0;
  const flush = async () => {
    if (n === 0) return;
    const f = (data: Float64Array) => makeData({ type: new Float64(), length: n, nullCount: 0, data });
    const children = [
      ...(multi ? [vectorFromArray(labels, new Utf8()).data[0]!] : []),
      makeData({
        type: new TimestampNanosecond('UTC'),
        length: n,
        nullCount: 0,
        data: concatParts(times, n, (k) => new BigInt64Array(k)),
      }),
      ...cols.map((parts, k) => {
        const data = concatParts(parts, n, (m) => new Float64Array(m));
        if (!windows || k !== 3) return f(data);
        return makeData({
          type: new Uint64(),
          length: n,
          nullCount: 0,
          data: BigUint64Array.from(data, (x) => BigInt(x)),
        });
      }),
      ...(withFlags
        ? [
            makeData({
              type: new Uint32(),
              length: n,
              nullCount: 0,
              data: concatParts(flagParts, n, (k) => new Uint32Array(k)),
            }),
          ]
        : []),
    ];
    writer.write(new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children })));
    labels = [];
    times = [];
    cols = cols.map(() => []);
    flagParts = [];
    n = 0;
    if ((out as { writableNeedDrain?: boolean }).writableNeedDrain) await once(out, 'drain');
  };
  const add = async (label: string, t: BigInt64Array, vs: readonly Float64Array[], fl?: Uint32Array) => {
    if (multi) for (let i = 0; i < t.length; i++) labels.push(label);
    times.push(t);
    if (fl !== undefined) flagParts.push(fl);
    for (const [k, v] of vs.entries()) cols[k]!.push(v);
    n += t.length;
    if (n >= ARROW_BATCH_ROWS) await flush();
  };
  return {
    raw: (label, ts, vs, fl) => add(label, ts.slice(), [vs.slice()], fl?.slice()),
    stats: (label, ws) => {
      const c = statColumns(ws);
      return add(label, c.times, [c.min, c.mean, c.max, c.count, c.stddev]);
    },
    async end() {
      await flush();
      writer.finish();
      writer.close();
      await ended;
    },
  };
}

/** Parse a window width: integer ns, or a number with ns, us, ms, s, m, h or d (exact). */
export function parseWidth(text: string): bigint {
  const m = /^(\d+)(?:\.(\d+))?(ns|us|µs|ms|s|m|h|d)?$/.exec(text.trim());
  const unit: Record<string, bigint> = { ns: 1n, us: 1_000n, µs: 1_000n, ms: 1_000_000n, s: 1_000_000_000n };
  unit.m = 60n * unit.s!;
  unit.h = 60n * unit.m;
  unit.d = 24n * unit.h;
  if (!m) throw new UsageError(`not a duration: ${JSON.stringify(text)} (use e.g. 100ms, 1s, 5m, 1h, 1d or ns)`);
  const scale = unit[m[3] ?? 'ns']!;
  const frac = m[2] ?? '';
  const num = BigInt(m[1]! + frac) * scale;
  const den = 10n ** BigInt(frac.length);
  if (num % den !== 0n) throw new UsageError(`duration ${text} is not a whole number of ns`);
  if (num / den <= 0n) throw new UsageError(`duration ${text} must be positive`);
  return num / den;
}

const ceilTo = (t: bigint, origin: bigint, step: bigint): bigint => origin + ((t - origin + step - 1n) / step) * step;
const clamp = (t: bigint): bigint => (t > MAX_TIME ? MAX_TIME : t < MIN_TIME ? MIN_TIME : t);

/** Windows of one stream from `start` to `end`, in slices of ≤ WINDOWS_PER_QUERY windows. */
async function exportWindows(s: Stream, label: string, version: number, o: ExportOptions, sink: Sink): Promise<number> {
  let start = o.start;
  let end = o.end;
  if (start === undefined || end === undefined) {
    const first = await s.earliest({ version });
    const last = await s.latest({ version });
    if (first === null || last === null) return 0;
    start ??= first.time;
    end ??= last.time + 1n;
  }
  const step = o.width ?? 1n << BigInt(o.pointWidth!);
  if (o.width === undefined) {
    start = (start >> BigInt(o.pointWidth!)) << BigInt(o.pointWidth!);
    end = ceilTo(end, 0n, step);
  } else if (o.end === undefined) {
    end = ceilTo(end, start, step);
  }
  end = clamp(end);
  let rows = 0;
  for (let from = start; from < end; ) {
    const to = clamp(from + step * BigInt(WINDOWS_PER_QUERY) < end ? from + step * BigInt(WINDOWS_PER_QUERY) : end);
    const r =
      o.width === undefined
        ? await s.alignedWindows(from, to, o.pointWidth!, { version })
        : await s.windows(from, to, o.width, { version });
    await sink.stats(label, r.points);
    rows += r.points.length;
    from = to;
  }
  return rows;
}

/**
 * Export the streams named by `idents` (uuids or collection/name) to `out`, one after another.
 * Does not end `out`. Returns how many rows (points or windows) were written.
 */
export async function exportStreams(
  conn: Connection,
  idents: readonly string[],
  o: ExportOptions,
  out: Out,
): Promise<ExportSummary> {
  if (o.pointWidth !== undefined && o.width !== undefined) throw new UsageError('give --windows or --width, not both');
  const versions = o.versions ?? [];
  if (versions.length > 0 && versions.length !== idents.length) {
    throw new UsageError(`${idents.length} streams but ${versions.length} --version values (give one per stream)`);
  }
  const set = await conn.streams(...idents);
  const multi = idents.length > 1;
  const windows = o.pointWidth !== undefined || o.width !== undefined;
  const withFlags = o.flags ?? false;
  if (withFlags && windows)
    throw new UsageError('--flags exports raw points only; window statistics have no flags (drop --windows/--width)');
  const sink =
    o.format === 'csv'
      ? csvSink(out, multi, windows, withFlags)
      : o.format === 'json'
        ? jsonSink(out, multi)
        : arrowSink(out, multi, windows, withFlags, o.ipc ?? 'file');
  let rows = 0;
  for (const [k, s] of set.streams.entries()) {
    const d = s.descriptor ?? (await s.refresh()).descriptor!;
    const label = d.tags.name ? `${d.collection}/${d.tags.name}` : s.uuid;
    const version = versions[k] || (await s.version()); // pin one snapshot per stream
    if (windows) {
      rows += await exportWindows(s, label, version, o, sink);
      continue;
    }
    for await (const c of s.values(o.start ?? MIN_TIME, o.end ?? MAX_TIME, { version })) {
      const flags = withFlags ? (c.flags ?? new Uint32Array(c.times.length)) : undefined;
      await sink.raw(label, c.times, c.values, flags);
      rows += c.times.length;
    }
  }
  await sink.end();
  return { streams: set.streams.length, rows };
}

export async function exportCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    data: { type: 'string' },
    format: { type: 'string', short: 'f' },
    start: { type: 'string' },
    end: { type: 'string' },
    version: { type: 'list' },
    out: { type: 'string', short: 'o' },
    windows: { type: 'string' },
    width: { type: 'string' },
    ipc: { type: 'string' },
    flags: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  if (p.positional.length === 0)
    throw new UsageError('give at least one stream: a uuid or collection/name (see --help)');
  const format = flag(p, 'format');
  if (format !== 'csv' && format !== 'json' && format !== 'arrow') {
    throw new UsageError(
      `--format must be csv, json or arrow${format === undefined ? '' : `, got ${JSON.stringify(format)}`}`,
    );
  }
  const pw = flag(p, 'windows');
  if (pw !== undefined && !(/^\d+$/.test(pw) && Number(pw) <= 62))
    throw new UsageError(`--windows must be a point width 0–62, got ${pw}`);
  const width = flag(p, 'width');
  // Checked here too so that a refused export creates no --out file.
  if (has(p, 'flags') && (pw !== undefined || width !== undefined))
    throw new UsageError('--flags exports raw points only; window statistics have no flags (drop --windows/--width)');
  const ipc = flag(p, 'ipc') ?? 'file';
  if (ipc !== 'file' && ipc !== 'stream')
    throw new UsageError(`--ipc must be file or stream, got ${JSON.stringify(ipc)}`);
  const versions = (p.flags.get('version') ?? []).map((v) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`--version must be a whole number, got ${JSON.stringify(v)}`);
    return Number(v);
  });
  const start = timeFlag(p, 'start');
  const end = timeFlag(p, 'end');
  const opts: ExportOptions = {
    format,
    ipc,
    versions,
    ...(start === undefined ? {} : { start }),
    ...(end === undefined ? {} : { end }),
    ...(pw === undefined ? {} : { pointWidth: Number(pw) }),
    ...(width === undefined ? {} : { width: parseWidth(width) }),
    ...(has(p, 'flags') ? { flags: true } : {}),
  };
  const file = flag(p, 'out');
  const db = await openDatabase(dataDir(p), { background: false });
  try {
    const conn = connectionOver(db);
    if (file === undefined) {
      // A reader that stops early (`| head`) closes the pipe: that ends the export, quietly.
      const epipe = (e: NodeJS.ErrnoException) => e.code === 'EPIPE';
      // The listener stays: a late EPIPE from buffered writes must not crash the process.
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (!epipe(e)) throw e;
      });
      try {
        await exportStreams(conn, p.positional, opts, process.stdout);
      } catch (e) {
        if (!epipe(e as NodeJS.ErrnoException)) throw e;
      }
      return;
    }
    const t0 = performance.now();
    const out = fs.createWriteStream(file);
    try {
      const r = await exportStreams(conn, p.positional, opts, out);
      out.end();
      await once(out, 'close');
      const secs = (performance.now() - t0) / 1000;
      process.stderr.write(
        `exported ${r.rows} ${(pw ?? width) ? 'windows' : 'points'} of ${r.streams} stream(s) to ${file} in ${secs.toFixed(2)} s\n`,
      );
    } catch (e) {
      out.destroy();
      throw e;
    }
  } finally {
    await db.close();
  }
}

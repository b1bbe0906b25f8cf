/**
 * `arbor import` — load a CSV file, an Arrow file or OpenPMU logs into streams.
 *
 * All or nothing, as far as a file's content goes: the whole input is parsed and validated first
 * (times parse and are storable, values are numbers — finite unless the stream allows NaN — and
 * rows have consistent columns), and only a file without a single bad row is inserted. The insert
 * then runs one stream at a time in batches of at most {@link IMPORT_BATCH_POINTS} points, each
 * durable when it returns. A crash (or kill) during the insert can therefore leave a prefix of the
 * batches stored; re-running the same import with `--merge replace` (unique times) or
 * `--merge equal` (files with repeated times, like the OpenPMU logs) stores the file exactly once.
 */
import path from 'node:path';
import { validateCollection } from '../catalog/validate.ts';
import type { Connection, MergePolicy, Stream } from '../client/index.ts';
import { connectionOver, isDbError } from '../client/index.ts';
import { DbError } from '../core/errors.ts';
import { MERGE_POLICIES, type StreamId } from '../core/types.ts';
import { isStreamId } from '../core/uuid.ts';
import type { Database } from '../db/database.ts';
import { openDatabase } from '../db/database.ts';
import { readArrowPoints } from '../ingest/arrow/arrow-points.ts';
import { DATE_ORDERS, type DateOrder } from '../ingest/comtrade/cfg.ts';
import {
  MISSING_POLICIES,
  type MissingPolicy,
  VALUE_KINDS,
  type ValueKind,
} from '../ingest/comtrade/comtrade-streams.ts';
import { type ComtradeImportReport, importComtrade } from '../ingest/comtrade/import-comtrade.ts';
import { TIME_SOURCES, type TimeSource } from '../ingest/comtrade/sample-times.ts';
import { type PointsRead, readCsvPoints } from '../ingest/csv/csv-points.ts';
import { PMU_QUANTITIES, type PmuLog, readOpenPmuLog } from '../ingest/csv/openpmu-log.ts';
import { openPmuStreams } from '../ingest/csv/openpmu-streams.ts';
import { TIME_FORMATS, type TimeFormat } from '../ingest/csv/time-cell.ts';
import { dataDir, flag, has, type Parsed, parseArgs } from './args.ts';
import { NEW_STREAM_FLAGS, type NewStreamOptions, newStreamOptions } from './create.ts';
import { UsageError } from './main.ts';
import { compact, Progress } from './progress.ts';
import { withBackend } from './target.ts';

const HELP = `arbor import — load points from files

  arbor import csv FILE   (--stream S | --create --collection C --name N [--unit U]) [options]
  arbor import arrow FILE (--stream S | --create --collection C --name N [--unit U]) [options]
  arbor import openpmu FILE... --collection C [--date YYYY-MM-DD] [--merge P]
  arbor import comtrade FILE.cfg [--collection C] [--data DIR | --server HOST:PORT] [options]

csv: one row per point. The header names the columns; by default the time is the column
  "time" (else the first) and the value the column "value" (else the second of two).
  Times are integer ns or ISO-8601 by default (see --time-format); values are decimal numbers,
  or NaN/Infinity for streams created with --allow-nan. Line endings LF, CRLF or CR.
arrow: an Arrow IPC file (Feather v2) or IPC stream; time a timestamp (any unit) or int64 ns,
  value float64/float32 (or an integer). Columns found by name (time, value) or position.
openpmu: OpenPMU NMEA logs ($KTH01,V1xx0,<s since midnight>,<mag>,<freq>,<angle>*CS). Makes
  three streams in collection C — magnitude (V), frequency (Hz), angle (deg) — annotated with
  the station and channel, or appends to them if they exist. The date comes from the file name
  (2012-12-12_KTH01.csv), UTC; times are exact to the ns.
comtrade: an IEEE C37.111 record (1991, 1999 or 2013; .cfg + .dat in ASCII, BINARY, BINARY32 or
  FLOAT32, extensions in any case; or a 2013 .cff). One stream per analog channel (a·x + b) and
  per digital channel (0/1) in collection comtrade/<station> (or --collection), named by the
  channel id, unit as tag, the cfg's channel description as annotations. Times come from the
  sample rates (exact to the ns) or, when the cfg has none, from the timestamp column; see
  docs/format/comtrade-import.md. Appends to the streams of an earlier import of the station.

Nothing is imported from a file with bad rows: the whole file is validated first and every bad
row is reported with its line (or Arrow row) number — the first 20 with the reason, and the
total — and the command exits 1. A valid file is then inserted one stream at a time in batches
of up to 1 000 000 points. If the process dies during that insert, a prefix may be stored:
re-run the same command with --merge replace (or --merge equal when the file repeats times,
as the OpenPMU logs do) to finish it without duplicating points.

Target stream (csv, arrow):
  --stream S          an existing stream: uuid or collection/name
  --create            create the stream if it does not exist (with --collection and --name,
                      or --stream collection/name), plus --unit, --tag k=v, --annotation k=v,
                      --uuid U, --allow-nan as for arbor create; created only once the whole
                      file has been validated
Options:
  --time-column X     column name or 0-based index of the time       (csv, arrow)
  --value-column X    column name or 0-based index of the value      (csv, arrow)
  --time-format F     auto (default: integer = ns, else ISO-8601), ns, us, ms, s (decimals
                      allowed, converted exactly) or iso                  (csv)
  --delimiter D       field separator (default ",")                       (csv)
  --no-header         the first line is data                              (csv)
  --merge P           what to do with a point whose time is already stored: never (default,
                      keep both), equal (skip identical points), retain (keep the old),
                      replace (keep the new)
  --date YYYY-MM-DD   the day of an OpenPMU log whose file name does not start with it
  --values V          recorded (default: as the cfg's P/S flag says), primary or secondary:
                      analog values converted with the channel's ratio       (comtrade)
  --missing M         skip (default: a missing sample is not stored) or nan (stored as NaN,
                      streams created with --allow-nan)                      (comtrade)
  --time-source T     auto (default), rate (sample rates only) or column (timestamp
                      column × timemult)                                     (comtrade)
  --time-code TC      the recorder clock's offset from UTC (+10, -5h30); default the 2013
                      time_code field, else UTC                              (comtrade)
  --date-order O      dmy or mdy: day/month order of the cfg's dates (default: mdy for
                      1991 files, dmy after, as the standard says)           (comtrade)
  --encoding E        text encoding of the cfg: auto (UTF-8, else GBK if it looks like
                      GB2312, else Latin-1) or a label: latin1, gbk, shift_jis (comtrade)
  --server HOST:PORT  import through a running server's gRPC API instead of --data; with
                      --api-key K (or $ARBOR_API_KEY)                        (comtrade)
  --quiet             no progress on stderr
  --data DIR          data directory (default $ARBOR_DATA or ./data)

Progress goes to stderr (a bar on a terminal, a line every 5 s otherwise); the summary (points,
streams, time, points/s) to stdout.

Examples:
  arbor import openpmu 2012-12-12_KTH01.csv --collection pmu/kth01
  arbor import csv temps.csv --create --collection lab/room1 --name temp --unit C
  arbor import csv log.csv --stream lab/room1/temp --time-format s --value-column 2
  arbor import arrow points.arrow --stream 4b9f3c1e-8a2d-4c55-9e0a-0d6f7e1b2a33 --merge replace
  arbor import comtrade fault/keating_1999.CFG --collection dfr/keating
`;

/** The largest insert the importer sends (points). */
export const IMPORT_BATCH_POINTS = 1_000_000;

export interface StreamReport {
  readonly uuid: string;
  readonly label: string;
  readonly points: number;
  readonly created: boolean;
}

export interface ImportReport {
  readonly files: readonly string[];
  /** Rows (CSV lines, Arrow rows, PMU sentences) read. */
  readonly rows: number;
  /** Points inserted, over all streams (under a merge policy other than never, some may have been dropped). */
  readonly points: number;
  readonly streams: readonly StreamReport[];
  readonly parseMs: number;
  readonly insertMs: number;
  readonly bytes: number;
  readonly merge: MergePolicy;
}

export interface ImportOptions {
  readonly merge?: MergePolicy;
  /** No progress output (default: progress on stderr). */
  readonly quiet?: boolean;
}

/** Where the points of a csv/arrow import go: an existing stream, or one created if missing. */
export interface ImportTarget {
  /** uuid or collection/name of the stream. */
  readonly stream?: string;
  /** Create the stream if it does not exist. */
  readonly create?: NewStreamOptions;
}

/** A resolved target: the stream if it exists, else how to create it. */
interface Resolved {
  stream: Stream | null;
  readonly create: NewStreamOptions | undefined;
  readonly allowNonFinite: boolean;
  readonly label: string;
}

const labelOf = (collection: string, name: string | undefined, uuid: string): string =>
  name ? `${collection}/${name}` : uuid;

async function findStream(conn: Connection, ident: string): Promise<Stream | null> {
  try {
    return (await conn.streams(ident)).streams[0] ?? null;
  } catch (e) {
    if (isDbError(e, 404)) return null;
    throw e;
  }
}

async function resolveTarget(db: Database, conn: Connection, t: ImportTarget): Promise<Resolved> {
  const ident = t.stream ?? (t.create ? `${t.create.collection}/${t.create.tags.name ?? ''}` : undefined);
  if (ident === undefined) throw new UsageError('give --stream S, or --create with --collection and --name');
  const stream = await findStream(conn, ident);
  if (stream !== null) {
    const d = stream.descriptor ?? (await stream.refresh()).descriptor!;
    const allowNonFinite = (await db.engine.info(stream.uuid as StreamId)).options.allowNonFinite;
    return { stream, create: undefined, allowNonFinite, label: labelOf(d.collection, d.tags.name, stream.uuid) };
  }
  if (!t.create) throw new DbError(404, `no stream ${JSON.stringify(ident)} (add --create to create it)`);
  return {
    stream: null,
    create: t.create,
    allowNonFinite: t.create.allowNonFinite,
    label: labelOf(t.create.collection, t.create.tags.name, t.create.uuid ?? ''),
  };
}

async function createIfMissing(conn: Connection, r: Resolved): Promise<{ stream: Stream; created: boolean }> {
  if (r.stream !== null) return { stream: r.stream, created: false };
  const c = r.create!;
  r.stream = await conn.create({
    collection: c.collection,
    tags: c.tags,
    annotations: c.annotations,
    allowNonFinite: c.allowNonFinite,
    ...(c.uuid === undefined ? {} : { uuid: c.uuid }),
  });
  return { stream: r.stream, created: true };
}

/** Insert `times`/`values` into one stream in batches of ≤ IMPORT_BATCH_POINTS (see the module doc). */
async function insertBatches(
  conn: Connection,
  id: StreamId,
  times: BigInt64Array,
  values: Float64Array,
  policy: MergePolicy,
  onBatch: (points: number) => void,
): Promise<void> {
  for (let i = 0; i < times.length; i += IMPORT_BATCH_POINTS) {
    const j = Math.min(times.length, i + IMPORT_BATCH_POINTS);
    await conn.backend.insert(id, { times: times.subarray(i, j), values: values.subarray(i, j) }, policy);
    onBatch(j - i);
  }
}

function parseProgress(label: string, o: ImportOptions): (bytes: number, total: number, points: number) => void {
  let p: Progress | undefined;
  return (bytes, total, points) => {
    p ??= new Progress({ label, total, enabled: !o.quiet });
    p.update(bytes, points);
    if (bytes >= total) p.finish();
  };
}

/** Insert plans in order, with one progress over all of them; returns the insert time in ms. */
async function insertAll(
  conn: Connection,
  plans: readonly { id: StreamId; times: BigInt64Array; values: Float64Array }[],
  o: ImportOptions,
): Promise<number> {
  const total = plans.reduce((n, p) => n + p.times.length, 0);
  const progress = new Progress({ label: 'insert', total, enabled: !o.quiet });
  const t0 = performance.now();
  let done = 0;
  try {
    for (const p of plans) {
      await insertBatches(conn, p.id, p.times, p.values, o.merge ?? 'never', (n) => {
        done += n;
        progress.update(done, done);
      });
    }
  } finally {
    progress.finish();
  }
  return performance.now() - t0;
}

/** Import points read by `read` (CSV or Arrow) into the target stream. */
async function importPoints(
  db: Database,
  file: string,
  target: ImportTarget,
  o: ImportOptions,
  read: (allowNonFinite: boolean) => Promise<PointsRead>,
): Promise<ImportReport> {
  const conn = connectionOver(db);
  const resolved = await resolveTarget(db, conn, target);
  const t0 = performance.now();
  const r = await read(resolved.allowNonFinite);
  const parseMs = performance.now() - t0;
  if (!r.bad.empty) throw r.bad.toError(file);
  const { stream, created } = await createIfMissing(conn, resolved);
  const insertMs = await insertAll(conn, [{ id: stream.uuid, times: r.times, values: r.values }], o);
  const label = resolved.label === '' ? stream.uuid : resolved.label;
  return {
    files: [file],
    rows: r.rows,
    points: r.times.length,
    streams: [{ uuid: stream.uuid, label, points: r.times.length, created }],
    parseMs,
    insertMs,
    bytes: r.bytes,
    merge: o.merge ?? 'never',
  };
}

export interface CsvImportOptions extends ImportOptions {
  readonly timeColumn?: string;
  readonly valueColumn?: string;
  readonly timeFormat?: TimeFormat;
  readonly delimiter?: string;
  readonly header?: boolean;
}

/** `arbor import csv`: validate the whole file, then insert it (see the module doc). */
export function importCsv(
  db: Database,
  file: string,
  target: ImportTarget,
  o: CsvImportOptions = {},
): Promise<ImportReport> {
  return importPoints(db, file, target, o, (allowNonFinite) =>
    readCsvPoints(file, {
      allowNonFinite,
      onProgress: parseProgress(`parse ${path.basename(file)}`, o),
      ...(o.timeColumn === undefined ? {} : { timeColumn: o.timeColumn }),
      ...(o.valueColumn === undefined ? {} : { valueColumn: o.valueColumn }),
      ...(o.timeFormat === undefined ? {} : { timeFormat: o.timeFormat }),
      ...(o.delimiter === undefined ? {} : { delimiter: o.delimiter }),
      ...(o.header === undefined ? {} : { header: o.header }),
    }),
  );
}

/** `arbor import arrow`: validate the whole file, then insert it. */
export function importArrow(
  db: Database,
  file: string,
  target: ImportTarget,
  o: ImportOptions & { timeColumn?: string; valueColumn?: string } = {},
): Promise<ImportReport> {
  return importPoints(db, file, target, o, async (allowNonFinite) => {
    const progress = new Progress({ label: `read ${path.basename(file)}`, enabled: !o.quiet });
    try {
      return readArrowPoints(file, {
        allowNonFinite,
        onProgress: (rows) => progress.update(rows, rows),
        ...(o.timeColumn === undefined ? {} : { timeColumn: o.timeColumn }),
        ...(o.valueColumn === undefined ? {} : { valueColumn: o.valueColumn }),
      });
    } finally {
      progress.finish();
    }
  });
}

/**
 * `arbor import openpmu`: validate every file, then insert each quantity's points (all files) into
 * its stream in `collection` — created if missing, else checked to belong to the same station
 * and channel (418 otherwise).
 */
export async function importOpenPmu(
  db: Database,
  files: readonly string[],
  o: ImportOptions & { collection: string; date?: string },
): Promise<ImportReport> {
  const conn = connectionOver(db);
  const t0 = performance.now();
  const logs: PmuLog[] = [];
  for (const file of files) {
    const log = await readOpenPmuLog(file, {
      onProgress: parseProgress(`parse ${path.basename(file)}`, o),
      ...(o.date === undefined ? {} : { date: o.date }),
    });
    if (!log.bad.empty) throw log.bad.toError(file);
    logs.push(log);
  }
  const parseMs = performance.now() - t0;
  const first = logs.find((l) => l.times.length > 0);
  if (first === undefined) throw new DbError(438, `${files.join(', ')}: no OpenPMU sentences found`);
  for (const l of logs) {
    if (l.times.length > 0 && (l.station !== first.station || l.channel !== first.channel)) {
      throw new DbError(
        438,
        `${l.file} is station/channel ${l.station}/${l.channel} but ${first.file} is ${first.station}/${first.channel}: import them into different collections`,
      );
    }
  }
  const streams = await openPmuStreams(conn, o.collection, first.station, first.channel);
  const plans = streams.flatMap(({ stream }, k) =>
    logs.map((l) => ({ id: stream.uuid, times: l.times, values: l.columns[k as 0 | 1 | 2] })),
  );
  const insertMs = await insertAll(conn, plans, o);
  const perStream = logs.reduce((n, l) => n + l.times.length, 0);
  return {
    files: [...files],
    rows: logs.reduce((n, l) => n + l.sentences, 0),
    points: perStream * PMU_QUANTITIES.length,
    streams: streams.map(({ stream, created }, k) => ({
      uuid: stream.uuid,
      label: `${o.collection}/${PMU_QUANTITIES[k]!.name}`,
      points: perStream,
      created,
    })),
    parseMs,
    insertMs,
    bytes: logs.reduce((n, l) => n + l.bytes, 0),
    merge: o.merge ?? 'never',
  };
}

/** The summary printed to stdout. */
export function formatReport(r: ImportReport): string {
  const secs = (r.parseMs + r.insertMs) / 1000;
  const rate = secs > 0 ? r.points / secs : 0;
  const head =
    `imported ${r.points} points into ${r.streams.length} stream${r.streams.length === 1 ? '' : 's'} from ` +
    `${r.rows} rows of ${r.files.join(', ')} in ${secs.toFixed(2)} s (${compact(rate)} pts/s; ` +
    `parse ${(r.parseMs / 1000).toFixed(2)} s, insert ${(r.insertMs / 1000).toFixed(2)} s` +
    `${r.merge === 'never' ? '' : `; merge ${r.merge}: points already stored may have been skipped or replaced`})\n`;
  return (
    head +
    r.streams.map((s) => `  ${s.uuid}  ${s.label}  ${s.points} points${s.created ? ' (created)' : ''}\n`).join('')
  );
}

function mergeFlag(p: Parsed): MergePolicy {
  const m = flag(p, 'merge') ?? 'never';
  if (!(MERGE_POLICIES as readonly string[]).includes(m)) {
    throw new UsageError(`--merge must be one of ${MERGE_POLICIES.join(', ')}, got ${JSON.stringify(m)}`);
  }
  return m as MergePolicy;
}

function targetFlags(p: Parsed): ImportTarget {
  const stream = flag(p, 'stream');
  if (!has(p, 'create')) {
    if (stream === undefined) throw new UsageError('give --stream S (an existing stream) or --create (see --help)');
    return { stream };
  }
  let collection = flag(p, 'collection');
  let name = flag(p, 'name');
  if (stream !== undefined && collection === undefined && name === undefined && stream.includes('/')) {
    collection = stream.slice(0, stream.lastIndexOf('/'));
    name = stream.slice(stream.lastIndexOf('/') + 1);
  }
  const flags = new Map(p.flags);
  if (collection !== undefined) flags.set('collection', [collection]);
  if (name !== undefined) flags.set('name', [name]);
  if (stream !== undefined && isStreamId(stream.toLowerCase()) && flag(p, 'uuid') === undefined)
    flags.set('uuid', [stream]);
  const create = newStreamOptions({ flags, positional: p.positional });
  return { ...(stream === undefined ? {} : { stream }), create };
}

export async function importCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    ...NEW_STREAM_FLAGS,
    data: { type: 'string' },
    stream: { type: 'string' },
    create: { type: 'boolean' },
    'time-column': { type: 'string' },
    'value-column': { type: 'string' },
    'time-format': { type: 'string' },
    delimiter: { type: 'string' },
    'no-header': { type: 'boolean' },
    merge: { type: 'string' },
    date: { type: 'string' },
    values: { type: 'string' },
    missing: { type: 'string' },
    'time-source': { type: 'string' },
    'time-code': { type: 'string' },
    'date-order': { type: 'string' },
    encoding: { type: 'string' },
    server: { type: 'string' },
    'api-key': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help') || p.positional.length === 0) {
    process.stdout.write(HELP);
    if (!has(p, 'help')) throw new UsageError('give a format (csv, arrow, openpmu, comtrade) and a file');
    return;
  }
  const [kind, ...files] = p.positional;
  if (files.length === 0) throw new UsageError(`give the file to import: arbor import ${kind} FILE`);
  if (kind !== 'openpmu' && files.length > 1)
    throw new UsageError(`import ${kind} takes one file, got ${files.length}`);
  const base = { merge: mergeFlag(p), quiet: has(p, 'quiet') };
  if (kind === 'comtrade') return comtradeCommand(p, files[0]!, base);
  const columns = {
    ...(flag(p, 'time-column') === undefined ? {} : { timeColumn: flag(p, 'time-column')! }),
    ...(flag(p, 'value-column') === undefined ? {} : { valueColumn: flag(p, 'value-column')! }),
  };
  const tf = flag(p, 'time-format');
  if (tf !== undefined && !(TIME_FORMATS as readonly string[]).includes(tf)) {
    throw new UsageError(`--time-format must be one of ${TIME_FORMATS.join(', ')}, got ${JSON.stringify(tf)}`);
  }
  let run: (db: Database) => Promise<ImportReport>;
  if (kind === 'openpmu') {
    const collection = flag(p, 'collection');
    if (collection === undefined) throw new UsageError('import openpmu needs --collection C');
    const date = flag(p, 'date');
    run = (db) => importOpenPmu(db, files, { ...base, collection, ...(date === undefined ? {} : { date }) });
  } else if (kind === 'csv') {
    const target = targetFlags(p);
    const delimiter = flag(p, 'delimiter') === '\\t' ? '\t' : flag(p, 'delimiter');
    if (delimiter !== undefined && (delimiter.length !== 1 || '"\r\n'.includes(delimiter))) {
      throw new UsageError(
        `--delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}`,
      );
    }
    run = (db) =>
      importCsv(db, files[0]!, target, {
        ...base,
        ...columns,
        ...(tf === undefined ? {} : { timeFormat: tf as TimeFormat }),
        ...(delimiter === undefined ? {} : { delimiter }),
        header: !has(p, 'no-header'),
      });
  } else if (kind === 'arrow') {
    const target = targetFlags(p);
    run = (db) => importArrow(db, files[0]!, target, { ...base, ...columns });
  } else {
    throw new UsageError(`unknown import format ${JSON.stringify(kind)}: use csv, arrow, openpmu or comtrade`);
  }
  const db = await openDatabase(dataDir(p), { background: false });
  try {
    process.stdout.write(formatReport(await run(db)));
  } finally {
    await db.close();
  }
}

function choice<T extends string>(p: Parsed, name: string, allowed: readonly T[]): T | undefined {
  const v = flag(p, name);
  if (v !== undefined && !(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T | undefined;
}

/** A COMTRADE import's report in the shape {@link formatReport} prints, plus the record's facts. */
export function comtradeReport(r: ComtradeImportReport, merge: MergePolicy): ImportReport {
  return {
    files: [
      r.record.cfgFile === r.record.datFile
        ? r.record.cfgFile
        : `${r.record.cfgFile} + ${path.basename(r.record.datFile)}`,
    ],
    rows: r.record.dat.count,
    points: r.points,
    streams: r.streams.map((s) => ({
      uuid: s.uuid,
      label: s.missing > 0 ? `${s.label} (${s.missing} missing samples)` : s.label,
      points: s.points,
      created: s.created,
    })),
    parseMs: r.parseMs,
    insertMs: r.insertMs,
    bytes: r.record.bytes,
    merge,
  };
}

/** `arbor import comtrade FILE`: into the --data directory or through --server's gRPC API. */
async function comtradeCommand(p: Parsed, file: string, base: { merge: MergePolicy; quiet: boolean }): Promise<void> {
  const collection = flag(p, 'collection');
  if (collection !== undefined) validateCollection(collection);
  const values = choice(p, 'values', VALUE_KINDS);
  const missing = choice<MissingPolicy>(p, 'missing', MISSING_POLICIES);
  const timeSource = choice<TimeSource>(p, 'time-source', TIME_SOURCES);
  const timeCode = flag(p, 'time-code');
  const dateOrder = choice<DateOrder>(p, 'date-order', DATE_ORDERS);
  const encoding = flag(p, 'encoding');
  let progress: Progress | undefined;
  const run = (conn: Connection): Promise<ComtradeImportReport> =>
    importComtrade(conn, file, {
      merge: base.merge,
      onProgress: (done, total) => {
        progress ??= new Progress({ label: `insert ${path.basename(file)}`, total, enabled: !base.quiet });
        progress.update(done, done);
      },
      ...(collection === undefined ? {} : { collection }),
      ...(values === undefined ? {} : { values: values as ValueKind }),
      ...(missing === undefined ? {} : { missing }),
      ...(timeSource === undefined ? {} : { timeSource }),
      ...(timeCode === undefined ? {} : { timeCode }),
      ...(dateOrder === undefined ? {} : { dateOrder }),
      ...(encoding === undefined ? {} : { encoding }),
    });
  let report: ComtradeImportReport;
  try {
    report = await withBackend(p, (b) => run(connectionOver(b)));
  } finally {
    progress?.finish();
  }
  const c = report.record.cfg;
  process.stdout.write(
    `${formatReport(comtradeReport(report, base.merge))}  record: ${c.station} / ${c.device}, rev ${c.revision}, ${c.format}, ` +
      `${c.analog.length} analog + ${c.digital.length} digital channels, ${report.record.dat.count} samples, ` +
      `times from ${report.record.times.source}\n`,
  );
}

/**
 * Arrow tables (apache-arrow) in the schemas of BTrDB v5's Arrow answers (guide §4.14): time is
 * `timestamp[ns, UTC]`, never nullable, built from and read into BigInt64Array directly — values
 * are never boxed through `get()`, so every ns survives (a double holds only 53 bits).
 *
 * - raw: `time`, `value` float64 (+ `flags` uint32 when asked for and present);
 * - windows: `time`, `min`, `mean`, `max` float64, `count` uint64, `stddev` float64;
 * - frames (multi-stream): `time` + one column per frame column (float64, NaN = missing; flags uint32).
 */
import {
  type Data,
  type DataType,
  Field,
  type Float,
  Float64,
  type Int,
  makeData,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampNanosecond,
  TimeUnit,
  Type,
  Uint32,
  Uint64,
  type Vector,
} from 'apache-arrow';
import { DbError } from '../../core/errors.ts';
import type { PointBatch } from '../../core/types.ts';
import { checkFrame, type Frame } from '../frame.ts';
import { type RawArrays, type StatColumns, type StatPoint, statColumns } from '../points.ts';

const timeField = (): Field => new Field('time', new TimestampNanosecond('UTC'), false);

/** Build a one-batch table from non-nullable columns. */
function tableOf(fields: Field[], columns: Data[], length: number): Table {
  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length, nullCount: 0, children: columns });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

const timeData = (times: BigInt64Array): Data =>
  makeData({ type: new TimestampNanosecond('UTC'), length: times.length, nullCount: 0, data: times });
const f64Data = (values: Float64Array): Data =>
  makeData({ type: new Float64(), length: values.length, nullCount: 0, data: values });
const u32Data = (values: Uint32Array): Data =>
  makeData({ type: new Uint32(), length: values.length, nullCount: 0, data: values });

/** Raw points → Arrow (`time`, `value`, and `flags` if `includeFlags` and the points carry flags). */
export function rawToArrow(points: RawArrays, opts: { includeFlags?: boolean } = {}): Table {
  const n = points.times.length;
  const fields = [timeField(), new Field('value', new Float64(), false)];
  const cols = [timeData(points.times), f64Data(points.values)];
  if (opts.includeFlags && points.flags !== undefined) {
    fields.push(new Field('flags', new Uint32(), false));
    cols.push(u32Data(points.flags));
  }
  return tableOf(fields, cols, n);
}

/** Window statistics → Arrow in BTrDB's window schema (count as uint64). */
export function statsToArrow(stats: readonly StatPoint[] | StatColumns): Table {
  const c = isStatColumns(stats) ? stats : statColumns(stats);
  const n = c.times.length;
  const count = new BigUint64Array(n);
  for (let i = 0; i < n; i++) count[i] = BigInt(c.count[i]!);
  const fields = [
    timeField(),
    new Field('min', new Float64(), false),
    new Field('mean', new Float64(), false),
    new Field('max', new Float64(), false),
    new Field('count', new Uint64(), false),
    new Field('stddev', new Float64(), false),
  ];
  const cols = [
    timeData(c.times),
    f64Data(c.min),
    f64Data(c.mean),
    f64Data(c.max),
    makeData({ type: new Uint64(), length: n, nullCount: 0, data: count }),
    f64Data(c.stddev),
  ];
  return tableOf(fields, cols, n);
}

function isStatColumns(s: readonly StatPoint[] | StatColumns): s is StatColumns {
  return !Array.isArray(s);
}

/** A Frame → Arrow: `time` then one column per frame column, in order. */
export function frameToArrow(frame: Frame): Table {
  checkFrame(frame);
  const fields = [timeField()];
  const cols = [timeData(frame.times)];
  for (const c of frame.columns) {
    if (c.data instanceof Uint32Array) {
      fields.push(new Field(c.name, new Uint32(), false));
      cols.push(u32Data(c.data));
    } else {
      fields.push(new Field(c.name, new Float64(), false));
      cols.push(f64Data(c.data));
    }
  }
  return tableOf(fields, cols, frame.times.length);
}

const UNIT_NS: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000_000n,
  [TimeUnit.MILLISECOND]: 1_000_000n,
  [TimeUnit.MICROSECOND]: 1_000n,
  [TimeUnit.NANOSECOND]: 1n,
};

/**
 * Read a time column as ns: a timestamp of any unit (scaled exactly; the zone is ignored, Arrow
 * stores UTC) or an int64 taken as ns. Throws 413 on nulls or another type.
 */
export function readTimes(column: Vector): BigInt64Array {
  const type = column.type as DataType;
  let scale = 1n;
  if (type.typeId === Type.Timestamp) {
    scale = UNIT_NS[(type as TimestampNanosecond).unit];
  } else if (!(type.typeId === Type.Int && (type as Int).bitWidth === 64 && (type as Int).isSigned)) {
    throw new DbError(413, `time column must be timestamp or int64 ns, got ${String(type)}`);
  }
  const out = new BigInt64Array(column.length);
  let at = 0;
  for (const d of column.data) {
    if (d.nullCount > 0) throw new DbError(413, 'time column contains nulls');
    const src = (d.values as BigInt64Array).subarray(0, d.length);
    if (scale === 1n) out.set(src, at);
    else for (let i = 0; i < src.length; i++) out[at + i] = src[i]! * scale;
    at += d.length;
  }
  return out;
}

/** Read a numeric column as float64 (ints and float32 convert exactly; int64 must fit 2^53). 425 on nulls. */
export function readFloats(column: Vector, name: string): Float64Array {
  const type = column.type as DataType;
  const half = type.typeId === Type.Float && (type as Float).precision === Precision.HALF;
  if ((type.typeId !== Type.Float && type.typeId !== Type.Int) || half) {
    throw new DbError(425, `column ${name} must be float32/float64 or an integer type, got ${String(type)}`);
  }
  const out = new Float64Array(column.length);
  let at = 0;
  for (const d of column.data) {
    if (d.nullCount > 0) throw new DbError(425, `column ${name} contains nulls`);
    const src = d.values as ArrayLike<number | bigint>;
    for (let i = 0; i < d.length; i++) {
      const v = src[i]!;
      out[at + i] = typeof v === 'bigint' ? toSafeNumber(v, name) : v;
    }
    at += d.length;
  }
  return out;
}

function toSafeNumber(v: bigint, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new DbError(425, `column ${name}: ${v} does not fit a float64 exactly`);
  return n;
}

/**
 * An Arrow table of points → PointBatch, for `Stream.arrowInsert`. Columns are found by name
 * (`time`, `value`, optional `flags`) or, failing that, by position (time first, value second) —
 * the way the server maps templates.
 */
export function arrowToPoints(table: Table): PointBatch {
  const fields = table.schema.fields;
  const pick = (name: string, position: number): Vector => {
    const byName = table.getChild(name);
    if (byName) return byName;
    const byPos = fields[position] ? table.getChildAt(position) : null;
    if (!byPos) throw new DbError(438, `arrow table has no ${name} column`);
    return byPos;
  };
  const times = readTimes(pick('time', 0));
  const values = readFloats(pick('value', 1), 'value');
  const flagsCol = table.getChild('flags');
  if (!flagsCol) return { times, values };
  const flags = Uint32Array.from(readFloats(flagsCol, 'flags'));
  return { times, values, flags };
}

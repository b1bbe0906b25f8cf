/**
 * Reading an Arrow IPC file (the random-access "file"/Feather v2 format) or an IPC stream into
 * point columns, validating every row like the CSV reader: the time column is a timestamp (any
 * unit, scaled exactly to ns; the zone is ignored, Arrow stores UTC) or int64 ns; the value column
 * float64, float32 or an integer type (int64 must fit 2^53); nulls, out-of-range times and
 * non-finite values (unless allowed) are bad rows, reported with 1-based row numbers.
 *
 * Columns are found by name (default `time` and `value`) or 0-based index (default 0 and 1).
 */
import fs from 'node:fs';
import {
  type DataType,
  type Float,
  type Int,
  Precision,
  type RecordBatch,
  type RecordBatchFileReader,
  RecordBatchReader,
  type RecordBatchStreamReader,
  type Schema,
  type TimestampNanosecond,
  TimeUnit,
  Type,
  type Vector,
} from 'apache-arrow';
import { arrowIpcProblem } from '../../core/arrow-ipc-check.ts';
import { DbError } from '../../core/errors.ts';
import { MAX_INSERT_TIME, MIN_TIME } from '../../core/time.ts';
import { BadRows } from '../csv/bad-rows.ts';
import { type PointsRead, resolveColumn } from '../csv/csv-points.ts';
import { PointBuilder } from '../csv/point-builder.ts';
import { inputSize } from '../csv/read-file.ts';

export interface ArrowReadOptions {
  /** Column name or 0-based index (default `time`, else column 0). */
  readonly timeColumn?: string;
  /** Column name or 0-based index (default `value`, else column 1). */
  readonly valueColumn?: string;
  readonly allowNonFinite?: boolean;
  /** Called after each record batch with the rows read so far. */
  readonly onProgress?: (rows: number) => void;
}

const UNIT_NS: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000_000n,
  [TimeUnit.MILLISECOND]: 1_000_000n,
  [TimeUnit.MICROSECOND]: 1_000n,
  [TimeUnit.NANOSECOND]: 1n,
};

/** ns per unit of the time column, or a 438 naming the unsupported type. */
function timeScale(type: DataType, name: string): bigint {
  if (type.typeId === Type.Timestamp) {
    const scale: bigint | undefined = UNIT_NS[(type as TimestampNanosecond).unit];
    if (scale === undefined) throw new DbError(438, `time column ${JSON.stringify(name)} has an unknown time unit`);
    return scale;
  }
  if (type.typeId === Type.Int && (type as Int).bitWidth === 64 && (type as Int).isSigned) return 1n;
  throw new DbError(438, `time column ${JSON.stringify(name)} must be a timestamp or int64 ns, not ${String(type)}`);
}

function checkValueType(type: DataType, name: string): void {
  const float = type.typeId === Type.Float && (type as Float).precision !== Precision.HALF;
  if (!float && type.typeId !== Type.Int) {
    throw new DbError(
      438,
      `value column ${JSON.stringify(name)} must be float64, float32 or an integer, not ${String(type)}`,
    );
  }
}

function column(schema: Schema, spec: string | undefined, fallback: string, index: number, what: string): number {
  // A field without a name (legal in the IPC metadata) reads as null: treat it as "".
  const names = schema.fields.map((f) => (typeof f.name === 'string' ? f.name : ''));
  return resolveColumn(spec ?? (names.includes(fallback) ? fallback : String(index)), names, names.length, what);
}

/** Read and validate a whole Arrow IPC file or stream (see {@link PointsRead} for the result). */
export function readArrowPoints(file: string, opts: ArrowReadOptions = {}): PointsRead {
  const bytes = inputSize(file);
  let reader: RecordBatchFileReader | RecordBatchStreamReader;
  const notArrow = (why: string): DbError => new DbError(438, `${file} is not an Arrow IPC file or stream: ${why}`);
  try {
    const buf: Uint8Array = fs.readFileSync(file);
    // apache-arrow trusts the lengths in the metadata (a hostile file can make it loop or run out of memory).
    const problem = arrowIpcProblem(buf);
    if (problem !== undefined) throw notArrow(problem);
    reader = RecordBatchReader.from(buf).open();
  } catch (e) {
    if (e instanceof DbError) throw e;
    throw notArrow(e instanceof Error ? e.message : String(e));
  }
  const schema = reader.schema;
  if (!schema) throw new DbError(438, `${file} holds no Arrow schema`);
  const ti = column(schema, opts.timeColumn, 'time', 0, 'time');
  const vi = column(schema, opts.valueColumn, 'value', 1, 'value');
  if (ti === vi) throw new DbError(438, `the time and value columns are the same (column ${ti})`);
  const scale = timeScale(schema.fields[ti]!.type, schema.fields[ti]!.name);
  checkValueType(schema.fields[vi]!.type, schema.fields[vi]!.name);
  const allowNonFinite = opts.allowNonFinite ?? false;
  const out = new PointBuilder();
  const bad = new BadRows('row');
  let rows = 0;
  const batches = reader[Symbol.iterator]();
  for (;;) {
    let next: IteratorResult<RecordBatch>;
    try {
      next = batches.next(); // record batches are decoded lazily: a damaged one fails here
    } catch (e) {
      throw notArrow(
        `record batch ${rows > 0 ? `after row ${rows}` : '1'}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    if (next.done) break;
    const batch = next.value;
    const tv = batch.getChildAt(ti) as Vector | null;
    const vv = batch.getChildAt(vi) as Vector | null;
    if (tv === null || vv === null) throw notArrow(`a record batch lacks column ${tv === null ? ti : vi}`);
    checkHolds(tv, file);
    checkHolds(vv, file);
    readBatch(tv, vv, scale, allowNonFinite, rows, out, bad);
    rows += batch.numRows;
    opts.onProgress?.(rows);
  }
  return { times: out.times(), values: out.values(), rows, bad, bytes };
}

/** Throw unless every chunk of `v` holds the rows it claims (checked before allocating for them). */
function checkHolds(v: Vector, file: string): void {
  for (const d of v.data) {
    const values: unknown = d.values;
    if (!ArrayBuffer.isView(values) || (values as unknown as ArrayLike<unknown>).length < d.length) {
      throw new DbError(
        438,
        `${file} is not an Arrow IPC file or stream: a column is shorter than its ${d.length} rows`,
      );
    }
  }
}

function readBatch(
  tv: Vector,
  vv: Vector,
  scale: bigint,
  allowNonFinite: boolean,
  first: number,
  out: PointBuilder,
  bad: BadRows,
): void {
  const n = tv.length;
  const times = new BigInt64Array(n);
  let at = 0;
  for (const d of tv.data) {
    times.set((d.values as BigInt64Array).subarray(0, d.length), at);
    at += d.length;
  }
  const values = new Float64Array(n);
  let inexact: Set<number> | undefined; // int64 values beyond 2^53
  at = 0;
  for (const d of vv.data) {
    const src = d.values as ArrayLike<number | bigint>;
    for (let i = 0; i < d.length; i++) {
      const v = src[i]!;
      if (typeof v !== 'bigint') values[at + i] = v;
      else if (Number.isSafeInteger(Number(v))) values[at + i] = Number(v);
      else {
        inexact ??= new Set();
        inexact.add(at + i);
      }
    }
    at += d.length;
  }
  const timeNulls = tv.nullCount > 0;
  const valueNulls = vv.nullCount > 0;
  for (let i = 0; i < n; i++) {
    const row = first + i + 1;
    let ok = true;
    const t = times[i]! * scale;
    if (timeNulls && !tv.isValid(i)) {
      bad.add(row, 413, 'time is null');
      ok = false;
    } else if (t < MIN_TIME || t >= MAX_INSERT_TIME) {
      bad.add(row, 413, `time ${t} ns is outside the storable range [${MIN_TIME}, ${MAX_INSERT_TIME})`);
      ok = false;
    }
    const v = values[i]!;
    if (valueNulls && !vv.isValid(i)) {
      bad.add(row, 425, 'value is null');
      ok = false;
    } else if (inexact?.has(i)) {
      bad.add(row, 425, `value ${String(vv.get(i))} does not fit a float64 exactly`);
      ok = false;
    } else if (!allowNonFinite && !Number.isFinite(v)) {
      bad.add(row, 425, `value ${v} is not finite (the stream rejects NaN/±Inf; create it with --allow-nan)`);
      ok = false;
    }
    if (ok && bad.empty) out.push(t, v);
  }
}

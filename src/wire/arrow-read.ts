/**
 * Read Arrow IPC payloads into typed arrays: ArrowInsert input on the server, Arrow answers in
 * our remote client. 64-bit columns are read through their underlying BigInt64Array /
 * BigUint64Array (never `get()`, which turns int64 into a lossy JS number).
 */
import {
  type Data,
  DataType,
  type Field,
  Precision,
  type RecordBatch,
  type Table,
  type Timestamp,
  TimeUnit,
  tableFromIPC,
} from 'apache-arrow';
import { arrowIpcProblem } from '../core/arrow-ipc-check.ts';
import { DbError } from '../core/errors.ts';
import { NS_PER_UNIT } from './arrow-template.ts';
import type { WindowColumns } from './arrow-write.ts';
import type { PointColumns } from './raw-point-entries.ts';

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function bad(what: string, message: string): DbError {
  return new DbError(438, `${what}: ${message}`);
}

/**
 * Parse an IPC stream (or file); DbError 438 when it is not one. The framing is checked first
 * (core/arrow-ipc-check.ts): apache-arrow trusts the lengths in the metadata.
 */
export function readArrowTable(bytes: Uint8Array, what: string): Table {
  const problem = arrowIpcProblem(bytes);
  if (problem !== undefined) throw bad(what, `not an Arrow IPC stream (${problem})`);
  try {
    return tableFromIPC(bytes);
  } catch (e) {
    throw bad(what, `not an Arrow IPC stream (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** The chunks of column `index`, checked to hold no nulls. */
function chunks(table: Table, index: number, what: string): Data[] {
  const field = table.schema.fields[index]!;
  const out: Data[] = [];
  for (const b of table.batches as RecordBatch[]) {
    const d: Data | undefined = b.data.children[index];
    if (d === undefined) throw bad(what, `a record batch has no column ${JSON.stringify(field.name)}`);
    // Length first: a hostile batch may claim more rows than its buffers hold.
    const values: unknown = d.values;
    if (!ArrayBuffer.isView(values) || (values as unknown as ArrayLike<unknown>).length < d.length) {
      throw bad(what, `column ${JSON.stringify(field.name)} is shorter than its ${d.length} rows`);
    }
    if (d.nullCount > 0) throw bad(what, `column ${JSON.stringify(field.name)} has ${d.nullCount} nulls`);
    out.push(d);
  }
  return out;
}

/** Rows of a column's chunks (each already checked to hold its rows). */
const rowsOf = (parts: readonly Data[]): number => parts.reduce((s, d) => s + d.length, 0);

/**
 * A time column as int64 ns: timestamp of any unit (scaled, overflow checked) or int64 (taken
 * as ns). Anything else is DbError 438.
 */
export function readTimeColumn(table: Table, index: number, what: string): BigInt64Array {
  const field: Field = table.schema.fields[index]!;
  const t: DataType = field.type;
  let per: bigint | undefined = 1n;
  if (DataType.isTimestamp(t)) per = NS_PER_UNIT[(t as Timestamp).unit];
  else if (!(DataType.isInt(t) && t.bitWidth === 64 && t.isSigned)) {
    throw bad(what, `time column ${JSON.stringify(field.name)} is ${String(t)}; expected a timestamp or int64`);
  }
  if (per === undefined) throw bad(what, `time column ${JSON.stringify(field.name)} has an unknown time unit`);
  const parts = chunks(table, index, what); // checked before allocating for the rows they claim
  const out = new BigInt64Array(rowsOf(parts));
  let o = 0;
  for (const d of parts) {
    const src = (d.values as BigInt64Array).subarray(0, d.length);
    if (per === 1n) out.set(src, o);
    else {
      const lo = I64_MIN / per;
      const hi = I64_MAX / per;
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (v < lo || v > hi)
          throw bad(what, `time ${v} ${TimeUnit[(t as Timestamp).unit]} overflows int64 nanoseconds`);
        out[o + i] = v * per;
      }
    }
    o += d.length;
  }
  return out;
}

/** A float64 or float32 column as float64 values. Anything else is DbError 438. */
export function readValueColumn(table: Table, index: number, what: string): Float64Array {
  const field: Field = table.schema.fields[index]!;
  const t: DataType = field.type;
  if (!(DataType.isFloat(t) && (t.precision === Precision.DOUBLE || t.precision === Precision.SINGLE))) {
    throw bad(what, `value column ${JSON.stringify(field.name)} is ${String(t)}; expected float64 or float32`);
  }
  const parts = chunks(table, index, what);
  const out = new Float64Array(rowsOf(parts));
  let o = 0;
  for (const d of parts) {
    out.set((d.values as Float64Array | Float32Array).subarray(0, d.length), o);
    o += d.length;
  }
  return out;
}

/**
 * ArrowInsert's `arrowBytes` as points. Columns are `time` and `value` by name when both exist,
 * else the two columns of a two-column table by position. Any number of record batches,
 * including none. Problems are DbError 438 with a message naming the column and type.
 */
export function decodeArrowPoints(bytes: Uint8Array, what = 'ArrowInsert.arrowBytes'): PointColumns {
  const table = readArrowTable(bytes, what);
  const names = table.schema.fields.map((f) => f.name);
  let ti = names.indexOf('time');
  let vi = names.indexOf('value');
  if (ti < 0 || vi < 0) {
    if (names.length !== 2) {
      throw bad(what, `expected columns "time" and "value" (or exactly two columns), got ${JSON.stringify(names)}`);
    }
    ti = 0;
    vi = 1;
  }
  return { times: readTimeColumn(table, ti, what), values: readValueColumn(table, vi, what) };
}

/** An Arrow windows answer as columns (our client's side of ArrowAlignedWindows / ArrowWindows). */
export function decodeArrowWindows(bytes: Uint8Array, what = 'ArrowWindowsResponse.arrowBytes'): WindowColumns {
  const table = readArrowTable(bytes, what);
  const names = table.schema.fields.map((f) => f.name);
  const at = (name: string): number => {
    const i = names.indexOf(name);
    if (i < 0) throw bad(what, `no ${JSON.stringify(name)} column in ${JSON.stringify(names)}`);
    return i;
  };
  const ci = at('count');
  const ct: DataType = table.schema.fields[ci]!.type;
  if (!(DataType.isInt(ct) && ct.bitWidth === 64)) throw bad(what, `count column is ${String(ct)}; expected uint64`);
  const countParts = chunks(table, ci, what);
  const count = new BigUint64Array(rowsOf(countParts));
  let o = 0;
  for (const d of countParts) {
    const src = d.values as BigUint64Array | BigInt64Array;
    count.set(new BigUint64Array(src.buffer, src.byteOffset, d.length), o);
    o += d.length;
  }
  return {
    times: readTimeColumn(table, at('time'), what),
    min: readValueColumn(table, at('min'), what),
    mean: readValueColumn(table, at('mean'), what),
    max: readValueColumn(table, at('max'), what),
    count,
    stddev: readValueColumn(table, at('stddev'), what),
  };
}

/** An ArrowMultiValues answer: the time column and one value column per remaining field. */
export function decodeArrowMultiValues(
  bytes: Uint8Array,
  what = 'ArrowMultiValuesResponse.arrowBytes',
): { readonly times: BigInt64Array; readonly names: readonly string[]; readonly columns: readonly Float64Array[] } {
  const table = readArrowTable(bytes, what);
  const fields = table.schema.fields;
  if (fields.length === 0) throw bad(what, 'no columns');
  const columns: Float64Array[] = [];
  for (let i = 1; i < fields.length; i++) columns.push(readValueColumn(table, i, what));
  return { times: readTimeColumn(table, 0, what), names: fields.slice(1).map((f) => f.name), columns };
}

/**
 * `templateBytes` (ArrowRawValues, ArrowMultiValues): an IPC stream holding only a schema that
 * the answer must be cast to. Columns map by position (time first); names and nullability come
 * from the template; time becomes a timestamp of the template's unit and time zone (ns values
 * floor-divided for coarser units) or int64 ns; values become float64 or float32.
 */
import {
  DataType,
  Field,
  Float32,
  Float64,
  Int64,
  Precision,
  Schema,
  type Timestamp,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  TimeUnit,
  tableFromIPC,
} from 'apache-arrow';
import { arrowIpcProblem } from '../core/arrow-ipc-check.ts';
import { DbError } from '../core/errors.ts';

/** How to cast one answer column. */
export type ColumnCast =
  | { readonly kind: 'timestamp'; readonly unit: TimeUnit; readonly timezone: string | null }
  | { readonly kind: 'int64' }
  | { readonly kind: 'float64' }
  | { readonly kind: 'float32' };

export interface ArrowTemplate {
  /** The output schema: the template's names and nullability with our supported types. */
  readonly schema: Schema;
  readonly casts: readonly ColumnCast[];
}

/** Nanoseconds per unit of TimeUnit.SECOND … NANOSECOND. */
export const NS_PER_UNIT: Readonly<Record<TimeUnit, bigint>> = {
  [TimeUnit.SECOND]: 1_000_000_000n,
  [TimeUnit.MILLISECOND]: 1_000_000n,
  [TimeUnit.MICROSECOND]: 1_000n,
  [TimeUnit.NANOSECOND]: 1n,
};

function bad(message: string): DbError {
  return new DbError(438, `templateBytes: ${message}`);
}

/**
 * Parse `templateBytes` for an answer of `columns` columns (time + values). Empty bytes →
 * undefined (use the default schema). Throws DbError 438 when the template is not an IPC stream,
 * has another number of columns or a type that cannot be produced.
 */
export function parseArrowTemplate(bytes: Uint8Array, columns: number): ArrowTemplate | undefined {
  if (bytes.length === 0) return undefined;
  const problem = arrowIpcProblem(bytes);
  if (problem !== undefined) throw bad(`not an Arrow IPC stream (${problem})`);
  let schema: Schema;
  try {
    schema = tableFromIPC(bytes).schema;
  } catch (e) {
    throw bad(`not an Arrow IPC stream (${e instanceof Error ? e.message : String(e)})`);
  }
  if (schema.fields.length !== columns) {
    throw bad(`has ${schema.fields.length} fields, the answer has ${columns} (time + ${columns - 1} values)`);
  }
  const casts: ColumnCast[] = [];
  const fields = schema.fields.map((f, i) => {
    const cast = i === 0 ? timeCast(f) : valueCast(f);
    casts.push(cast);
    return new Field(f.name, typeOf(cast), f.nullable);
  });
  return { schema: new Schema(fields), casts };
}

function timeCast(f: Field): ColumnCast {
  const t: DataType = f.type;
  if (DataType.isTimestamp(t)) {
    const ts = t as Timestamp;
    if (NS_PER_UNIT[ts.unit] === undefined) throw bad(`field 0 (${JSON.stringify(f.name)}) has an unknown time unit`);
    return { kind: 'timestamp', unit: ts.unit, timezone: ts.timezone ?? null };
  }
  if (DataType.isInt(t) && t.bitWidth === 64 && t.isSigned) return { kind: 'int64' };
  throw bad(`field 0 (${JSON.stringify(f.name)}) is ${String(t)}; time can be a timestamp or int64`);
}

function valueCast(f: Field): ColumnCast {
  const t: DataType = f.type;
  if (DataType.isFloat(t) && t.precision === Precision.DOUBLE) return { kind: 'float64' };
  if (DataType.isFloat(t) && t.precision === Precision.SINGLE) return { kind: 'float32' };
  throw bad(`field ${JSON.stringify(f.name)} is ${String(t)}; values can be float64 or float32`);
}

function typeOf(c: ColumnCast): DataType {
  switch (c.kind) {
    case 'timestamp':
      return new (TimestampOf(c.unit))(c.timezone);
    case 'int64':
      return new Int64();
    case 'float64':
      return new Float64();
    case 'float32':
      return new Float32();
  }
}

function TimestampOf(
  unit: TimeUnit,
): typeof TimestampSecond | typeof TimestampMillisecond | typeof TimestampMicrosecond | typeof TimestampNanosecond {
  switch (unit) {
    case TimeUnit.SECOND:
      return TimestampSecond;
    case TimeUnit.MILLISECOND:
      return TimestampMillisecond;
    case TimeUnit.MICROSECOND:
      return TimestampMicrosecond;
    default:
      return TimestampNanosecond;
  }
}

/** ns times in the unit of a cast (floor division: toward −∞, also for negative times). */
export function castTimes(times: BigInt64Array, cast: ColumnCast): BigInt64Array {
  if (cast.kind !== 'timestamp' || cast.unit === TimeUnit.NANOSECOND) return times;
  const per = NS_PER_UNIT[cast.unit];
  const out = new BigInt64Array(times.length);
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    const q = t / per;
    out[i] = t < 0n && q * per !== t ? q - 1n : q;
  }
  return out;
}

/** float64 values as the cast's type (float32 rounds to nearest, as pyarrow's cast does). */
export function castValues(values: Float64Array, cast: ColumnCast): Float64Array | Float32Array {
  return cast.kind === 'float32' ? Float32Array.from(values) : values;
}

/**
 * Build the `arrowBytes` of Arrow answers: each is one complete IPC stream (schema, one record
 * batch, end-of-stream marker). Columns go in as typed arrays and are wrapped, not copied, unless
 * a template cast needs new arrays. Every answer message of one call must use the same schema
 * (the client concatenates the tables), and an empty answer still carries the full schema.
 */
import { type DataType, makeData, RecordBatch, type Schema, Struct, Table, tableToIPC } from 'apache-arrow';
import type { StatPoint } from '../core/stat.ts';
import { multiValuesSchema, rawSchema, windowsSchema } from './arrow-schemas.ts';
import { type ArrowTemplate, castTimes, castValues } from './arrow-template.ts';
import type { PointColumns } from './raw-point-entries.ts';

type ColumnArray = BigInt64Array | BigUint64Array | Float64Array | Float32Array;

/** One IPC stream of `schema` with one batch made of `columns` (all of the same length). */
export function arrowStream(schema: Schema, columns: readonly ColumnArray[]): Uint8Array {
  if (columns.length !== schema.fields.length) {
    throw new RangeError(`arrowStream: ${columns.length} columns for ${schema.fields.length} fields`);
  }
  const length = columns[0]?.length ?? 0;
  const children = columns.map((data, i) => {
    if (data.length !== length) throw new RangeError(`arrowStream: column ${i} has ${data.length} rows, not ${length}`);
    const type: DataType = schema.fields[i]!.type;
    return makeData({ type, length, data, nullCount: 0 } as Parameters<typeof makeData>[0]);
  });
  const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, children, nullCount: 0 }));
  return tableToIPC(new Table(schema, [batch]), 'stream');
}

/** Apply a template (if any) to time + value columns and build the stream. */
function withTemplate(
  schema: Schema,
  template: ArrowTemplate | undefined,
  times: BigInt64Array,
  values: readonly Float64Array[],
): Uint8Array {
  if (template === undefined) return arrowStream(schema, [times, ...values]);
  const [timeCast, ...valueCasts] = template.casts;
  return arrowStream(template.schema, [
    castTimes(times, timeCast!),
    ...values.map((v, i) => castValues(v, valueCasts[i]!)),
  ]);
}

/** ArrowRawValues answer (default schema, or the template's). */
export function rawValuesToArrow(points: PointColumns, template?: ArrowTemplate): Uint8Array {
  return withTemplate(rawSchema(), template, points.times, [points.values]);
}

/**
 * ArrowMultiValues answer: `times` shared by all streams, one value column per uuid (missing
 * cells NaN, never null), named by `uuids` (text form) unless a template renames them.
 */
export function multiValuesToArrow(
  times: BigInt64Array,
  columns: readonly Float64Array[],
  uuids: readonly string[],
  template?: ArrowTemplate,
): Uint8Array {
  if (columns.length !== uuids.length)
    throw new RangeError(`${columns.length} value columns for ${uuids.length} uuids`);
  return withTemplate(multiValuesSchema(uuids), template, times, columns);
}

/** Windows as columns (the Arrow layout). */
export interface WindowColumns {
  readonly times: BigInt64Array;
  readonly min: Float64Array;
  readonly mean: Float64Array;
  readonly max: Float64Array;
  readonly count: BigUint64Array;
  readonly stddev: Float64Array;
}

export function windowColumnsOf(stats: readonly StatPoint[]): WindowColumns {
  const n = stats.length;
  const c = {
    times: new BigInt64Array(n),
    min: new Float64Array(n),
    mean: new Float64Array(n),
    max: new Float64Array(n),
    count: new BigUint64Array(n),
    stddev: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const s = stats[i]!;
    c.times[i] = s.time;
    c.min[i] = s.min;
    c.mean[i] = s.mean;
    c.max[i] = s.max;
    c.count[i] = BigInt(s.count);
    c.stddev[i] = s.stddev;
  }
  return c;
}

/** ArrowAlignedWindows / ArrowWindows answer (the windows schema; no templates). */
export function windowsToArrow(stats: readonly StatPoint[] | WindowColumns): Uint8Array {
  const c = Array.isArray(stats) ? windowColumnsOf(stats) : (stats as WindowColumns);
  return arrowStream(windowsSchema(), [c.times, c.min, c.mean, c.max, c.count, c.stddev]);
}

/** Subscribe pushes new points with the raw schema. */
export const subscriptionToArrow = (points: PointColumns): Uint8Array => rawValuesToArrow(points);

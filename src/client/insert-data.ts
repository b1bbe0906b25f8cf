/**
 * What `Stream.insert` accepts, turned into the engine's columnar PointBatch, and the split into
 * 50 000-point batches that btrdb-python makes (its `INSERT_BATCH_SIZE`).
 */
import { DbError } from '../core/errors.ts';
import type { MergePolicy, PointBatch } from '../core/types.ts';
import { MERGE_POLICIES } from '../core/types.ts';
import { type TimeInput, toNanos } from './time.ts';

/** Points as columns. Plain arrays are accepted too; numbers in `times` must be safe integers (ns). */
export interface PointColumns {
  readonly times: BigInt64Array | readonly (bigint | number)[];
  readonly values: Float64Array | readonly number[];
  readonly flags?: Uint32Array | readonly number[] | undefined;
}

/** Points as `[time, value]` pairs, like btrdb-python's list of tuples. */
export type PointPairs = readonly (readonly [TimeInput, number])[];

export type PointsInput = PointColumns | PointPairs;

/** btrdb-python's insert batch size: larger inserts are sent as several calls (not atomic). */
export const INSERT_BATCH_SIZE = 50_000;

/** Normalise insert input to typed columns. Throws 438 when the columns differ in length. */
export function toPointBatch(data: PointsInput): PointBatch {
  if (isColumns(data)) {
    const times = data.times instanceof BigInt64Array ? data.times : BigInt64Array.from(data.times, (t) => toNanos(t));
    const values = data.values instanceof Float64Array ? data.values : Float64Array.from(data.values);
    if (times.length !== values.length) {
      throw new DbError(438, `insert: ${times.length} times but ${values.length} values`);
    }
    if (data.flags === undefined) return { times, values };
    const flags = data.flags instanceof Uint32Array ? data.flags : Uint32Array.from(data.flags);
    if (flags.length !== times.length)
      throw new DbError(438, `insert: ${times.length} times but ${flags.length} flags`);
    return { times, values, flags };
  }
  const n = data.length;
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const pair = data[i]!;
    times[i] = toNanos(pair[0]);
    values[i] = pair[1];
  }
  return { times, values };
}

function isColumns(data: PointsInput): data is PointColumns {
  return !Array.isArray(data);
}

/** Consecutive slices of at most `size` points, in arrival order (views, not copies). */
export function* splitBatch(batch: PointBatch, size = INSERT_BATCH_SIZE): Generator<PointBatch> {
  const n = batch.times.length;
  for (let i = 0; i < n; i += size) {
    const j = Math.min(n, i + size);
    const slice = { times: batch.times.subarray(i, j), values: batch.values.subarray(i, j) };
    yield batch.flags === undefined ? slice : { ...slice, flags: batch.flags.subarray(i, j) };
  }
}

/** Validate a merge policy name (438 otherwise). */
export function checkMergePolicy(policy: string): MergePolicy {
  if ((MERGE_POLICIES as readonly string[]).includes(policy)) return policy as MergePolicy;
  throw new DbError(438, `unknown merge policy ${JSON.stringify(policy)}; use one of ${MERGE_POLICIES.join(', ')}`);
}

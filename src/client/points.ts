/**
 * The shapes of data the client hands out: btrdb-python's RawPoint and StatPoint, plus columnar
 * (typed-array) forms for bulk results. Times are always bigint ns.
 */
import type { StatPoint } from '../core/stat.ts';
import type { Version } from '../core/types.ts';

export type { StatPoint } from '../core/stat.ts';

/** One raw point (btrdb-python `RawPoint`). */
export interface RawPoint {
  readonly time: bigint;
  readonly value: number;
}

/** A point together with the stream version it was read at (btrdb-python's `(RawPoint, version)`). */
export interface PointAt extends RawPoint {
  readonly version: Version;
}

/**
 * Raw points as columns. `times` ascending (duplicates adjacent, in insertion order); `flags`, one
 * 32-bit quality word per point, is present only where the stream carries flags.
 */
export interface RawArrays {
  readonly times: BigInt64Array;
  readonly values: Float64Array;
  readonly flags?: Uint32Array | undefined;
}

/** Raw points of one read, with the version they were read at. */
export interface RawResult extends RawArrays {
  readonly version: Version;
}

/** A chunk of a streaming raw read: a slice of the points, ascending, plus the version. */
export type RawChunk = RawResult;

/** Window statistics of one read, with the version they were read at. */
export interface StatResult {
  readonly points: StatPoint[];
  readonly version: Version;
}

/** The statistics a window carries, as named by btrdb-python's `agg` options. */
export type StatField = 'min' | 'mean' | 'max' | 'count' | 'stddev';

export const STAT_FIELDS: readonly StatField[] = ['min', 'mean', 'max', 'count', 'stddev'];

/**
 * Window statistics as columns: one entry per window, `times` = window starts. `count` is a
 * Float64Array so it can be summed and joined like the others; it is exact up to 2^53 points.
 */
export interface StatColumns {
  readonly times: BigInt64Array;
  readonly min: Float64Array;
  readonly mean: Float64Array;
  readonly max: Float64Array;
  readonly count: Float64Array;
  readonly stddev: Float64Array;
}

/** StatPoint objects → columns. */
export function statColumns(points: readonly StatPoint[]): StatColumns {
  const n = points.length;
  const out = {
    times: new BigInt64Array(n),
    min: new Float64Array(n),
    mean: new Float64Array(n),
    max: new Float64Array(n),
    count: new Float64Array(n),
    stddev: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    out.times[i] = p.time;
    out.min[i] = p.min;
    out.mean[i] = p.mean;
    out.max[i] = p.max;
    out.count[i] = p.count;
    out.stddev[i] = p.stddev;
  }
  return out;
}

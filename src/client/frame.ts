/**
 * A Frame is the one tabular shape every transformer reads: a time column (bigint ns) and named
 * value columns of the same length. Float64 columns use NaN for "no value at this time" (the
 * convention of BTrDB's multi-stream Arrow answers); Uint32 columns carry quality flags (0 where
 * the stream has no point at that time).
 */
import { DbError } from '../core/errors.ts';

export interface FrameColumn {
  readonly name: string;
  readonly data: Float64Array | Uint32Array;
}

export interface Frame {
  readonly times: BigInt64Array;
  readonly columns: readonly FrameColumn[];
}

/** Throws 438 when two columns share a name or a column's length differs from the time column's. */
export function checkFrame(frame: Frame): void {
  const seen = new Set<string>(['time']);
  for (const c of frame.columns) {
    if (seen.has(c.name)) {
      throw new DbError(
        438,
        `duplicate column name ${JSON.stringify(c.name)}; name columns by uuid (columnName: 'uuid') or with a function`,
      );
    }
    seen.add(c.name);
    if (c.data.length !== frame.times.length) {
      throw new DbError(
        438,
        `column ${JSON.stringify(c.name)} has ${c.data.length} rows, time has ${frame.times.length}`,
      );
    }
  }
}

/**
 * Per-stream series, not joined (btrdb-python `to_series` / `to_array`): a map from column name
 * to that stream's own times and values (and flags when asked for and present).
 */
import { DbError } from '../../core/errors.ts';

export interface Series {
  readonly times: BigInt64Array;
  readonly values: Float64Array;
  readonly flags?: Uint32Array | undefined;
}

/** Name → series, keeping the given order. 438 when two series share a name. */
export function toSeriesRecord(
  named: readonly { readonly name: string; readonly series: Series }[],
): Record<string, Series> {
  const out: Record<string, Series> = {};
  for (const { name, series } of named) {
    if (Object.hasOwn(out, name)) {
      throw new DbError(438, `duplicate series name ${JSON.stringify(name)}; name series by uuid (columnName: 'uuid')`);
    }
    out[name] = series;
  }
  return out;
}

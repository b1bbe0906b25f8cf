/**
 * The table form of `StreamSet.insert`: shared times and one value column per member, the shape
 * `rows()` answers — so a joined table can be written back. NaN marks "no point here" and is
 * skipped, which also means this form cannot store NaN values (insert per stream for that).
 */
import { DbError } from '../core/errors.ts';
import { toNanos } from '../core/time.ts';
import type { PointsInput } from './insert-data.ts';
import type { Stream } from './stream.ts';

/** Values for all members at shared times; NaN cells are skipped (no point inserted there). */
export interface SetTable {
  readonly times: BigInt64Array | readonly (bigint | number)[];
  /** One column per member, in member order, or keyed by uuid. */
  readonly columns:
    | readonly Float64Array[]
    | ReadonlyMap<string, Float64Array>
    | Readonly<Record<string, Float64Array>>;
}

/** Split a table into each stream's points (uuid → columns without the NaN cells). 438 on shape errors. */
export function splitSetTable(table: SetTable, members: readonly Stream[]): Map<string, PointsInput> {
  const times = table.times instanceof BigInt64Array ? table.times : BigInt64Array.from(table.times, (t) => toNanos(t));
  const cols = table.columns;
  let byId: [string, Float64Array][];
  if (Array.isArray(cols)) {
    const list = cols as readonly Float64Array[];
    if (list.length !== members.length)
      throw new DbError(438, `insert: ${list.length} columns for ${members.length} streams`);
    byId = list.map((c, i) => [members[i]!.uuid, c]);
  } else if (cols instanceof Map) {
    byId = [...(cols as ReadonlyMap<string, Float64Array>)];
  } else {
    byId = Object.entries(cols as Readonly<Record<string, Float64Array>>);
  }
  const out = new Map<string, PointsInput>();
  for (const [id, values] of byId) {
    if (values.length !== times.length) {
      throw new DbError(438, `insert: column ${id} has ${values.length} rows, times ${times.length}`);
    }
    const keep: number[] = [];
    for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) keep.push(i);
    out.set(id, {
      times: BigInt64Array.from(keep, (i) => times[i]!),
      values: Float64Array.from(keep, (i) => values[i]!),
    });
  }
  return out;
}

/**
 * Aligning several streams on time, for `StreamSet.rows()` and every tabular transformer.
 *
 * - `outerJoin`: one row per distinct time (exact ns). If a stream holds several points at one time
 *   (merge policy `never`), that time gets as many rows as the stream with the most duplicates
 *   there; row r holds each stream's r-th point at that time, so no point is lost or paired twice.
 * - `snapJoin` (guide §4.14 "Snapping"): every point moves to the nearest time of the grid
 *   `start + k·period`, halves going up (at a 1 s period 0.5 s → 1 s, 0.5 s − 1 ns → 0 s); so points
 *   before `start` can snap in. Grid times outside [start, end) are dropped. When several points
 *   of one stream land on one grid time, the nearest wins, the later one on a tie. One row per
 *   grid time that holds data.
 *
 * Both answer a JoinIndex: the row times and, per stream, which of its points sits in each row
 * (−1 = none). `gather*` then pull any column through it.
 */
import { DbError } from '../core/errors.ts';
import { floorDiv } from '../core/time.ts';

export interface JoinIndex {
  readonly times: BigInt64Array;
  /** index[s][row] = position of stream s's point in that row, or −1. */
  readonly index: readonly Int32Array[];
}

/** Outer join of ascending time columns on exact times (see the module comment for duplicates). */
export function outerJoin(series: readonly BigInt64Array[]): JoinIndex {
  const k = series.length;
  let total = 0;
  for (const s of series) total += s.length;
  const times = new BigInt64Array(total);
  const index = series.map(() => new Int32Array(total));
  const pos = new Int32Array(k);
  const run = new Int32Array(k);
  let rows = 0;
  for (;;) {
    let found = false;
    let t = 0n;
    for (let s = 0; s < k; s++) {
      const col = series[s]!;
      if (pos[s]! < col.length && (!found || col[pos[s]!]! < t)) {
        t = col[pos[s]!]!;
        found = true;
      }
    }
    if (!found) break;
    let most = 0;
    for (let s = 0; s < k; s++) {
      const col = series[s]!;
      let n = 0;
      while (pos[s]! + n < col.length && col[pos[s]! + n] === t) n++;
      run[s] = n;
      if (n > most) most = n;
    }
    for (let r = 0; r < most; r++) {
      times[rows] = t;
      for (let s = 0; s < k; s++) index[s]![rows] = r < run[s]! ? pos[s]! + r : -1;
      rows++;
    }
    for (let s = 0; s < k; s++) pos[s]! += run[s]!;
  }
  return { times: times.slice(0, rows), index: index.map((ix) => ix.slice(0, rows)) };
}

/** The snapping period for a sampling frequency in Hz: ⌊1e9 / hz⌋ ns (guide §4.14). 438 if not > 0 or < 1 ns. */
export function snapPeriod(hz: number): bigint {
  if (!(hz > 0) || !Number.isFinite(hz))
    throw new DbError(438, `sampling frequency must be a positive number of Hz, got ${hz}`);
  const period = BigInt(Math.floor(1e9 / hz));
  if (period < 1n) throw new DbError(438, `sampling frequency ${hz} Hz is above 1 GHz: the period would be 0 ns`);
  return period;
}

/** The grid time a point at `t` snaps to: start + k·period, k = round((t − start)/period), halves up. */
export function snapTime(t: bigint, start: bigint, period: bigint): bigint {
  return start + floorDiv(2n * (t - start) + period, 2n * period) * period;
}

/** How far before `start` a point can lie and still snap to `start` (⌊period/2⌋ ns). */
export const snapReach = (period: bigint): bigint => period / 2n;

/** Join ascending time columns on the grid `start + k·period`, keeping grid times in [start, end). */
export function snapJoin(series: readonly BigInt64Array[], start: bigint, end: bigint, period: bigint): JoinIndex {
  const grids = series.map((times) => snapOne(times, start, end, period));
  const joined = outerJoin(grids.map((g) => g.times)); // grid times are unique per stream: no duplicates
  const index = joined.index.map((ix, s) => {
    const pick = grids[s]!.pick;
    return ix.map((i) => (i < 0 ? -1 : pick[i]!));
  });
  return { times: joined.times, index };
}

/** One stream's grid times with data, and for each the index of the winning point. */
function snapOne(
  times: BigInt64Array,
  start: bigint,
  end: bigint,
  period: bigint,
): { times: BigInt64Array; pick: Int32Array } {
  const out = new BigInt64Array(times.length);
  const pick = new Int32Array(times.length);
  let n = 0;
  let bestDistance = 0n;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    const g = snapTime(t, start, period);
    if (g < start || g >= end) continue;
    const d = t >= g ? t - g : g - t;
    if (n > 0 && out[n - 1] === g) {
      if (d <= bestDistance) {
        pick[n - 1] = i; // nearer, or as near and later
        bestDistance = d;
      }
      continue;
    }
    out[n] = g;
    pick[n] = i;
    bestDistance = d;
    n++;
  }
  return { times: out.slice(0, n), pick: pick.slice(0, n) };
}

/** Pull a float column through one stream's join index; rows without a point get NaN. */
export function gatherFloat(values: Float64Array, index: Int32Array): Float64Array {
  const out = new Float64Array(index.length);
  for (let r = 0; r < index.length; r++) {
    const i = index[r]!;
    out[r] = i < 0 ? Number.NaN : values[i]!;
  }
  return out;
}

/** Pull a flag column through one stream's join index; rows without a point get 0. */
export function gatherFlags(flags: Uint32Array, index: Int32Array): Uint32Array {
  const out = new Uint32Array(index.length);
  for (let r = 0; r < index.length; r++) {
    const i = index[r]!;
    out[r] = i < 0 ? 0 : flags[i]!;
  }
  return out;
}

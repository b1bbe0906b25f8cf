/**
 * Streaming joins of several streams' points on time, for ArrowMultiValues and GenerateCSV.
 * Each source yields ascending points in batches; the join is emitted in pieces as soon as every
 * source has moved past a time (the "horizon"), so memory stays at about one batch per source
 * whatever the range. Row semantics are those of the user API's `outerJoin` / `snapJoin`
 * (src/client/join.ts), which this reuses on each piece:
 * - exact join: one row per distinct time; a stream with several points at one time gives that
 *   time as many rows as its duplicates (row r = each stream's r-th point there);
 * - snapping: each point moves to the nearest grid time `start + k·period` (halves up), grid times
 *   outside [start, end) are dropped, and of several points on one grid time the nearest wins,
 *   the later one on a tie.
 */

import { gatherFloat, outerJoin, snapTime } from '../../client/join.ts';
import type { PointBatch } from '../../core/types.ts';

/** A piece of a join: row times and one value column per source (NaN where a source has no point). */
export interface JoinedRows {
  readonly times: BigInt64Array;
  readonly columns: readonly Float64Array[];
}

/** One source's points snapped to the grid, one point per grid time, grid times in [start, end). */
export async function* snapPoints(
  source: AsyncIterable<PointBatch>,
  start: bigint,
  end: bigint,
  period: bigint,
): AsyncGenerator<PointBatch> {
  let have = false;
  let pg = 0n;
  let pv = 0;
  let pd = 0n;
  for await (const b of source) {
    const times = new BigInt64Array(b.times.length + 1);
    const values = new Float64Array(b.times.length + 1);
    let n = 0;
    for (let i = 0; i < b.times.length; i++) {
      const t = b.times[i]!;
      const g = snapTime(t, start, period);
      if (g < start || g >= end) continue;
      const d = t >= g ? t - g : g - t;
      if (have && g === pg) {
        if (d <= pd) {
          pv = b.values[i]!;
          pd = d;
        }
        continue;
      }
      if (have) {
        times[n] = pg;
        values[n] = pv;
        n++;
      }
      have = true;
      pg = g;
      pv = b.values[i]!;
      pd = d;
    }
    if (n > 0) yield { times: times.subarray(0, n), values: values.subarray(0, n) };
  }
  if (have) yield { times: BigInt64Array.of(pg), values: Float64Array.of(pv) };
}

interface Cursor {
  readonly it: AsyncIterator<PointBatch>;
  times: BigInt64Array;
  values: Float64Array;
  done: boolean;
}

function append(c: Cursor, b: PointBatch): void {
  if (c.times.length === 0) {
    c.times = b.times;
    c.values = b.values;
    return;
  }
  const times = new BigInt64Array(c.times.length + b.times.length);
  times.set(c.times);
  times.set(b.times, c.times.length);
  const values = new Float64Array(times.length);
  values.set(c.values);
  values.set(b.values, c.values.length);
  c.times = times;
  c.values = values;
}

async function pull(c: Cursor): Promise<void> {
  const r = await c.it.next();
  if (r.done) c.done = true;
  else if (r.value.times.length > 0) append(c, r.value);
}

/** Index of the first time ≥ h (times ascending). */
function lowerBound(times: BigInt64Array, h: bigint): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < h) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Concatenate join pieces (same column count). */
function concatRows(parts: readonly JoinedRows[]): JoinedRows {
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((a, p) => a + p.times.length, 0);
  const times = new BigInt64Array(n);
  const columns = parts[0]!.columns.map(() => new Float64Array(n));
  let o = 0;
  for (const p of parts) {
    times.set(p.times, o);
    p.columns.forEach((c, i) => {
      columns[i]!.set(c, o);
    });
    o += p.times.length;
  }
  return { times, columns };
}

/**
 * Outer-join ascending sources on exact times, yielding pieces of exactly `rows` rows (the last
 * one shorter) in time order. Sources are pulled only as far as the join needs them and are
 * closed when the consumer stops early.
 */
export async function* joinSources(
  sources: readonly AsyncIterable<PointBatch>[],
  rows: number,
): AsyncGenerator<JoinedRows> {
  let pending: JoinedRows[] = [];
  let pendingRows = 0;
  for await (const piece of joinPieces(sources)) {
    let at = 0;
    while (at < piece.times.length) {
      const take = Math.min(rows - pendingRows, piece.times.length - at);
      pending.push({
        times: piece.times.subarray(at, at + take),
        columns: piece.columns.map((c) => c.subarray(at, at + take)),
      });
      pendingRows += take;
      at += take;
      if (pendingRows === rows) {
        yield concatRows(pending);
        pending = [];
        pendingRows = 0;
      }
    }
  }
  if (pendingRows > 0) yield concatRows(pending);
}

/** The join in pieces of whatever size the horizons allow. */
async function* joinPieces(sources: readonly AsyncIterable<PointBatch>[]): AsyncGenerator<JoinedRows> {
  const cursors: Cursor[] = sources.map((s) => ({
    it: s[Symbol.asyncIterator](),
    times: new BigInt64Array(0),
    values: new Float64Array(0),
    done: false,
  }));
  try {
    for (;;) {
      for (const c of cursors) while (!c.done && c.times.length === 0) await pull(c);
      let horizon: bigint | null = null;
      for (const c of cursors) {
        if (c.done) continue;
        const last = c.times[c.times.length - 1]!;
        if (horizon === null || last < horizon) horizon = last;
      }
      const cuts = cursors.map((c) => (horizon === null ? c.times.length : lowerBound(c.times, horizon)));
      if (cuts.some((k) => k > 0)) {
        const joined = outerJoin(cursors.map((c, i) => c.times.subarray(0, cuts[i]!)));
        const columns = cursors.map((c, i) => gatherFloat(c.values.subarray(0, cuts[i]!), joined.index[i]!));
        yield { times: joined.times, columns };
        cursors.forEach((c, i) => {
          c.times = c.times.subarray(cuts[i]!);
          c.values = c.values.subarray(cuts[i]!);
        });
      }
      if (horizon === null) return;
      // A source whose remaining points all lie at the horizon must read on before that time can
      // be joined (it may hold more points there); the others wait, so no buffer grows unbounded.
      for (const c of cursors)
        if (!c.done && c.times.length > 0 && c.times[c.times.length - 1]! <= horizon) await pull(c);
    }
  } finally {
    await Promise.all(cursors.map((c) => (c.done ? undefined : c.it.return?.())));
  }
}

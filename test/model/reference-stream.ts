/**
 * A deliberately simple in-memory reference model of ONE stream, for model-based tests of the real
 * engine (STYLE habit 8). It shares no code with the engine: a sorted array of points, plain loops,
 * bigint arithmetic for all time maths, and two-pass statistics (mean = Σv/n, then
 * variance = Σ(v − mean)²/n) instead of the engine's mergeable Summary. Speed is not a goal; being
 * obviously right is. Semantics follow docs guide btrdb-v5.md §4 (cited per method).
 *
 * The model does not validate input (the engine does): callers pass times in
 * [MIN_TIME, MAX_TIME), start < end, finite values; with anything else it just computes.
 */
import assert from 'node:assert/strict';
import type { StatPoint } from '../../src/core/stat.ts';
import type { MergePolicy } from '../../src/core/types.ts';

/** One raw point: time in ns, value a float64. */
export interface RefPoint {
  t: bigint;
  v: number;
}

/** True when two float64 values have the same bit pattern (so 0 ≠ −0, and NaN payloads matter). */
export function sameBits(a: number, b: number): boolean {
  FLOATS[0] = a;
  FLOATS[1] = b;
  return BITS[0] === BITS[1];
}
const FLOATS = new Float64Array(2);
const BITS = new BigUint64Array(FLOATS.buffer);

/** The largest multiple of `size` that is ≤ t (floor, also for negative t). `size` > 0. */
export function floorToMultiple(t: bigint, size: bigint): bigint {
  let r = t % size; // bigint % truncates toward zero, so r may be negative
  if (r < 0n) r += size;
  return t - r;
}

/** Statistics of one window by the plain two-pass formulas. Empty → count 0 and all zeros. */
export function statsOf(time: bigint, values: readonly number[]): StatPoint {
  const n = values.length;
  if (n === 0) return { time, min: 0, mean: 0, max: 0, count: 0, stddev: 0 };
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  return { time, min, mean, max, count: n, stddev: Math.sqrt(sq / n) };
}

export class ReferenceStream {
  /** Ascending by time; among equal times in insertion order. Points are never mutated in place. */
  private points: RefPoint[] = [];

  /**
   * Insert a batch (guide §4.3). Points are applied one by one in arrival order, each seeing the
   * stored points and the batch points accepted before it:
   * - never: keep every point (duplicates kept);
   * - equal: drop the new point only if a point with the same time and identical float64 bits exists;
   * - retain: drop the new point if any point with the same time exists (old wins);
   * - replace: the new point replaces ALL points at that time.
   * Accepted points go after existing points of the same time (stable insertion order).
   */
  insert(points: readonly RefPoint[], policy: MergePolicy): void {
    // The points at each time the batch touches, starting as the stored ones (in stored order)
    // and evolving as the batch is applied in arrival order.
    const touched = new Map<bigint, RefPoint[]>();
    for (const p of points) touched.set(p.t, []);
    for (const q of this.points) touched.get(q.t)?.push(q);
    for (const p of points) {
      const group = touched.get(p.t)!;
      const fresh: RefPoint = { t: p.t, v: p.v };
      switch (policy) {
        case 'never':
          group.push(fresh);
          break;
        case 'equal':
          if (!group.some((q) => sameBits(q.v, p.v))) group.push(fresh);
          break;
        case 'retain':
          if (group.length === 0) group.push(fresh);
          break;
        case 'replace':
          group.length = 0;
          group.push(fresh);
          break;
      }
    }
    // Rebuild: untouched stored points keep their place; each touched time's group replaces all
    // stored points at that time. Both lists are sorted by time, so a plain merge keeps order.
    const kept = this.points.filter((q) => !touched.has(q.t));
    const times = [...touched.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const merged: RefPoint[] = [];
    let i = 0;
    for (const t of times) {
      while (i < kept.length && kept[i]!.t < t) merged.push(kept[i++]!);
      for (const q of touched.get(t)!) merged.push(q); // no spread: a group can be huge
    }
    while (i < kept.length) merged.push(kept[i++]!);
    this.points = merged;
  }

  /** Delete all points with start ≤ t < end (guide §4.10). */
  deleteRange(start: bigint, end: bigint): void {
    this.points = this.points.filter((p) => !(start <= p.t && p.t < end));
  }

  /** An independent copy, for keeping old versions. */
  snapshot(): ReferenceStream {
    const copy = new ReferenceStream();
    copy.points = this.points.map((p) => ({ t: p.t, v: p.v }));
    return copy;
  }

  /** Points with start ≤ t < end, ascending by time, equal times in insertion order (guide §4.4). */
  values(start: bigint, end: bigint): RefPoint[] {
    return this.points.filter((p) => start <= p.t && p.t < end).map((p) => ({ t: p.t, v: p.v }));
  }

  /**
   * Aligned windows (guide §4.5): start' and end' are start and end floored to a multiple of 2^pw;
   * one StatPoint per window [w, w + 2^pw) with start' ≤ w < end' that holds at least one point.
   * So points in [start', start) count and points in [end', end) do not.
   */
  alignedWindows(start: bigint, end: bigint, pw: number): StatPoint[] {
    const size = 1n << BigInt(pw);
    const lo = floorToMultiple(start, size);
    const hi = floorToMultiple(end, size);
    const out: StatPoint[] = [];
    let current: bigint | undefined;
    let bucket: number[] = [];
    for (const p of this.points) {
      if (p.t < lo || p.t >= hi) continue;
      const w = floorToMultiple(p.t, size);
      if (w !== current) {
        if (current !== undefined) out.push(statsOf(current, bucket));
        current = w;
        bucket = [];
      }
      bucket.push(p.v);
    }
    if (current !== undefined) out.push(statsOf(current, bucket));
    return out;
  }

  /**
   * Windows of any width (guide §4.6): [start + k·width, start + (k+1)·width) for every k with
   * start + (k+1)·width ≤ end, so a window crossing `end` is dropped. Empty windows ARE emitted
   * (count 0, min = mean = max = stddev = 0). width > 0.
   */
  windows(start: bigint, end: bigint, width: bigint): StatPoint[] {
    const n = end > start ? (end - start) / width : 0n; // both positive: truncation = floor
    const buckets: number[][] = [];
    for (let k = 0n; k < n; k++) buckets.push([]);
    const stop = start + n * width;
    for (const p of this.points) {
      if (p.t < start || p.t >= stop) continue;
      buckets[Number((p.t - start) / width)]!.push(p.v);
    }
    return buckets.map((values, k) => statsOf(start + BigInt(k) * width, values));
  }

  /**
   * Nearest (guide §4.8). Forward: the point with the smallest t ≥ time, the first stored at that
   * time. Backward: the point with the largest t strictly < time, the LAST stored at that time
   * (what a backward scan meets first). undefined when there is none.
   */
  nearest(time: bigint, backward: boolean): RefPoint | undefined {
    let found: RefPoint | undefined;
    if (backward) {
      for (const p of this.points) if (p.t < time) found = p; // ascending: the last one wins
    } else {
      for (const p of this.points) {
        if (p.t >= time) {
          found = p;
          break;
        }
      }
    }
    return found === undefined ? undefined : { t: found.t, v: found.v };
  }

  /** Number of points with start ≤ t < end. */
  count(start: bigint, end: bigint): number {
    let n = 0;
    for (const p of this.points) if (start <= p.t && p.t < end) n++;
    return n;
  }

  /** Every stored point, in stored order. */
  all(): RefPoint[] {
    return this.points.map((p) => ({ t: p.t, v: p.v }));
  }
}

/**
 * Tolerance for mean and stddev: 1e-9 relative to the largest magnitude in the window
 * (max(|min|, |max|)), and at least 1e-9 absolute. Relative to the mean alone would be unfair:
 * when large values cancel, the mean is near zero while every summation order carries rounding
 * error of about ε·max|v|. The engine's Welford/Chan moments and the model's two passes differ
 * by that much, which is far below 1e-9·max|v|.
 */
function close(actual: number, expected: number, scale: number): boolean {
  if (Object.is(actual, expected)) return true;
  const tol = 1e-9 * Math.max(1, Math.abs(expected), scale);
  return Math.abs(actual - expected) <= tol;
}

/**
 * Compare engine window answers with the model's: time, count, min, max exactly (0 === −0), mean
 * and stddev within the tolerance of {@link close}. Throws an AssertionError naming the first
 * mismatch (index, field, both values).
 */
export function assertStatsEqual(actual: readonly StatPoint[], expected: readonly StatPoint[], context: string): void {
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const where = `${context}: window ${i}`;
    if (a.time !== e.time) assert.fail(`${where} field time: actual ${a.time}, expected ${e.time}`);
    if (a.count !== e.count)
      assert.fail(`${where} (time ${e.time}) field count: actual ${a.count}, expected ${e.count}`);
    if (a.min !== e.min) assert.fail(`${where} (time ${e.time}) field min: actual ${a.min}, expected ${e.min}`);
    if (a.max !== e.max) assert.fail(`${where} (time ${e.time}) field max: actual ${a.max}, expected ${e.max}`);
    const scale = Math.max(Math.abs(e.min), Math.abs(e.max));
    if (!close(a.mean, e.mean, scale)) {
      assert.fail(`${where} (time ${e.time}) field mean: actual ${a.mean}, expected ${e.mean}`);
    }
    if (!close(a.stddev, e.stddev, scale)) {
      assert.fail(`${where} (time ${e.time}) field stddev: actual ${a.stddev}, expected ${e.stddev}`);
    }
  }
  if (actual.length !== expected.length) {
    const extra = actual.length > expected.length ? `actual has extra ${describeStat(actual[n])}` : '';
    const missing = expected.length > actual.length ? `actual lacks ${describeStat(expected[n])}` : '';
    assert.fail(
      `${context}: ${actual.length} windows, expected ${expected.length}; first difference at ${n}: ${extra}${missing}`,
    );
  }
}

function describeStat(s: StatPoint | undefined): string {
  return s === undefined ? '-' : `{time ${s.time}, count ${s.count}, min ${s.min}, mean ${s.mean}, max ${s.max}}`;
}

/**
 * Compare engine raw points with the model's: times exactly, values with Object.is (so −0 ≠ 0).
 * Throws an AssertionError naming the first mismatch (index, field, both values).
 */
export function assertPointsEqual(
  actual: { times: BigInt64Array; values: Float64Array },
  expected: readonly RefPoint[],
  context: string,
): void {
  if (actual.times.length !== actual.values.length) {
    assert.fail(`${context}: ${actual.times.length} times but ${actual.values.length} values`);
  }
  const n = Math.min(actual.times.length, expected.length);
  for (let i = 0; i < n; i++) {
    const t = actual.times[i]!;
    const v = actual.values[i]!;
    const e = expected[i]!;
    if (t !== e.t) assert.fail(`${context}: point ${i} field time: actual ${t}, expected ${e.t}`);
    if (!Object.is(v, e.v))
      assert.fail(`${context}: point ${i} (time ${e.t}) field value: actual ${v}, expected ${e.v}`);
  }
  if (actual.times.length !== expected.length) {
    const first =
      actual.times.length > expected.length
        ? `actual has extra (${actual.times[n]}, ${actual.values[n]})`
        : `actual lacks (${expected[n]!.t}, ${expected[n]!.v})`;
    assert.fail(
      `${context}: ${actual.times.length} points, expected ${expected.length}; first difference at ${n}: ${first}`,
    );
  }
}

/**
 * Columnar point batches and the pure operations on them: sorting (stable), slicing by time,
 * concatenation and merge-policy resolution. Typed arrays only; bigint appears per element only in
 * comparisons.
 */
import type { MergePolicy, PointBatch } from '../core/types.ts';

export type { PointBatch };

export const EMPTY_BATCH: PointBatch = { times: new BigInt64Array(0), values: new Float64Array(0) };

export const batchLength = (b: PointBatch): number => b.times.length;

export function isSorted(times: BigInt64Array): boolean {
  for (let i = 1; i < times.length; i++) if (times[i]! < times[i - 1]!) return false;
  return true;
}

/** Sort by time, stable (equal times keep arrival order). Returns the input when already sorted. */
export function sortStable(b: PointBatch): PointBatch {
  if (isSorted(b.times)) return b;
  const n = b.times.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const t = b.times;
  idx.sort((x, y) => {
    const a = t[x]!;
    const c = t[y]!;
    return a < c ? -1 : a > c ? 1 : x - y;
  });
  return permute(b, idx);
}

function permute(b: PointBatch, idx: Uint32Array): PointBatch {
  const n = idx.length;
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  const flags = b.flags ? new Uint32Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const j = idx[i]!;
    times[i] = b.times[j]!;
    values[i] = b.values[j]!;
    if (flags) flags[i] = b.flags![j]!;
  }
  return { times, values, flags };
}

/** First index i in [lo, hi) with times[i] ≥ t (hi if none). */
export function lowerBound(times: BigInt64Array, t: bigint, lo = 0, hi = times.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A view of points [lo, hi) (no copy). */
export function slice(b: PointBatch, lo: number, hi: number): PointBatch {
  return {
    times: b.times.subarray(lo, hi),
    values: b.values.subarray(lo, hi),
    flags: b.flags?.subarray(lo, hi),
  };
}

/** Concatenate batches in order (flags kept if any batch has them; missing flags become 0). */
export function concat(parts: readonly PointBatch[]): PointBatch {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  let anyFlags = false;
  for (const p of parts) {
    n += p.times.length;
    if (p.flags) anyFlags = true;
  }
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  const flags = anyFlags ? new Uint32Array(n) : undefined;
  let at = 0;
  for (const p of parts) {
    times.set(p.times, at);
    values.set(p.values, at);
    if (flags && p.flags) flags.set(p.flags, at);
    at += p.times.length;
  }
  return { times, values, flags };
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
function sameBits(a: number, b: number): boolean {
  f64[0] = a;
  const a0 = u32[0];
  const a1 = u32[1];
  f64[0] = b;
  return a0 === u32[0] && a1 === u32[1];
}

/**
 * Merge `incoming` (sorted stably, arrival order within equal times) into `stored` (sorted) under a
 * merge policy, BTrDB semantics (docs/btrdb semantics §4.3):
 * - never: keep everything; stored points precede new ones at equal times.
 * - equal: drop a new point when a point with the same time and identical float64 bits exists
 *   (stored, or earlier in the batch).
 * - retain: drop a new point when any point with its time exists (stored or earlier in the batch).
 * - replace: a new point removes every existing point with its time (stored or earlier in the batch).
 */
export function mergePoints(stored: PointBatch, incoming: PointBatch, policy: MergePolicy): PointBatch {
  const ns = stored.times.length;
  const ni = incoming.times.length;
  const cap = ns + ni;
  const times = new BigInt64Array(cap);
  const values = new Float64Array(cap);
  const anyFlags = stored.flags !== undefined || incoming.flags !== undefined;
  const flags = anyFlags ? new Uint32Array(cap) : undefined;
  let n = 0;
  const push = (b: PointBatch, k: number): void => {
    times[n] = b.times[k]!;
    values[n] = b.values[k]!;
    if (flags) flags[n] = b.flags ? b.flags[k]! : 0;
    n++;
  };
  let i = 0;
  let j = 0;
  while (i < ns || j < ni) {
    if (j >= ni || (i < ns && stored.times[i]! < incoming.times[j]!)) {
      push(stored, i++);
      continue;
    }
    if (i >= ns || incoming.times[j]! < stored.times[i]!) {
      // A run of new points with no stored point at their time: resolve within the batch.
      const t = incoming.times[j]!;
      const groupStart = n;
      while (j < ni && incoming.times[j] === t) {
        addWithPolicy(incoming, j++, groupStart);
      }
      continue;
    }
    // Equal times: copy the stored group, then resolve the new group against it.
    const t = stored.times[i]!;
    const groupStart = n;
    while (i < ns && stored.times[i] === t) push(stored, i++);
    while (j < ni && incoming.times[j] === t) addWithPolicy(incoming, j++, groupStart);
  }
  return { times: times.subarray(0, n), values: values.subarray(0, n), flags: flags?.subarray(0, n) };

  function addWithPolicy(b: PointBatch, k: number, groupStart: number): void {
    switch (policy) {
      case 'never':
        push(b, k);
        return;
      case 'retain':
        if (n === groupStart) push(b, k);
        return;
      case 'replace':
        n = groupStart;
        push(b, k);
        return;
      case 'equal': {
        const v = b.values[k]!;
        for (let g = groupStart; g < n; g++) if (sameBits(values[g]!, v)) return;
        push(b, k);
        return;
      }
    }
  }
}

/** Remove points with start ≤ t < end. Returns the input when nothing is removed. */
export function deleteRange(b: PointBatch, start: bigint, end: bigint): PointBatch {
  const lo = lowerBound(b.times, start);
  const hi = lowerBound(b.times, end, lo);
  if (lo === hi) return b;
  return concat([slice(b, 0, lo), slice(b, hi, b.times.length)]);
}

/**
 * Statistics over a sub-range of a decoded leaf, fast: each decoded leaf lazily gets per-chunk
 * summaries (32 points a chunk), so a range costs at most two partial chunks of raw values plus one
 * merge per whole chunk — what makes window edges that cut through leaves cheap.
 */
import type { LeafColumns } from '../codec/types.ts';
import type { Summary } from '../core/stat.ts';
import { summarize } from './node-ref.ts';

const CHUNK = 32;

interface ChunkStats {
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
}

const chunkCache = new WeakMap<Float64Array, ChunkStats>();

function chunksOf(values: Float64Array): ChunkStats {
  let c = chunkCache.get(values);
  if (c) return c;
  const k = Math.ceil(values.length / CHUNK);
  c = { mean: new Float64Array(k), m2: new Float64Array(k), min: new Float64Array(k), max: new Float64Array(k) };
  for (let j = 0; j < k; j++) {
    const s = summarize(values, j * CHUNK, Math.min(values.length, (j + 1) * CHUNK));
    c.mean[j] = s.mean;
    c.m2[j] = s.m2;
    c.min[j] = s.min;
    c.max[j] = s.max;
  }
  chunkCache.set(values, c);
  return c;
}

/** Merge the statistics of values[lo, hi) of a leaf into `into`. */
export function addRange(into: Summary, leaf: LeafColumns, lo: number, hi: number): void {
  const values = leaf.values;
  if (hi - lo < 2 * CHUNK) {
    const s = summarize(values, lo, hi);
    into.merge(s.count, s.mean, s.m2, s.min, s.max);
    return;
  }
  const firstWhole = Math.ceil(lo / CHUNK);
  const lastWhole = Math.floor(hi / CHUNK); // chunks [firstWhole, lastWhole) lie inside
  const head = summarize(values, lo, firstWhole * CHUNK);
  into.merge(head.count, head.mean, head.m2, head.min, head.max);
  const c = chunksOf(values);
  for (let j = firstWhole; j < lastWhole; j++) {
    const n = Math.min(values.length, (j + 1) * CHUNK) - j * CHUNK;
    into.merge(n, c.mean[j]!, c.m2[j]!, c.min[j]!, c.max[j]!);
  }
  const tail = summarize(values, lastWhole * CHUNK, hi);
  into.merge(tail.count, tail.mean, tail.m2, tail.min, tail.max);
}

/**
 * Choosing among predictor candidates cheaply: the clock periods worth trying, and a comparison of
 * all candidates on a small sample of the column. Helpers of int-column-plan.ts.
 */

import type { Predictor } from './int-column-format.ts';
import * as format from './int-column-format.ts';
import * as int64 from './int64.ts';

// Hot code reads module constants, not imported bindings (see the note in int64.ts).
const { LINEAR, PREV, PREV2, STRIDE } = format;
const { HI, LO, TWO_52, bitsOf } = int64;
const TWO_32 = 4294967296;
const CHUNK = 32;
/** The sample: the first SAMPLE_RUN values of up to SAMPLE_CHUNKS chunks spread over the column. */
const SAMPLE_CHUNKS = 4;
const SAMPLE_RUN = 16;
const samplePicks = new Int32Array(SAMPLE_CHUNKS);

/** rel[i] = x(i) − x0 for from ≤ i < to (exact below 2^53). */
export function relativeRange(src: Int32Array, from: number, to: number, r: Float64Array): void {
  const h0 = src[HI]!;
  const l0 = src[LO]! >>> 0;
  for (let i = from; i < to; i++) r[i] = (src[2 * i + HI]! - h0) * TWO_32 + ((src[2 * i + LO]! >>> 0) - l0);
}

/** Candidate k's α (which 0), β (1) or S (2) in r = x − α·x(i−1) − β·x(i−2) − i·S. */
function coefficient(list: [Predictor, number][], k: number, which: number): number {
  const c = k < list.length ? list[k]! : list[0]!;
  const p = c[0];
  if (which === 0) return p === PREV ? 1 : p === LINEAR ? 2 : 0;
  if (which === 1) return p === PREV2 ? 1 : p === LINEAR ? -1 : 0;
  return p === STRIDE ? c[1] : 0;
}

/**
 * The candidate with the fewest bits over the sample chunks (ties: earliest in the list). One
 * fused pass evaluates every candidate as r = x − α·x(i−1) − β·x(i−2) − i·S (close enough for a
 * choice; the winner is then computed exactly). The power-of-two part of a common scale is
 * credited, from the OR of the residuals' offsets from the first; a full gcd costs ~0.5 µs of
 * double modulos, so it is computed for the winner alone.
 */
export function pickBySample(
  src: Int32Array,
  r: Float64Array,
  m: number,
  nChunks: number,
  list: [Predictor, number][],
): [Predictor, number] {
  const picks = samplePicks;
  const nPicks = Math.min(nChunks, SAMPLE_CHUNKS);
  for (let s = 0; s < nPicks; s++)
    picks[s] = nChunks <= SAMPLE_CHUNKS ? s : Math.round((s * (nChunks - 1)) / (SAMPLE_CHUNKS - 1));
  const q = list.length;
  const a0 = coefficient(list, 0, 0);
  const b0 = coefficient(list, 0, 1);
  const s0 = coefficient(list, 0, 2);
  const a1 = coefficient(list, 1, 0);
  const b1 = coefficient(list, 1, 1);
  const s1 = coefficient(list, 1, 2);
  const a2 = coefficient(list, 2, 0);
  const b2 = coefficient(list, 2, 1);
  const s2 = coefficient(list, 2, 2);
  const a3 = coefficient(list, 3, 0);
  const b3 = coefficient(list, 3, 1);
  const s3 = coefficient(list, 3, 2);
  relativeRange(src, 0, 2, r);
  const first = r[1]!;
  // Every candidate predicts x0 for i = 1 except STRIDE (x0 + S).
  const f0 = first - s0;
  const f1 = first - s1;
  const f2 = first - s2;
  const f3 = first - s3;
  let o0 = 0;
  let o1 = 0;
  let o2 = 0;
  let o3 = 0;
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  for (let p = 0; p < nPicks; p++) {
    const from = picks[p]! * CHUNK + 1;
    const end = Math.min(m + 1, from + SAMPLE_RUN);
    relativeRange(src, Math.max(0, from - 2), end, r);
    let b = from >= 2 ? r[from - 2]! : 0;
    let a = r[from - 1]!;
    if (from === 1) b = 0;
    let n0 = Number.POSITIVE_INFINITY;
    let n1 = n0;
    let n2 = n0;
    let n3 = n0;
    let x0 = Number.NEGATIVE_INFINITY;
    let x1 = x0;
    let x2 = x0;
    let x3 = x0;
    for (let i = from; i < end; i++) {
      const x = r[i]!;
      const e0 = x - a0 * a - b0 * b - i * s0;
      const e1 = x - a1 * a - b1 * b - i * s1;
      const e2 = x - a2 * a - b2 * b - i * s2;
      const e3 = x - a3 * a - b3 * b - i * s3;
      b = a;
      a = x;
      n0 = Math.min(e0, n0);
      x0 = Math.max(e0, x0);
      n1 = Math.min(e1, n1);
      x1 = Math.max(e1, x1);
      n2 = Math.min(e2, n2);
      x2 = Math.max(e2, x2);
      n3 = Math.min(e3, n3);
      x3 = Math.max(e3, x3);
      o0 |= Math.abs(e0 - f0) >>> 0;
      o1 |= Math.abs(e1 - f1) >>> 0;
      o2 |= Math.abs(e2 - f2) >>> 0;
      o3 |= Math.abs(e3 - f3) >>> 0;
    }
    const count = end - from;
    w0 += count * bitsOf(x0 - n0);
    w1 += count * bitsOf(x1 - n1);
    w2 += count * bitsOf(x2 - n2);
    w3 += count * bitsOf(x3 - n3);
  }
  const bits = [w0, w1, w2, w3];
  const ors = [o0, o1, o2, o3];
  let best = 0;
  let bestBits = Number.POSITIVE_INFINITY;
  let sampled = 0;
  for (let p = 0; p < nPicks; p++)
    sampled += Math.min(m + 1, picks[p]! * CHUNK + 1 + SAMPLE_RUN) - (picks[p]! * CHUNK + 1);
  for (let k = 0; k < q; k++) {
    // Each common trailing zero bit saves one bit per value, down to zero width.
    // An OR of 0: every offset is a multiple of 2^32 (or zero) — credit 32 bits, the most seen.
    const tz = ors[k] === 0 ? 32 : ctz(ors[k]!);
    const b = Math.max(0, bits[k]! - tz * sampled);
    if (b < bestBits) {
      bestBits = b;
      best = k;
    }
  }
  return list[best]!;
}

/**
 * Two STRIDE candidates for a clock: the least-squares slope (the exact period under symmetric
 * jitter) and the median of sampled steps (exact for a clean clock with duplicates and gaps).
 */
export function guessStrides(src: Int32Array, c: number): [number, number] {
  const h0 = src[HI]!;
  const l0 = src[LO]! >>> 0;
  const samples = strideSamples;
  const step = Math.max(1, Math.floor((c - 1) / 15));
  let n = 0;
  for (let i = 1; i < c && n < samples.length; i += step) {
    const d =
      (src[2 * i + HI]! - src[2 * i - 2 + HI]!) * TWO_32 + ((src[2 * i + LO]! >>> 0) - (src[2 * i - 2 + LO]! >>> 0));
    samples[n++] = d;
  }
  const median = samples.subarray(0, n).sort()[n >> 1]!;
  const mid = (c - 1) / 2;
  let num = 0;
  let den = 0;
  for (let i = 0; i < c; i++) {
    const d = i - mid;
    num += d * ((src[2 * i + HI]! - h0) * TWO_32 + ((src[2 * i + LO]! >>> 0) - l0));
    den += d * d;
  }
  const ls = Math.round(num / den);
  const a = Number.isSafeInteger(ls) && Math.abs(ls) < TWO_52 ? ls : 0;
  return [a, Number.isSafeInteger(median) && Math.abs(median) < TWO_52 ? median : a];
}

const strideSamples = new Float64Array(16);

/** Count of trailing zero bits of a non-zero int32. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

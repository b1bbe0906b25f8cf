/**
 * Choosing how to pack an int64 column: predictor (and stride), group size and common scale.
 *
 * Candidates are first compared on a sample of up to four 32-value chunks spread over the column
 * (all of it when it has at most four); the winner's residuals are then computed in full, with
 * per-chunk min/max, from which the group size and the exact size follow. Residuals live in
 * doubles as x(i) − x0 differences: exact when the column's span is below 2^51 and every residual
 * below 2^52 (the "exact" case, the only one where a scale D > 1 is used), estimates otherwise.
 */
import * as format from './int-column-format.ts';
import type { Predictor } from './int-column-format.ts';
import * as int64 from './int64.ts';

// Hot code reads module constants, not imported bindings (see the note in int64.ts).
const { LINEAR, PREV, PREV2, STRIDE } = format;
const { HI, LO, TWO_52, bitsOf, gcd, varintLength, zigzagNumber, zigzagVarintLength64 } = int64;
const TWO_32 = 4294967296;

/** How one int64 column will be written. */
export interface IntPlan {
  readonly predictor: Predictor;
  /** S for STRIDE (a safe integer), else 0. */
  readonly stride: number;
  readonly groupLog2: number;
  /** Common divisor D ≥ 1 of every residual's offset from its group's base. */
  readonly scale: number;
  /** True when residuals are exact in doubles (|r| < 2^52): the encoder takes the double path. */
  readonly exact: boolean;
  /** Encoded size in bytes (exact when `exact`, an estimate otherwise). */
  readonly bytes: number;
  /** Exact case: each group's min and max residual (the base is the min). */
  readonly groupMin: Float64Array;
  readonly groupMax: Float64Array;
  /** Identifies the residual scratch this plan computed (see {@link plannedResiduals}). */
  readonly token: number;
}

/**
 * Which predictors to try: 'clock' (timestamps: prev, linear, and stride at the least-squares
 * period and at the median step), 'signal' (values: prev, prev2, linear, frame of reference), or
 * one predictor (with a stride for STRIDE; omitted = the least-squares period).
 */
export type IntCandidates = 'clock' | 'signal' | { readonly predictor: Predictor; readonly stride?: number | undefined };

/** Group sizes the encoder tries (log2): 32 … 256 values. */
const GROUP_CHOICES = [5, 6, 7, 8];
const CHUNK = 32;
/** The sample: the first SAMPLE_RUN values of up to SAMPLE_CHUNKS chunks spread over the column. */
const SAMPLE_CHUNKS = 4;
const SAMPLE_RUN = 16;
const samplePicks = new Int32Array(SAMPLE_CHUNKS);
const SPAN_LIMIT = TWO_52 / 2;

let rel = new Float64Array(1024);
let res = new Float64Array(1024);
let chunkMin = new Float64Array(64);
let chunkMax = new Float64Array(64);
/** Token of the plan whose residuals are in `res`. */
let resToken = 0;
let lastToken = 0;

/** Plan the cheapest packing of `c` int64s given as halves in `src` (an Int32Array, 2 per value). */
export function planIntColumn(src: Int32Array, c: number, candidates: IntCandidates): IntPlan {
  const head = zigzagVarintLength64(src[HI]!, src[LO]!);
  const token = ++lastToken;
  if (c < 2) {
    const none = new Float64Array(0);
    return { predictor: PREV, stride: 0, groupLog2: 5, scale: 1, exact: true, bytes: head, groupMin: none, groupMax: none, token };
  }
  const m = c - 1;
  const nChunks = Math.ceil(m / CHUNK);
  if (rel.length < c) rel = new Float64Array(Math.max(c, rel.length * 2));
  if (res.length < m) res = new Float64Array(Math.max(m, res.length * 2));
  if (chunkMin.length < nChunks) {
    chunkMin = new Float64Array(nChunks * 2);
    chunkMax = new Float64Array(nChunks * 2);
  }
  const r = rel;
  let list: [Predictor, number][];
  if (candidates === 'signal') {
    list = [
      [PREV2, 0],
      [PREV, 0],
      [LINEAR, 0],
      [STRIDE, 0],
    ];
  } else if (candidates === 'clock') {
    const [ls, median] = guessStrides(src, c);
    list = [
      [STRIDE, ls],
      [STRIDE, median],
      [PREV, 0],
      [LINEAR, 0],
    ];
  } else {
    const p = candidates.predictor;
    list = [[p, p !== STRIDE ? 0 : (candidates.stride ?? guessStrides(src, c)[0])]];
  }
  const [predictor, stride] = list.length === 1 ? list[0]! : pickBySample(src, r, m, nChunks, list);
  const out = res;
  const maxRel = residualsWithStats(src, c, predictor, stride, out, nChunks);
  resToken = token;
  const exact = maxRel < SPAN_LIMIT && residualMax < TWO_52;
  const scale = exact ? commonScale(out, m) : 1;
  const fixed = head + 1 + (predictor === STRIDE ? varintLength(zigzagNumber(stride)) : 0) + varintLength(scale);
  let bestG = GROUP_CHOICES[0]!;
  let bestBytes = Number.POSITIVE_INFINITY;
  for (const g of GROUP_CHOICES) {
    const bytes = fixed + groupedCost(m, nChunks, g, scale);
    if (bytes < bestBytes) {
      bestBytes = bytes;
      bestG = g;
    }
  }
  const [groupMin, groupMax] = groupStats(m, nChunks, bestG);
  return { predictor, stride, groupLog2: bestG, scale, exact, bytes: bestBytes, groupMin, groupMax, token };
}

/** The residuals `plan` computed, if the scratch still holds them (else null: recompute). */
export function plannedResiduals(plan: IntPlan): Float64Array | null {
  return plan.token === resToken ? res : null;
}

/** rel[i] = x(i) − x0 for from ≤ i < to (exact below 2^53). */
function relativeRange(src: Int32Array, from: number, to: number, r: Float64Array): void {
  const h0 = src[HI]!;
  const l0 = src[LO]! >>> 0;
  for (let i = from; i < to; i++) r[i] = (src[2 * i + HI]! - h0) * TWO_32 + ((src[2 * i + LO]! >>> 0) - l0);
}

/** x(i) − x0 for the column in `src`, into shared scratch (valid until the next call). */
export function relativeScratch(src: Int32Array, c: number): Float64Array {
  if (rel.length < c) rel = new Float64Array(Math.max(c, rel.length * 2));
  relativeRange(src, 0, c, rel);
  return rel;
}

/** Shared residual scratch of at least `m` doubles (valid until the next plan). */
export function residualScratch(m: number): Float64Array {
  if (res.length < m) res = new Float64Array(Math.max(m, res.length * 2));
  resToken = 0;
  return res;
}

/**
 * Residuals r(i) = x(i) − pred(i) for i = 1…c−1 into out[i−1], from r = x − x0. For i = 1, PREV2
 * and LINEAR predict x0. The planner's fused pass uses the same operations in the same order, so
 * the plan's group bases match what the encoder computes here.
 */
export function residuals(r: Float64Array, c: number, predictor: Predictor, stride: number, out: Float64Array): void {
  if (predictor === STRIDE) {
    for (let i = 1; i < c; i++) out[i - 1] = r[i]! - i * stride;
    return;
  }
  if (predictor === PREV) {
    for (let i = 1; i < c; i++) out[i - 1] = r[i]! - r[i - 1]!;
    return;
  }
  out[0] = r[1]!;
  if (predictor === PREV2) for (let i = 2; i < c; i++) out[i - 1] = r[i]! - r[i - 2]!;
  else for (let i = 2; i < c; i++) out[i - 1] = r[i]! - r[i - 1]! - (r[i - 1]! - r[i - 2]!);
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
function pickBySample(src: Int32Array, r: Float64Array, m: number, nChunks: number, list: [Predictor, number][]): [Predictor, number] {
  const picks = samplePicks;
  const nPicks = Math.min(nChunks, SAMPLE_CHUNKS);
  for (let s = 0; s < nPicks; s++) picks[s] = nChunks <= SAMPLE_CHUNKS ? s : Math.round((s * (nChunks - 1)) / (SAMPLE_CHUNKS - 1));
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
      n0 = e0 < n0 ? e0 : n0;
      x0 = e0 > x0 ? e0 : x0;
      n1 = e1 < n1 ? e1 : n1;
      x1 = e1 > x1 ? e1 : x1;
      n2 = e2 < n2 ? e2 : n2;
      x2 = e2 > x2 ? e2 : x2;
      n3 = e3 < n3 ? e3 : n3;
      x3 = e3 > x3 ? e3 : x3;
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
  for (let p = 0; p < nPicks; p++) sampled += Math.min(m + 1, picks[p]! * CHUNK + 1 + SAMPLE_RUN) - (picks[p]! * CHUNK + 1);
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

/** Largest |residual| seen by the last `residualsWithStats`. */
let residualMax = 0;

/**
 * Residuals of the column in `src` into out[0 … c−1) with per-chunk min/max (chunkMin/chunkMax)
 * and their largest magnitude (`residualMax`), in one pass that computes x(i) − x0 on the fly;
 * returns max |x(i) − x0|. Same arithmetic as `residuals`, operation for operation.
 */
function residualsWithStats(src: Int32Array, c: number, predictor: Predictor, stride: number, out: Float64Array, nChunks: number): number {
  const cmin = chunkMin;
  const cmax = chunkMax;
  const h0 = src[HI]!;
  const l0 = src[LO]! >>> 0;
  let abs = 0;
  let relAbs = 0;
  let a = 0; // x(i−2) − x0, with x(−1) = x0
  let b = 0; // x(i−1) − x0
  for (let k = 0; k < nChunks; k++) {
    const from = k * CHUNK + 1;
    const end = Math.min(c, from + CHUNK);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    let ra = 0;
    // One loop per predictor: a predictor test inside the loop measured 2× slower.
    if (predictor === STRIDE) {
      for (let i = from; i < end; i++) {
        const x = (src[2 * i + HI]! - h0) * TWO_32 + ((src[2 * i + LO]! >>> 0) - l0);
        const v = x - i * stride;
        out[i - 1] = v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        const ax = x < 0 ? -x : x;
        ra = ax > ra ? ax : ra;
      }
    } else if (predictor === PREV) {
      for (let i = from; i < end; i++) {
        const x = (src[2 * i + HI]! - h0) * TWO_32 + ((src[2 * i + LO]! >>> 0) - l0);
        const v = x - b;
        b = x;
        out[i - 1] = v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        const ax = x < 0 ? -x : x;
        ra = ax > ra ? ax : ra;
      }
    } else if (predictor === PREV2) {
      for (let i = from; i < end; i++) {
        const x = (src[2 * i + HI]! - h0) * TWO_32 + ((src[2 * i + LO]! >>> 0) - l0);
        const v = x - a;
        a = b;
        b = x;
        out[i - 1] = v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        const ax = x < 0 ? -x : x;
        ra = ax > ra ? ax : ra;
      }
    } else {
      for (let i = from; i < end; i++) {
        const x = (src[2 * i + HI]! - h0) * TWO_32 + ((src[2 * i + LO]! >>> 0) - l0);
        const v = x - b - (b - a);
        a = b;
        b = x;
        out[i - 1] = v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        const ax = x < 0 ? -x : x;
        ra = ax > ra ? ax : ra;
      }
    }
    cmin[k] = lo;
    cmax[k] = hi;
    abs = Math.max(abs, -lo, hi);
    relAbs = ra > relAbs ? ra : relAbs;
  }
  residualMax = abs;
  return relAbs;
}

/** The largest D with every r(j) ≡ r(0) (mod D); 1 when none helps. Exact residuals only. */
function commonScale(out: Float64Array, m: number): number {
  const r0 = out[0]!;
  let g = 0;
  for (let j = 1; j < m; j++) {
    const d = out[j]! - r0;
    if (d !== 0) {
      g = gcd(d < 0 ? -d : d, g);
      if (g === 1) return 1;
    }
  }
  return g === 0 ? 1 : g;
}

/** Bytes of group headers plus bit stream in groups of 2^g, from the chunk statistics. */
function groupedCost(m: number, nChunks: number, g: number, scale: number): number {
  const per = (1 << g) / CHUNK;
  let header = 0;
  let bits = 0;
  for (let k = 0; k < nChunks; k += per) {
    let lo = chunkMin[k]!;
    let hi = chunkMax[k]!;
    const end = Math.min(nChunks, k + per);
    for (let j = k + 1; j < end; j++) {
      lo = Math.min(lo, chunkMin[j]!);
      hi = Math.max(hi, chunkMax[j]!);
    }
    header += 1 + varintLength(zigzagNumber(lo));
    bits += bitsOf((hi - lo) / scale) * Math.min(m - k * CHUNK, per * CHUNK);
  }
  return header + Math.ceil(bits / 8);
}

/** Min and max residual of each group of 2^g. */
function groupStats(m: number, nChunks: number, g: number): [Float64Array, Float64Array] {
  const per = (1 << g) / CHUNK;
  const groups = Math.ceil(m / (1 << g));
  const gmin = new Float64Array(groups);
  const gmax = new Float64Array(groups);
  for (let k = 0, q = 0; k < nChunks; k += per, q++) {
    let lo = chunkMin[k]!;
    let hi = chunkMax[k]!;
    const end = Math.min(nChunks, k + per);
    for (let j = k + 1; j < end; j++) {
      lo = Math.min(lo, chunkMin[j]!);
      hi = Math.max(hi, chunkMax[j]!);
    }
    gmin[q] = lo;
    gmax[q] = hi;
  }
  return [gmin, gmax];
}

/**
 * Two STRIDE candidates for a clock: the least-squares slope (the exact period under symmetric
 * jitter) and the median of sampled steps (exact for a clean clock with duplicates and gaps).
 */
function guessStrides(src: Int32Array, c: number): [number, number] {
  const h0 = src[HI]!;
  const l0 = src[LO]! >>> 0;
  const samples = strideSamples;
  const step = Math.max(1, Math.floor((c - 1) / 15));
  let n = 0;
  for (let i = 1; i < c && n < samples.length; i += step) {
    const d = (src[2 * i + HI]! - src[2 * i - 2 + HI]!) * TWO_32 + ((src[2 * i + LO]! >>> 0) - (src[2 * i - 2 + LO]! >>> 0));
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

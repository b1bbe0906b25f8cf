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
const { HI, LO, TWO_52, bitsOf, gcd, varintLength, zigzagNumber } = int64;
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
const SAMPLE_CHUNKS = 4;
const SPAN_LIMIT = TWO_52 / 2;
const sampleRange = new Float64Array(SAMPLE_CHUNKS);
const sampleScratch = new Float64Array(CHUNK);

let rel = new Float64Array(1024);
let res = new Float64Array(1024);
let chunkMin = new Float64Array(64);
let chunkMax = new Float64Array(64);
/** Token of the plan whose residuals are in `res`. */
let resToken = 0;
let lastToken = 0;

/** Plan the cheapest packing of `c` int64s given as halves in `src` (an Int32Array, 2 per value). */
export function planIntColumn(src: Int32Array, c: number, candidates: IntCandidates): IntPlan {
  const head = varintLength(approxZigzag(src[HI]!, src[LO]!));
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
  const spanExact = relativeToFirst(src, c, r) < SPAN_LIMIT;
  let list: [Predictor, number][];
  if (candidates === 'signal') {
    list = [
      [PREV2, 0],
      [PREV, 0],
      [LINEAR, 0],
      [STRIDE, 0],
    ];
  } else if (candidates === 'clock') {
    const [ls, median] = spanExact ? guessStrides(r, c) : [0, 0];
    list = [
      [STRIDE, ls],
      [STRIDE, median],
      [PREV, 0],
      [LINEAR, 0],
    ];
  } else {
    const p = candidates.predictor;
    list = [[p, p !== STRIDE ? 0 : (candidates.stride ?? (spanExact ? guessStrides(r, c)[0] : 0))]];
  }
  const [predictor, stride] = list.length === 1 ? list[0]! : pickBySample(r, m, nChunks, list);
  const out = res;
  const maxAbs = residualsWithStats(r, c, predictor, stride, out, nChunks);
  resToken = token;
  const exact = spanExact && maxAbs < TWO_52;
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

/** rel[i] = x(i) − x0 for i < c (exact below 2^53); returns max |rel|. */
function relativeToFirst(src: Int32Array, c: number, r: Float64Array): number {
  const h0 = src[HI]!;
  const l0 = src[LO]! >>> 0;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < c; i++) {
    const v = (src[2 * i + HI]! - h0) * TWO_32 + ((src[2 * i + LO]! >>> 0) - l0);
    r[i] = v;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  return hi > -lo ? hi : -lo;
}

/** x(i) − x0 for the column in `src`, into shared scratch (valid until the next call). */
export function relativeScratch(src: Int32Array, c: number): Float64Array {
  if (rel.length < c) rel = new Float64Array(Math.max(c, rel.length * 2));
  relativeToFirst(src, c, rel);
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
 * and LINEAR predict x0. `residualAt` computes the same values one at a time, in the same order
 * of operations, so sample and full costs agree bit for bit.
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

function residualAt(r: Float64Array, i: number, predictor: Predictor, stride: number): number {
  if (predictor === STRIDE) return r[i]! - i * stride;
  if (predictor === PREV) return r[i]! - r[i - 1]!;
  if (i === 1) return r[1]!;
  if (predictor === PREV2) return r[i]! - r[i - 2]!;
  return r[i]! - r[i - 1]! - (r[i - 1]! - r[i - 2]!);
}

/** Residuals r(i) for i = from … from+n−1 into tmp[0 … n), as `residuals` computes them. */
function residualRun(r: Float64Array, from: number, n: number, predictor: Predictor, stride: number, tmp: Float64Array): void {
  let i = from;
  if (i === 1 && predictor !== STRIDE) tmp[0] = r[1]!;
  else tmp[0] = residualAt(r, i, predictor, stride);
  i++;
  const end = from + n;
  if (predictor === STRIDE) for (; i < end; i++) tmp[i - from] = r[i]! - i * stride;
  else if (predictor === PREV) for (; i < end; i++) tmp[i - from] = r[i]! - r[i - 1]!;
  else if (predictor === PREV2) for (; i < end; i++) tmp[i - from] = r[i]! - r[i - 2]!;
  else for (; i < end; i++) tmp[i - from] = r[i]! - r[i - 1]! - (r[i - 1]! - r[i - 2]!);
}

/**
 * The candidate with the fewest bits over the sample chunks (ties: earliest in the list). Only the
 * power-of-two part of a common scale is counted here: a full gcd costs ~0.5 µs of double
 * modulos per candidate, so it is computed for the winner alone.
 */
function pickBySample(r: Float64Array, m: number, nChunks: number, list: [Predictor, number][]): [Predictor, number] {
  const picks: number[] = [];
  if (nChunks <= SAMPLE_CHUNKS) for (let k = 0; k < nChunks; k++) picks.push(k);
  else for (let s = 0; s < SAMPLE_CHUNKS; s++) picks.push(Math.round((s * (nChunks - 1)) / (SAMPLE_CHUNKS - 1)));
  let best = 0;
  let bestBits = Number.POSITIVE_INFINITY;
  for (let q = 0; q < list.length; q++) {
    const [predictor, stride] = list[q]!;
    // Powers of two common to every residual's offset from the first (a coarse clock, float32
    // values) shrink widths: count them, cheaply, from the OR of the offsets' two halves.
    const r0 = residualAt(r, 1, predictor, stride);
    let orLo = 0;
    let orHi = 0;
    const tmp = sampleScratch;
    for (let s = 0; s < picks.length; s++) {
      const k = picks[s]!;
      const from = k * CHUNK + 1;
      const n = Math.min(m + 1, from + CHUNK) - from;
      residualRun(r, from, n, predictor, stride, tmp);
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < n; j++) {
        const v = tmp[j]!;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        const d = Math.abs(v - r0);
        orLo |= d >>> 0;
        orHi |= (d / TWO_32) >>> 0;
      }
      sampleRange[s] = hi - lo;
    }
    const tz = orLo !== 0 ? ctz(orLo) : orHi !== 0 ? 32 + ctz(orHi) : 0;
    const unit = 2 ** tz;
    let bits = 0;
    for (let s = 0; s < picks.length; s++) {
      const k = picks[s]!;
      bits += bitsOf(sampleRange[s]! / unit) * (Math.min(m, (k + 1) * CHUNK) - k * CHUNK);
    }
    if (bits < bestBits) {
      bestBits = bits;
      best = q;
    }
  }
  return list[best]!;
}

/**
 * `residuals` plus per-chunk min/max (into chunkMin/chunkMax) in one pass; returns max |r|.
 * Same arithmetic as `residuals`, operation for operation.
 */
function residualsWithStats(r: Float64Array, c: number, predictor: Predictor, stride: number, out: Float64Array, nChunks: number): number {
  const cmin = chunkMin;
  const cmax = chunkMax;
  let abs = 0;
  for (let k = 0; k < nChunks; k++) {
    const from = k * CHUNK + 1;
    const end = Math.min(c, from + CHUNK);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    if (predictor === STRIDE) {
      for (let i = from; i < end; i++) {
        const v = r[i]! - i * stride;
        out[i - 1] = v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
    } else if (predictor === PREV) {
      for (let i = from; i < end; i++) {
        const v = r[i]! - r[i - 1]!;
        out[i - 1] = v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
    } else {
      for (let i = from; i < end; i++) {
        const v = i === 1 ? r[1]! : predictor === PREV2 ? r[i]! - r[i - 2]! : r[i]! - r[i - 1]! - (r[i - 1]! - r[i - 2]!);
        out[i - 1] = v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
    }
    cmin[k] = lo;
    cmax[k] = hi;
    abs = Math.max(abs, -lo, hi);
  }
  return abs;
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
function guessStrides(r: Float64Array, c: number): [number, number] {
  const samples: number[] = [];
  const step = Math.max(1, Math.floor((c - 1) / 15));
  for (let i = 1; i < c; i += step) samples.push(r[i]! - r[i - 1]!);
  samples.sort((x, y) => x - y);
  const median = samples[samples.length >> 1]!;
  const mid = (c - 1) / 2;
  let num = 0;
  let den = 0;
  for (let i = 0; i < c; i++) {
    const d = i - mid;
    num += d * r[i]!;
    den += d * d;
  }
  const ls = Math.round(num / den);
  const ok = (s: number): boolean => Number.isSafeInteger(s) && Math.abs(s) < TWO_52;
  const a = ok(ls) ? ls : 0;
  return [a, ok(median) ? median : a];
}

/** Count of trailing zero bits of a non-zero int32. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Zigzag of an int64 (halves) as an approximate double, for size estimates. */
function approxZigzag(hi: number, lo: number): number {
  const v = hi * TWO_32 + (lo >>> 0);
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

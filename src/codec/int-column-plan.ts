/**
 * Choosing how to pack an int64 column: predictor (and stride), group size and common scale.
 * Costs come from one fused pass over x(i) − x0 in doubles that tracks, per 32-value chunk, the
 * min and max residual of every candidate at once. They are exact when the column's span is below
 * 2^51 and every residual below 2^52 (the "exact" case — the only one where a scale D > 1 is
 * used), and close estimates otherwise.
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
}

/**
 * Which predictors to try: 'clock' (timestamps: prev, linear, and stride at the least-squares
 * period and at the median step), 'signal' (values: prev, prev2, linear, frame of reference), or
 * one predictor (with a stride for STRIDE; omitted = guessed as for 'clock').
 */
export type IntCandidates = 'clock' | 'signal' | { readonly predictor: Predictor; readonly stride?: number | undefined };

/** Group sizes the encoder tries (log2): 32 … 256 values. */
const GROUP_CHOICES = [5, 6, 7, 8];
const CHUNK = 32;
const SLOTS = 4;
const SPAN_LIMIT = TWO_52 / 2;

let rel = new Float64Array(1024);
let res = new Float64Array(1024);
/** Chunk statistics of the candidate slots: slot s, chunk k at index s·stride + k. */
let chunkMin = new Float64Array(SLOTS * 64);
let chunkMax = new Float64Array(SLOTS * 64);
let chunkStride = 64;
const slotGcd = new Float64Array(SLOTS);
const slotMaxAbs = new Float64Array(SLOTS);

/** Plan the cheapest packing of `c` int64s given as halves in `src` (an Int32Array, 2 per value). */
export function planIntColumn(src: Int32Array, c: number, candidates: IntCandidates): IntPlan {
  const head = varintLength(approxZigzag(src[HI]!, src[LO]!));
  if (c < 2) {
    const none = new Float64Array(0);
    return { predictor: PREV, stride: 0, groupLog2: 5, scale: 1, exact: true, bytes: head, groupMin: none, groupMax: none };
  }
  const m = c - 1;
  const nChunks = Math.ceil(m / CHUNK);
  if (rel.length < c) rel = new Float64Array(Math.max(c, rel.length * 2));
  if (chunkStride < nChunks) {
    chunkStride = nChunks * 2;
    chunkMin = new Float64Array(SLOTS * chunkStride);
    chunkMax = new Float64Array(SLOTS * chunkStride);
  }
  const r = rel;
  const spanExact = relativeToFirst(src, c, r) < SPAN_LIMIT;
  let slots: [Predictor, number][];
  if (candidates === 'signal') {
    slots = [
      [PREV, 0],
      [PREV2, 0],
      [LINEAR, 0],
      [STRIDE, 0],
    ];
    fusedSignal(r, c, nChunks);
  } else if (candidates === 'clock') {
    const [s1, s2] = spanExact ? guessStrides(r, c) : [0, 0];
    slots = [
      [PREV, 0],
      [LINEAR, 0],
      [STRIDE, s1],
      [STRIDE, s2],
    ];
    fusedClock(r, c, nChunks, s1, s2);
  } else {
    const stride =
      candidates.predictor !== STRIDE ? 0 : (candidates.stride ?? (spanExact ? guessStrides(r, c)[0] : 0));
    slots = [[candidates.predictor, stride]];
    const out = residualScratch(m);
    residuals(r, c, candidates.predictor, stride, out);
    singleSlot(out, m, nChunks);
  }
  let best: IntPlan | null = null;
  let bestSlot = 0;
  for (let s = 0; s < slots.length; s++) {
    const [predictor, stride] = slots[s]!;
    const exact = spanExact && slotMaxAbs[s]! < TWO_52;
    const scale = exact && slotGcd[s]! > 1 ? slotGcd[s]! : 1;
    const fixed = head + 1 + (predictor === STRIDE ? varintLength(zigzagNumber(stride)) : 0) + varintLength(scale);
    for (const g of GROUP_CHOICES) {
      const bytes = fixed + groupedCost(s, m, nChunks, g, scale);
      if (best === null || bytes < best.bytes) {
        best = { predictor, stride, groupLog2: g, scale, exact, bytes, groupMin: rel, groupMax: rel };
        bestSlot = s;
      }
    }
  }
  if (best === null) throw new Error('planIntColumn: no candidates');
  const [groupMin, groupMax] = groupStats(bestSlot, m, nChunks, best.groupLog2);
  return { ...best, groupMin, groupMax };
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

/**
 * Residuals r(i) = x(i) − pred(i) for i = 1…c−1 into out[i−1], from rel = x − x0. For i = 1,
 * PREV2 and LINEAR predict x0. The encoder uses this very function, so exact-case values match.
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

/** x(i) − x0 for the column in `src`, into shared scratch (valid until the next call). */
export function relativeScratch(src: Int32Array, c: number): Float64Array {
  if (rel.length < c) rel = new Float64Array(Math.max(c, rel.length * 2));
  relativeToFirst(src, c, rel);
  return rel;
}

/** Shared residual scratch of at least `m` doubles (valid until the next call). */
export function residualScratch(m: number): Float64Array {
  if (res.length < m) res = new Float64Array(Math.max(m, res.length * 2));
  return res;
}

/** Candidates prev, prev2, linear, stride 0 in one pass (slots 0–3). */
function fusedSignal(r: Float64Array, c: number, nChunks: number): void {
  const cs = chunkStride;
  const cmin = chunkMin;
  const cmax = chunkMax;
  const r0 = r[1]!;
  let g0 = 0;
  let g1 = 0;
  let g2 = 0;
  let g3 = 0;
  let a = 0;
  let b = 0;
  for (let k = 0; k < nChunks; k++) {
    const end = Math.min(c, (k + 1) * CHUNK + 1);
    let n0 = Number.POSITIVE_INFINITY;
    let n1 = n0;
    let n2 = n0;
    let n3 = n0;
    let x0 = Number.NEGATIVE_INFINITY;
    let x1 = x0;
    let x2 = x0;
    let x3 = x0;
    for (let i = k * CHUNK + 1; i < end; i++) {
      const v = r[i]!;
      const e0 = v - b;
      const e1 = v - a;
      const e2 = e0 - (b - a);
      n0 = e0 < n0 ? e0 : n0;
      x0 = e0 > x0 ? e0 : x0;
      n1 = e1 < n1 ? e1 : n1;
      x1 = e1 > x1 ? e1 : x1;
      n2 = e2 < n2 ? e2 : n2;
      x2 = e2 > x2 ? e2 : x2;
      n3 = v < n3 ? v : n3;
      x3 = v > x3 ? v : x3;
      if (g0 !== 1) g0 = gcdStep(g0, e0 - r0);
      if (g1 !== 1) g1 = gcdStep(g1, e1 - r0);
      if (g2 !== 1) g2 = gcdStep(g2, e2 - r0);
      if (g3 !== 1) g3 = gcdStep(g3, v - r0);
      a = b;
      b = v;
    }
    cmin[k] = n0;
    cmax[k] = x0;
    cmin[cs + k] = n1;
    cmax[cs + k] = x1;
    cmin[2 * cs + k] = n2;
    cmax[2 * cs + k] = x2;
    cmin[3 * cs + k] = n3;
    cmax[3 * cs + k] = x3;
  }
  slotGcd[0] = g0;
  slotGcd[1] = g1;
  slotGcd[2] = g2;
  slotGcd[3] = g3;
  finishMaxAbs(nChunks);
}

/** Candidates prev, linear, stride s1, stride s2 in one pass (slots 0–3). */
function fusedClock(r: Float64Array, c: number, nChunks: number, s1: number, s2: number): void {
  const cs = chunkStride;
  const cmin = chunkMin;
  const cmax = chunkMax;
  const r0 = r[1]!;
  let g0 = 0;
  let g1 = 0;
  let g2 = 0;
  let g3 = 0;
  let a = 0;
  let b = 0;
  for (let k = 0; k < nChunks; k++) {
    const end = Math.min(c, (k + 1) * CHUNK + 1);
    let n0 = Number.POSITIVE_INFINITY;
    let n1 = n0;
    let n2 = n0;
    let n3 = n0;
    let x0 = Number.NEGATIVE_INFINITY;
    let x1 = x0;
    let x2 = x0;
    let x3 = x0;
    for (let i = k * CHUNK + 1; i < end; i++) {
      const v = r[i]!;
      const e0 = v - b;
      const e1 = e0 - (b - a);
      const e2 = v - i * s1;
      const e3 = v - i * s2;
      n0 = e0 < n0 ? e0 : n0;
      x0 = e0 > x0 ? e0 : x0;
      n1 = e1 < n1 ? e1 : n1;
      x1 = e1 > x1 ? e1 : x1;
      n2 = e2 < n2 ? e2 : n2;
      x2 = e2 > x2 ? e2 : x2;
      n3 = e3 < n3 ? e3 : n3;
      x3 = e3 > x3 ? e3 : x3;
      if (g0 !== 1) g0 = gcdStep(g0, e0 - r0);
      if (g1 !== 1) g1 = gcdStep(g1, e1 - r0);
      if (g2 !== 1) g2 = gcdStep(g2, e2 - (r0 - s1));
      if (g3 !== 1) g3 = gcdStep(g3, e3 - (r0 - s2));
      a = b;
      b = v;
    }
    cmin[k] = n0;
    cmax[k] = x0;
    cmin[cs + k] = n1;
    cmax[cs + k] = x1;
    cmin[2 * cs + k] = n2;
    cmax[2 * cs + k] = x2;
    cmin[3 * cs + k] = n3;
    cmax[3 * cs + k] = x3;
  }
  slotGcd[0] = g0;
  slotGcd[1] = g1;
  slotGcd[2] = g2;
  slotGcd[3] = g3;
  finishMaxAbs(nChunks);
}

/** One candidate whose residuals are already in out[0..m) (slot 0). */
function singleSlot(out: Float64Array, m: number, nChunks: number): void {
  const r0 = out[0]!;
  let g = 0;
  for (let k = 0; k < nChunks; k++) {
    const end = Math.min(m, (k + 1) * CHUNK);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let j = k * CHUNK; j < end; j++) {
      const v = out[j]!;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
      if (g !== 1) g = gcdStep(g, v - r0);
    }
    chunkMin[k] = lo;
    chunkMax[k] = hi;
  }
  slotGcd[0] = g;
  finishMaxAbs(nChunks);
}

function gcdStep(g: number, d: number): number {
  return d === 0 ? g : gcd(d < 0 ? -d : d, g);
}

function finishMaxAbs(nChunks: number): void {
  for (let s = 0; s < SLOTS; s++) {
    let abs = 0;
    for (let k = 0; k < nChunks; k++) {
      abs = Math.max(abs, -chunkMin[s * chunkStride + k]!, chunkMax[s * chunkStride + k]!);
    }
    slotMaxAbs[s] = abs;
  }
}

/** Bytes of group headers plus bit stream of slot `s` in groups of 2^g. */
function groupedCost(s: number, m: number, nChunks: number, g: number, scale: number): number {
  const per = (1 << g) / CHUNK;
  const off = s * chunkStride;
  let header = 0;
  let bits = 0;
  for (let k = 0; k < nChunks; k += per) {
    let lo = chunkMin[off + k]!;
    let hi = chunkMax[off + k]!;
    const end = Math.min(nChunks, k + per);
    for (let j = k + 1; j < end; j++) {
      lo = Math.min(lo, chunkMin[off + j]!);
      hi = Math.max(hi, chunkMax[off + j]!);
    }
    header += 1 + varintLength(zigzagNumber(lo));
    bits += bitsOf((hi - lo) / scale) * Math.min(m - k * CHUNK, per * CHUNK);
  }
  return header + Math.ceil(bits / 8);
}

/** Min and max residual of each group of 2^g for slot `s`. */
function groupStats(s: number, m: number, nChunks: number, g: number): [Float64Array, Float64Array] {
  const per = (1 << g) / CHUNK;
  const groups = Math.ceil(m / (1 << g));
  const gmin = new Float64Array(groups);
  const gmax = new Float64Array(groups);
  const off = s * chunkStride;
  for (let k = 0, q = 0; k < nChunks; k += per, q++) {
    let lo = chunkMin[off + k]!;
    let hi = chunkMax[off + k]!;
    const end = Math.min(nChunks, k + per);
    for (let j = k + 1; j < end; j++) {
      lo = Math.min(lo, chunkMin[off + j]!);
      hi = Math.max(hi, chunkMax[off + j]!);
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

/** Zigzag of an int64 (halves) as an approximate double, for size estimates. */
function approxZigzag(hi: number, lo: number): number {
  const v = hi * TWO_32 + (lo >>> 0);
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

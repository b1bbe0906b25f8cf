/**
 * Choosing how to pack an int64 column: predictor (and stride), group size and common scale.
 *
 * Candidates are first compared on a sample (16 values from each of up to four chunks spread over
 * the column, candidate-choice.ts); the winner's residuals are then computed in full, with
 * per-32-value min/max, from which the scale, the group size and the exact size follow. Residuals live in
 * doubles as x(i) − x0 differences: exact when the column's span is below 2^51 and every residual
 * below 2^52 (the "exact" case, the only one where a scale D > 1 is used), estimates otherwise.
 */

import * as choice from './candidate-choice.ts';
import type { Predictor } from './int-column-format.ts';
import * as format from './int-column-format.ts';
import * as int64 from './int64.ts';

// Hot code reads module constants, not imported bindings (see the note in int64.ts).
const { guessStrides, pickBySample, relativeRange } = choice;
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
export type IntCandidates =
  | 'clock'
  | 'signal'
  | { readonly predictor: Predictor; readonly stride?: number | undefined };

/** Group sizes the encoder tries (log2): 32 … 256 values. */
const GROUP_CHOICES = [5, 6, 7, 8];
const CHUNK = 32;
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
    return {
      predictor: PREV,
      stride: 0,
      groupLog2: 5,
      scale: 1,
      exact: true,
      bytes: head,
      groupMin: none,
      groupMax: none,
      token,
    };
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

/** Largest |residual| seen by the last `residualsWithStats`. */
let residualMax = 0;

/**
 * Residuals of the column in `src` into out[0 … c−1) with per-chunk min/max (chunkMin/chunkMax)
 * and their largest magnitude (`residualMax`), in one pass that computes x(i) − x0 on the fly;
 * returns max |x(i) − x0|. Same arithmetic as `residuals`, operation for operation.
 */
function residualsWithStats(
  src: Int32Array,
  c: number,
  predictor: Predictor,
  stride: number,
  out: Float64Array,
  nChunks: number,
): number {
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
        lo = Math.min(v, lo);
        hi = Math.max(v, hi);
        const ax = x < 0 ? -x : x;
        ra = Math.max(ax, ra);
      }
    } else if (predictor === PREV) {
      for (let i = from; i < end; i++) {
        const x = (src[2 * i + HI]! - h0) * TWO_32 + ((src[2 * i + LO]! >>> 0) - l0);
        const v = x - b;
        b = x;
        out[i - 1] = v;
        lo = Math.min(v, lo);
        hi = Math.max(v, hi);
        const ax = x < 0 ? -x : x;
        ra = Math.max(ax, ra);
      }
    } else if (predictor === PREV2) {
      for (let i = from; i < end; i++) {
        const x = (src[2 * i + HI]! - h0) * TWO_32 + ((src[2 * i + LO]! >>> 0) - l0);
        const v = x - a;
        a = b;
        b = x;
        out[i - 1] = v;
        lo = Math.min(v, lo);
        hi = Math.max(v, hi);
        const ax = x < 0 ? -x : x;
        ra = Math.max(ax, ra);
      }
    } else {
      for (let i = from; i < end; i++) {
        const x = (src[2 * i + HI]! - h0) * TWO_32 + ((src[2 * i + LO]! >>> 0) - l0);
        const v = x - b - (b - a);
        a = b;
        b = x;
        out[i - 1] = v;
        lo = Math.min(v, lo);
        hi = Math.max(v, hi);
        const ax = x < 0 ? -x : x;
        ra = Math.max(ax, ra);
      }
    }
    cmin[k] = lo;
    cmax[k] = hi;
    abs = Math.max(abs, -lo, hi);
    relAbs = Math.max(ra, relAbs);
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

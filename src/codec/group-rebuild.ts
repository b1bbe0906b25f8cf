/**
 * Rebuilding one group of an int column from its unpacked fields (int-column-decode.ts does the
 * unpacking). The fast paths work in doubles relative to the value before the group; `slowGroup`
 * is the exact 64-bit fallback for anything they decline (wide offsets, a scale, huge strides).
 */
import type { IntColumn } from './int-column-decode.ts';
import * as format from './int-column-format.ts';
import * as int64 from './int64.ts';

// Hot code reads module constants, not imported bindings (see the note in int64.ts).
const { LINEAR: LINEAR_, PREV: PREV_, PREV2: PREV2_ } = format;
const { HI, LO } = int64;
const TWO_32 = 4294967296;
const INV_2_32 = 1 / 4294967296;
/** Every offset from the group's anchor stays below this, so doubles hold them exactly. */
export const LIMIT = 2 ** 52;

/*
 * The fast paths below rebuild x(i … i+count) as d = x − A in doubles, A = x(i−1) (the anchor),
 * then write A + d as halves: L = A.lo + d, hi = A.hi + ⌊L / 2^32⌋, lo = L mod 2^32 (the Int32Array
 * store wraps). Each returns false, before writing anything, when |d| could reach 2^52.
 */

export function fastPrev(
  out: Int32Array,
  i: number,
  count: number,
  lo: Uint32Array,
  hi: Uint32Array,
  wide: boolean,
  base: number,
  rmax: number,
): boolean {
  if (count * rmax >= LIMIT) return false;
  const ah = out[2 * (i - 1) + HI]!;
  const al = out[2 * (i - 1) + LO]! >>> 0;
  let d = 0;
  if (wide) {
    for (let j = 0; j < count; j++) {
      d += base + lo[j]! + hi[j]! * TWO_32;
      const L = al + d;
      const k = 2 * (i + j);
      out[k + LO] = L;
      out[k + HI] = ah + Math.floor(L * INV_2_32);
    }
    return true;
  }
  for (let j = 0; j < count; j++) {
    d += base + lo[j]!;
    const L = al + d;
    const k = 2 * (i + j);
    out[k + LO] = L;
    out[k + HI] = ah + Math.floor(L * INV_2_32);
  }
  return true;
}

export function fastPrev2(
  out: Int32Array,
  i: number,
  count: number,
  lo: Uint32Array,
  hi: Uint32Array,
  wide: boolean,
  base: number,
  rmax: number,
): boolean {
  const ah = out[2 * (i - 1) + HI]!;
  const al = out[2 * (i - 1) + LO]! >>> 0;
  const qi = i >= 2 ? i - 2 : 0;
  const dqh = out[2 * qi + HI]! - ah;
  if (dqh < -0x100000 || dqh >= 0x100000) return false;
  let a = dqh * TWO_32 + ((out[2 * qi + LO]! >>> 0) - al);
  if (Math.abs(a) + count * rmax >= LIMIT) return false;
  let b = 0;
  if (wide) {
    for (let j = 0; j < count; j++) {
      const d = a + base + lo[j]! + hi[j]! * TWO_32;
      a = b;
      b = d;
      const L = al + d;
      const k = 2 * (i + j);
      out[k + LO] = L;
      out[k + HI] = ah + Math.floor(L * INV_2_32);
    }
    return true;
  }
  for (let j = 0; j < count; j++) {
    const d = a + base + lo[j]!;
    a = b;
    b = d;
    const L = al + d;
    const k = 2 * (i + j);
    out[k + LO] = L;
    out[k + HI] = ah + Math.floor(L * INV_2_32);
  }
  return true;
}

export function fastLinear(
  out: Int32Array,
  i: number,
  count: number,
  lo: Uint32Array,
  hi: Uint32Array,
  wide: boolean,
  base: number,
  rmax: number,
): boolean {
  const ah = out[2 * (i - 1) + HI]!;
  const al = out[2 * (i - 1) + LO]! >>> 0;
  const qi = i >= 2 ? i - 2 : 0;
  const dqh = out[2 * qi + HI]! - ah;
  if (dqh < -0x100000 || dqh >= 0x100000) return false;
  let a = dqh * TWO_32 + ((out[2 * qi + LO]! >>> 0) - al);
  if ((count + 1) * (count + 1) * (Math.abs(a) + rmax) >= LIMIT) return false;
  let b = 0;
  for (let j = 0; j < count; j++) {
    const d = b - a + b + base + lo[j]! + (wide ? hi[j]! * TWO_32 : 0); // LINEAR is rare: one loop
    a = b;
    b = d;
    const L = al + d;
    const k = 2 * (i + j);
    out[k + LO] = L;
    out[k + HI] = ah + Math.floor(L * INV_2_32);
  }
  return true;
}

/** STRIDE, anchored at the prediction of x(i−1), C = x0 + (i−1)·S: d(j) = (j+1)·S + r(j). */
export function fastStride(
  out: Int32Array,
  i: number,
  count: number,
  lo: Uint32Array,
  hi: Uint32Array,
  wide: boolean,
  base: number,
  stride: number,
  ch: number,
  cl: number,
): void {
  let s = cl + base;
  if (wide) {
    for (let j = 0; j < count; j++) {
      s += stride;
      const L = s + lo[j]! + hi[j]! * TWO_32;
      const k = 2 * (i + j);
      out[k + LO] = L;
      out[k + HI] = ch + Math.floor(L * INV_2_32);
    }
    return;
  }
  for (let j = 0; j < count; j++) {
    s += stride;
    const L = s + lo[j]!;
    const k = 2 * (i + j);
    out[k + LO] = L;
    out[k + HI] = ch + Math.floor(L * INV_2_32);
  }
}

/** Exact 64-bit rebuild of one group, any scale; returns the STRIDE prediction state after it. */
export function slowGroup(
  col: IntColumn,
  out: Int32Array,
  i: number,
  count: number,
  lo: Uint32Array,
  hi: Uint32Array,
  bh: number,
  bl: number,
  ch: number,
  cl: number,
): [number, number] {
  const { predictor, scale } = col;
  const wide = col.widths[Math.floor((i - 1) / (1 << col.groupLog2))]! > 32;
  const sh = col.strideHi;
  const sl = col.strideLo >>> 0;
  let ph = out[2 * (i - 1) + HI]!;
  let pl = out[2 * (i - 1) + LO]! >>> 0;
  const qi = i >= 2 ? i - 2 : 0;
  let qh = out[2 * qi + HI]!;
  let ql = out[2 * qi + LO]! >>> 0;
  for (let j = 0; j < count; j++) {
    let ul = lo[j]!;
    let uh = wide ? hi[j]! : 0;
    if (scale !== 1) {
      const v = (uh * TWO_32 + ul) * scale; // < 2^53, checked when the header was read
      ul = v >>> 0;
      uh = (v - ul) / TWO_32;
    }
    let Ph: number;
    let Pl: number;
    if (predictor === PREV_) {
      Ph = ph;
      Pl = pl;
    } else if (predictor === PREV2_) {
      Ph = qh;
      Pl = ql;
    } else if (predictor === LINEAR_) {
      Ph = 2 * ph - qh;
      Pl = 2 * pl - ql;
    } else {
      const L = cl + sl;
      ch = (ch + sh + Math.floor(L / TWO_32)) | 0;
      cl = L >>> 0;
      Ph = ch;
      Pl = cl;
    }
    const L = Pl + bl + ul;
    const H = (Ph + bh + uh + Math.floor(L / TWO_32)) | 0;
    qh = ph;
    ql = pl;
    pl = L >>> 0;
    ph = H;
    const k = 2 * (i + j);
    out[k + LO] = L;
    out[k + HI] = H;
  }
  return [ch, cl];
}

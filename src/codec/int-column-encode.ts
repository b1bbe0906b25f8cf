/**
 * Writing a packed int64 column according to an {@link IntPlan}. Layout (docs/format/leaf-block.md):
 * zigzag varint x0; then, if c ≥ 2: mode byte (predictor | g << 4), [zigzag varint S], varint D,
 * one header per group (u8 width, zigzag varint base), and the bit stream of all groups.
 * Residual r(i) = x(i) − pred(i) (mod 2^64) is stored as u = (r − base) / D in `width` bits; a
 * group wider than 32 bits stores all its low words first, then all its high parts.
 */
import * as bitBlock from './bit-block.ts';
import * as bitPack from './bit-pack.ts';
import type { ByteWriter } from './byte-writer.ts';
import * as format from './int-column-format.ts';
import type { IntPlan } from './int-column-plan.ts';
import * as plans from './int-column-plan.ts';
import * as int64 from './int64.ts';

// Hot code reads module constants, not imported bindings (see the note in int64.ts).
const { PACK32: PACK, PACK_DIFF32: PACK_DIFF, PACK_DIFF_HIGH32: PACK_DIFF_HIGH } = bitBlock;
const { bitScratch, storeBits } = bitPack;
const { LINEAR: LINEAR_, PREV: PREV_, PREV2: PREV2_, STRIDE } = format;
const { plannedResiduals, relativeScratch, residualScratch, residuals } = plans;
const { HI, LO, bitsOf, splitNumber } = int64;
const TWO_32 = 4294967296;
const INV_2_32 = 1 / 4294967296;

let widths = new Uint8Array(64);
let resHi = new Int32Array(1024);
let resLo = new Int32Array(1024);
let uLo = new Uint32Array(4096);
let uHi = new Uint32Array(4096);

/** Append the column of `c` int64s (halves in `src`, two per value) to `w`. */
export function writeIntColumn(w: ByteWriter, src: Int32Array, c: number, plan: IntPlan): void {
  w.zigzag64(src[HI]!, src[LO]!);
  if (c < 2) return;
  w.u8(plan.predictor | (plan.groupLog2 << 4));
  if (plan.predictor === STRIDE) w.zigzag(plan.stride);
  w.varint(plan.scale);
  const groups = Math.ceil((c - 1) / (1 << plan.groupLog2));
  if (widths.length < groups) widths = new Uint8Array(groups * 2);
  if (uLo.length < 1 << plan.groupLog2) {
    uLo = new Uint32Array(1 << plan.groupLog2);
    uHi = new Uint32Array(1 << plan.groupLog2);
  }
  if (plan.exact) writeExact(w, src, c, plan);
  else writeWide(w, src, c, plan);
}

/** Residuals below 2^52 in magnitude: computed in doubles; bases and widths come from the plan. */
function writeExact(w: ByteWriter, src: Int32Array, c: number, plan: IntPlan): void {
  const m = c - 1;
  let out = plannedResiduals(plan);
  if (out === null) {
    out = residualScratch(m);
    residuals(relativeScratch(src, c), c, plan.predictor, plan.stride, out);
  }
  const size = 1 << plan.groupLog2;
  const { scale, groupMin, groupMax } = plan;
  const groups = groupMin.length;
  let totalBits = 0;
  for (let g = 0; g < groups; g++) {
    const width = bitsOf((groupMax[g]! - groupMin[g]!) / scale);
    widths[g] = width;
    w.u8(width);
    w.zigzag(groupMin[g]!);
    totalBits += width * Math.min(size, m - g * size);
  }
  const words = bitScratch(totalBits + 64);
  const lo = uLo;
  const hi = uHi;
  let pos = 0;
  for (let g = 0; g < groups; g++) {
    const width = widths[g]!;
    const start = g * size;
    const count = Math.min(size, m - start);
    if (width === 0) continue;
    const base = groupMin[g]!;
    if (width < 32 && scale === 1) {
      // Straight from the residuals: whole blocks of 32, then the tail one field at a time.
      const blocks = count >>> 5;
      const pack = PACK_DIFF[width]!;
      for (let b = 0, at = pos >>> 5; b < blocks; b++, at += width) pack(out, start + 32 * b, base, words, at);
      pos += blocks * 32 * width;
      for (let j = blocks * 32; j < count; j++) lo[j - blocks * 32] = out[start + j]! - base;
      pos = packOneByOne(words, pos, width, lo, 0, count - blocks * 32);
      continue;
    }
    if (width > 32 && width < 64 && scale === 1 && count === size) {
      // A full wide group: low plane straight from the residuals, high plane in blocks of 32.
      let at = pos >>> 5;
      for (let j = 0; j < count; j++) words[at + j] = out[start + j]! - base;
      at += count;
      const k = width - 32;
      const pack = PACK_DIFF_HIGH[k]!;
      for (let b = 0; b < count; b += 32, at += k) pack(out, start + b, base, words, at);
      pos += count * width;
      continue;
    }
    if (width <= 32) {
      if (scale === 1) for (let j = 0; j < count; j++) lo[j] = out[start + j]! - base;
      else for (let j = 0; j < count; j++) lo[j] = (out[start + j]! - base) / scale;
    } else {
      for (let j = 0; j < count; j++) {
        const u = (out[start + j]! - base) / scale;
        lo[j] = u;
        hi[j] = Math.floor(u * INV_2_32);
      }
    }
    pos = packGroup(words, pos, width, count, lo, hi);
  }
  const n = (totalBits + 7) >>> 3;
  w.reserve(n);
  w.pos = storeBits(words, totalBits, w.raw(), w.pos);
}

/** Any residuals: exact 64-bit arithmetic on halves, scale 1. */
function writeWide(w: ByteWriter, src: Int32Array, c: number, plan: IntPlan): void {
  const m = c - 1;
  if (resHi.length < m) {
    resHi = new Int32Array(m * 2);
    resLo = new Int32Array(m * 2);
  }
  const rh = resHi;
  const rl = resLo;
  const [sh, sl] = splitNumber(plan.stride);
  let ph = src[HI]!;
  let pl = src[LO]! >>> 0;
  let qh = ph;
  let ql = pl;
  let ch = ph;
  let cl = pl;
  const predictor = plan.predictor;
  for (let i = 1; i < c; i++) {
    const xh = src[2 * i + HI]!;
    const xl = src[2 * i + LO]! >>> 0;
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
    const L = xl - Pl;
    rl[i - 1] = L;
    rh[i - 1] = xh - Ph + Math.floor(L / TWO_32);
    qh = ph;
    ql = pl;
    ph = xh;
    pl = xl;
  }
  const size = 1 << plan.groupLog2;
  let totalBits = 0;
  for (let start = 0, g = 0; start < m; start += size, g++) {
    const end = Math.min(m, start + size);
    let mh = rh[start]!;
    let ml = rl[start]! >>> 0;
    for (let j = start + 1; j < end; j++) {
      const h = rh[j]!;
      if (h < mh || (h === mh && rl[j]! >>> 0 < ml)) {
        mh = h;
        ml = rl[j]! >>> 0;
      }
    }
    let oh = 0;
    let ol = 0;
    for (let j = start; j < end; j++) {
      const L = (rl[j]! >>> 0) - ml;
      const H = rh[j]! - mh + Math.floor(L / TWO_32);
      rl[j] = L;
      rh[j] = H;
      oh |= H;
      ol |= L;
    }
    const width = oh !== 0 ? 64 - Math.clz32(oh) : 32 - Math.clz32(ol);
    widths[g] = width;
    w.u8(width);
    w.zigzag64(mh, ml);
    totalBits += width * (end - start);
  }
  const words = bitScratch(totalBits + 64);
  const lo = uLo;
  const hi = uHi;
  let pos = 0;
  for (let start = 0, g = 0; start < m; start += size, g++) {
    const count = Math.min(size, m - start);
    for (let j = 0; j < count; j++) {
      lo[j] = rl[start + j]!;
      hi[j] = rh[start + j]!;
    }
    pos = packGroup(words, pos, widths[g]!, count, lo, hi);
  }
  const n = (totalBits + 7) >>> 3;
  w.reserve(n);
  w.pos = storeBits(words, totalBits, w.raw(), w.pos);
}

/**
 * Pack one group's fields at bit `pos` (a multiple of 32: every group before the last holds a
 * multiple of 32 values) into zeroed `words`; returns the new bit position. Width > 32: the `count`
 * low words, then `count` fields of width − 32 bits from `hi`.
 */
function packGroup(
  words: Uint32Array,
  pos: number,
  width: number,
  count: number,
  lo: Uint32Array,
  hi: Uint32Array,
): number {
  if (width === 0) return pos;
  if (width <= 32) return packFields(words, pos, width, count, lo);
  for (let j = 0, at = pos >>> 5; j < count; j++) words[at + j] = lo[j]!;
  return packFields(words, pos + 32 * count, width - 32, count, hi);
}

/** Fields of width k ≤ 32 from src[0..count) at bit `pos`: whole blocks of 32, then one at a time. */
function packFields(words: Uint32Array, pos: number, k: number, count: number, src: Uint32Array): number {
  const blocks = count >>> 5;
  if ((pos & 31) === 0) {
    let at = pos >>> 5;
    if (k === 32) for (let j = 0; j < blocks * 32; j++) words[at + j] = src[j]!;
    else {
      const pack = PACK[k]!;
      for (let b = 0; b < blocks; b++, at += k) pack(src, b * 32, words, at);
    }
    pos += blocks * 32 * k;
  } else return packOneByOne(words, pos, k, src, 0, count);
  return packOneByOne(words, pos, k, src, blocks * 32, count);
}

function packOneByOne(words: Uint32Array, pos: number, k: number, src: Uint32Array, from: number, to: number): number {
  for (let j = from; j < to; j++) {
    const u = src[j]!;
    const idx = pos >>> 5;
    const s = pos & 31;
    words[idx] = words[idx]! | (u << s);
    words[idx + 1] = words[idx + 1]! | ((u >>> 1) >>> (31 - s));
    pos += k;
  }
  return pos;
}

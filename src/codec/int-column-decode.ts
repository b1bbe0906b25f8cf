/**
 * Reading a packed int64 column (the inverse of int-column-encode.ts). Reading is two-phase so a
 * hostile block cannot make us allocate or loop much: `readIntColumn` parses and checks every
 * header and length (allocating only in proportion to the bytes it consumed), then
 * `decodeIntColumn` fills the output without further checks.
 */

import * as bitBlock from './bit-block.ts';
import * as bitPack from './bit-pack.ts';
import type { ByteReader } from './byte-reader.ts';
import * as rebuild from './group-rebuild.ts';
import type { Predictor } from './int-column-format.ts';
import * as format from './int-column-format.ts';
import * as int64 from './int64.ts';

// Hot code reads module constants, not imported bindings (see the note in int64.ts).
const { UNPACK32: UNPACK } = bitBlock;
const { loadBits, lowMask } = bitPack;
const { LINEAR: LINEAR_, MAX_GROUP_LOG2, MAX_SCALE, MIN_GROUP_LOG2, PREV: PREV_, PREV2: PREV2_, STRIDE } = format;
const { HI, LO, TWO_53 } = int64;
const { LIMIT, fastLinear, fastPrev, fastPrev2, fastStride, slowGroup } = rebuild;
const TWO_32 = 4294967296;

/** A parsed, validated column: everything needed to decode it. */
export interface IntColumn {
  readonly count: number;
  readonly x0Hi: number;
  readonly x0Lo: number;
  readonly predictor: Predictor;
  readonly strideHi: number;
  readonly strideLo: number;
  readonly groupLog2: number;
  readonly scale: number;
  readonly widths: Uint8Array;
  readonly baseHi: Int32Array;
  readonly baseLo: Int32Array;
  /** Where the bit stream starts in the block, and its length in bytes. */
  readonly bitsAt: number;
  readonly bitsBytes: number;
}

/** Parse the column of `count` values at `r.pos`, check it, and move `r.pos` past it. */
export function readIntColumn(r: ByteReader, count: number, what: string): IntColumn {
  r.zigzag64(`${what} first value`);
  const x0Hi = r.hi;
  const x0Lo = r.lo;
  const empty = new Uint8Array(0);
  const none = new Int32Array(0);
  if (count < 2) {
    return {
      count,
      x0Hi,
      x0Lo,
      predictor: PREV_,
      strideHi: 0,
      strideLo: 0,
      groupLog2: MIN_GROUP_LOG2,
      scale: 1,
      widths: empty,
      baseHi: none,
      baseLo: none,
      bitsAt: r.pos,
      bitsBytes: 0,
    };
  }
  const modeAt = r.pos;
  const mode = r.u8(`${what} mode`);
  const predictor = mode & 15;
  const groupLog2 = mode >>> 4;
  if (predictor < PREV_ || predictor > STRIDE) throw r.fail(`${what}: unknown predictor ${predictor}`, modeAt);
  if (groupLog2 < MIN_GROUP_LOG2 || groupLog2 > MAX_GROUP_LOG2) {
    throw r.fail(`${what}: group size 2^${groupLog2} out of range`, modeAt);
  }
  let strideHi = 0;
  let strideLo = 0;
  if (predictor === STRIDE) {
    r.zigzag64(`${what} stride`);
    strideHi = r.hi;
    strideLo = r.lo;
  }
  const scaleAt = r.pos;
  const scale = r.varint(`${what} scale`, MAX_SCALE);
  if (scale < 1) throw r.fail(`${what}: scale 0`, scaleAt);
  const size = 1 << groupLog2;
  const groups = Math.ceil((count - 1) / size);
  r.need(groups * 2, `${what} group headers`);
  const widths = new Uint8Array(groups);
  const baseHi = new Int32Array(groups);
  const baseLo = new Int32Array(groups);
  let totalBits = 0;
  for (let g = 0; g < groups; g++) {
    const at = r.pos;
    const width = r.u8(`${what} group ${g} width`);
    if (width > 64) throw r.fail(`${what}: group ${g} width ${width} > 64`, at);
    if (scale > 1 && width > 0 && (2 ** width - 1) * scale >= TWO_53) {
      throw r.fail(`${what}: group ${g} width ${width} with scale ${scale} exceeds 2^53`, at);
    }
    r.zigzag64(`${what} group ${g} base`);
    widths[g] = width;
    baseHi[g] = r.hi;
    baseLo[g] = r.lo;
    totalBits += width * Math.min(size, count - 1 - g * size);
  }
  const bitsBytes = Math.ceil(totalBits / 8);
  r.need(bitsBytes, `${what} bit stream`);
  const bitsAt = r.pos;
  r.pos += bitsBytes;
  return {
    count,
    x0Hi,
    x0Lo,
    predictor: predictor as Predictor,
    strideHi,
    strideLo,
    groupLog2,
    scale,
    widths,
    baseHi,
    baseLo,
    bitsAt,
    bitsBytes,
  };
}

let uLo = new Uint32Array(4096);
let uHi = new Uint32Array(4096);

/**
 * Decode `col` into `out`, an Int32Array of halves (two per value: index 2i + LO / 2i + HI), for
 * values 0…count−1. `bytes` is the block the column was read from. Each group is unpacked into
 * scratch, then rebuilt: in doubles relative to the value before the group when every offset
 * stays below 2^52 (the normal case), else in exact 64-bit halves arithmetic.
 */
export function decodeIntColumn(col: IntColumn, bytes: Uint8Array, out: Int32Array): void {
  const c = col.count;
  if (c === 0) return;
  out[LO] = col.x0Lo;
  out[HI] = col.x0Hi;
  if (c < 2) return;
  const words = loadBits(bytes, col.bitsAt, col.bitsBytes);
  const { predictor, scale, widths, baseHi, baseLo, strideHi, strideLo } = col;
  const size = 1 << col.groupLog2;
  if (uLo.length < size) {
    uLo = new Uint32Array(size);
    uHi = new Uint32Array(size);
  }
  const lo = uLo;
  const hi = uHi;
  // STRIDE's running prediction x0 + (i−1)·S, as halves.
  let ch = col.x0Hi;
  let cl = col.x0Lo >>> 0;
  const stride = strideHi * TWO_32 + (strideLo >>> 0);
  const strideSmall = strideHi >= -0x100000 && strideHi < 0x100000;
  let pos = 0;
  for (let g = 0, i = 1; i < c; g++) {
    const width = widths[g]!;
    const count = Math.min(size, c - i);
    pos = unpackGroup(words, pos, width, count, lo, hi);
    const bh = baseHi[g]!;
    const bl = baseLo[g]! >>> 0;
    const baseSmall = bh >= -0x100000 && bh < 0x100000;
    const wide = width > 32;
    // Largest |residual| in this group, bounded: |base| + 2^width · D.
    const rmax = baseSmall ? Math.abs(bh * TWO_32 + bl) + 2 ** width * scale : Number.POSITIVE_INFINITY;
    let done = false;
    if (scale === 1 && rmax < LIMIT) {
      const base = bh * TWO_32 + bl;
      if (predictor === PREV_) done = fastPrev(out, i, count, lo, hi, wide, base, rmax);
      else if (predictor === PREV2_) done = fastPrev2(out, i, count, lo, hi, wide, base, rmax);
      else if (predictor === LINEAR_) done = fastLinear(out, i, count, lo, hi, wide, base, rmax);
      else if (strideSmall && count * Math.abs(stride) + rmax < LIMIT) {
        fastStride(out, i, count, lo, hi, wide, base, stride, ch, cl);
        const L = cl + count * stride;
        const q = Math.floor(L * INV_2_32);
        ch = (ch + q) | 0;
        cl = L - q * TWO_32;
        done = true;
      }
    }
    if (!done) {
      const r = slowGroup(col, out, i, count, lo, hi, bh, bl, ch, cl);
      ch = r[0];
      cl = r[1];
    }
    i += count;
  }
}

const INV_2_32 = 1 / 4294967296;

/** Unpack `count` fields of `width` bits at bit `pos` into lo, and hi when width > 32 (else hi is stale). */
function unpackGroup(
  words: Uint32Array,
  pos: number,
  width: number,
  count: number,
  lo: Uint32Array,
  hi: Uint32Array,
): number {
  if (width === 0) {
    lo.fill(0, 0, count);
    return pos;
  }
  if (width <= 32) return unpackFields(words, pos, width, count, lo);
  if ((pos & 31) === 0) for (let j = 0, at = pos >>> 5; j < count; j++) lo[j] = words[at + j]!;
  else unpackOneByOne(words, pos, 32, lo, 0, count);
  return unpackFields(words, pos + 32 * count, width - 32, count, hi);
}

function unpackFields(words: Uint32Array, pos: number, k: number, count: number, dst: Uint32Array): number {
  if ((pos & 31) !== 0) return unpackOneByOne(words, pos, k, dst, 0, count);
  const blocks = count >>> 5;
  let at = pos >>> 5;
  if (k === 32) for (let j = 0; j < blocks * 32; j++) dst[j] = words[at + j]!;
  else {
    const unpack = UNPACK[k]!;
    for (let b = 0; b < blocks; b++, at += k) unpack(words, at, dst, b * 32);
  }
  return unpackOneByOne(words, pos + blocks * 32 * k, k, dst, blocks * 32, count);
}

function unpackOneByOne(
  words: Uint32Array,
  pos: number,
  k: number,
  dst: Uint32Array,
  from: number,
  to: number,
): number {
  const mask = lowMask(k);
  for (let j = from; j < to; j++) {
    const idx = pos >>> 5;
    const s = pos & 31;
    dst[j] = ((words[idx]! >>> s) | ((words[idx + 1]! << 1) << (31 - s))) & mask;
    pos += k;
  }
  return pos;
}

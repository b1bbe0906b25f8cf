/**
 * Core nodes: a tree node's 64 child slots with their statistics. Only non-empty slots are
 * stored, behind a 64-bit bitmap, as fixed 52-byte records holding every float64's exact bits.
 * Byte layout: docs/format/core-node.md.
 */
import { DbError } from '../core/errors.ts';
import { CORE_MAGIC, FORMAT_VERSION, readBlockHeader } from './block-header.ts';
import { ByteReader } from './byte-reader.ts';
import { IS_LITTLE_ENDIAN as IS_LE } from './int64.ts';
import { type CoreNode, emptyCoreNode, FANOUT } from './types.ts';

/** Bytes before the first slot record: magic, version, childPw, start, slot bitmap, leaf bitmap. */
export const CORE_HEADER_BYTES = 27;
/** Bytes of one slot record: addr u64, len u32, count u64, min, max, mean, m2 (f64 each). */
export const CORE_SLOT_BYTES = 52;
/** Largest child point width (log2 ns) a core node may have. */
export const MAX_CHILD_PW = 56;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Encode a core node. A slot is stored when any of its fields is non-zero (bitwise: −0 counts),
 * so decoding gives back the node bit for bit. Throws DbError 421 when `childPw` is not an
 * integer 0…56, `start` is outside int64, an addr or count is not an integer in [0, 2^53), or a
 * leaf flag is not 0 or 1.
 */
export function encodeCoreNode(node: CoreNode): Uint8Array {
  const { addr, len, leaf, count, min, max, mean, m2 } = node;
  if (!Number.isInteger(node.childPw) || node.childPw < 0 || node.childPw > MAX_CHILD_PW) {
    throw new DbError(421, `core node childPw ${node.childPw} is not an integer 0…${MAX_CHILD_PW}`);
  }
  if (BigInt.asIntN(64, node.start) !== node.start)
    throw new DbError(421, `core node start ${node.start} is not an int64`);
  const stats = [min, max, mean, m2].map((a) => new Int32Array(a.buffer, a.byteOffset, 2 * FANOUT));
  const used = new Uint32Array(2); // slot bitmap as two words (slots 0–31, 32–63)
  const leaves = new Uint32Array(2);
  let slots = 0;
  for (let i = 0; i < FANOUT; i++) {
    const a = addr[i]!;
    const c = count[i]!;
    const l = leaf[i]!;
    if (!(Number.isInteger(a) && a >= 0 && a <= MAX_SAFE) || Object.is(a, -0)) {
      throw new DbError(421, `core node slot ${i}: addr ${a} is not an integer in [0, 2^53)`);
    }
    if (!(Number.isInteger(c) && c >= 0 && c <= MAX_SAFE) || Object.is(c, -0)) {
      throw new DbError(421, `core node slot ${i}: count ${c} is not an integer in [0, 2^53)`);
    }
    if (l > 1) throw new DbError(421, `core node slot ${i}: leaf flag ${l} is not 0 or 1`);
    let nonEmpty = a !== 0 || len[i] !== 0 || l !== 0 || c !== 0;
    for (const s of stats) nonEmpty ||= s[2 * i] !== 0 || s[2 * i + 1] !== 0;
    if (!nonEmpty) continue;
    used[i >>> 5] = used[i >>> 5]! | (1 << (i & 31));
    if (l === 1) leaves[i >>> 5] = leaves[i >>> 5]! | (1 << (i & 31));
    slots++;
  }
  const out = new Uint8Array(CORE_HEADER_BYTES + CORE_SLOT_BYTES * slots);
  const v = new DataView(out.buffer);
  out[0] = CORE_MAGIC;
  out[1] = FORMAT_VERSION;
  out[2] = node.childPw;
  v.setBigInt64(3, node.start, true);
  v.setUint32(11, used[0]!, true);
  v.setUint32(15, used[1]!, true);
  v.setUint32(19, leaves[0]!, true);
  v.setUint32(23, leaves[1]!, true);
  let p = CORE_HEADER_BYTES;
  for (let i = 0; i < FANOUT; i++) {
    if (((used[i >>> 5]! >>> (i & 31)) & 1) === 0) continue;
    writeU64(v, p, addr[i]!);
    v.setUint32(p + 8, len[i]!, true);
    writeU64(v, p + 12, count[i]!);
    copyBits(min, i, out, p + 20);
    copyBits(max, i, out, p + 28);
    copyBits(mean, i, out, p + 36);
    copyBits(m2, i, out, p + 44);
    p += CORE_SLOT_BYTES;
  }
  return out;
}

/**
 * Decode a core node. Malformed input — wrong magic or version, childPw > 56, a length that does
 * not match the slot bitmap, a leaf bit on an empty slot, an addr or count ≥ 2^53 — throws
 * DbError 500 naming the byte offset.
 */
export function decodeCoreNode(bytes: Uint8Array): CoreNode {
  const r = new ByteReader(bytes, 'core node');
  readBlockHeader(r, CORE_MAGIC);
  const childPw = r.u8('childPw');
  if (childPw > MAX_CHILD_PW) throw r.fail(`childPw ${childPw} > ${MAX_CHILD_PW}`, 2);
  r.need(CORE_HEADER_BYTES - 3, 'header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const start = v.getBigInt64(3, true);
  const used = [v.getUint32(11, true), v.getUint32(15, true)];
  const leaves = [v.getUint32(19, true), v.getUint32(23, true)];
  if ((leaves[0]! & ~used[0]!) !== 0 || (leaves[1]! & ~used[1]!) !== 0)
    throw r.fail('leaf flag set on an empty slot', 19);
  const slots = popcount(used[0]!) + popcount(used[1]!);
  const expected = CORE_HEADER_BYTES + CORE_SLOT_BYTES * slots;
  if (bytes.length !== expected) {
    throw r.fail(
      `length ${bytes.length} does not match ${slots} slots (${expected} bytes)`,
      Math.min(bytes.length, expected),
    );
  }
  const node = emptyCoreNode(start, childPw);
  let p = CORE_HEADER_BYTES;
  for (let i = 0; i < FANOUT; i++) {
    if (((used[i >>> 5]! >>> (i & 31)) & 1) === 0) continue;
    node.addr[i] = readU64(r, v, p, 'addr');
    node.len[i] = v.getUint32(p + 8, true);
    node.count[i] = readU64(r, v, p + 12, 'count');
    node.leaf[i] = (leaves[i >>> 5]! >>> (i & 31)) & 1;
    takeBits(bytes, p + 20, node.min, i);
    takeBits(bytes, p + 28, node.max, i);
    takeBits(bytes, p + 36, node.mean, i);
    takeBits(bytes, p + 44, node.m2, i);
    p += CORE_SLOT_BYTES;
  }
  return node;
}

function popcount(x: number): number {
  let n = 0;
  for (let y = x >>> 0; y !== 0; y &= y - 1) n++;
  return n;
}

function writeU64(v: DataView, at: number, x: number): void {
  const lo = x % 4294967296;
  v.setUint32(at, lo, true);
  v.setUint32(at + 4, (x - lo) / 4294967296, true);
}

function readU64(r: ByteReader, v: DataView, at: number, what: string): number {
  const hi = v.getUint32(at + 4, true);
  if (hi >= 0x200000) throw r.fail(`${what} ≥ 2^53`, at);
  return hi * 4294967296 + v.getUint32(at, true);
}

/** The exact 8 bytes of a[i] (float64, any NaN payload) into out[at…], little-endian. */
function copyBits(a: Float64Array, i: number, out: Uint8Array, at: number): void {
  const src = new Uint8Array(a.buffer, a.byteOffset + 8 * i, 8);
  if (IS_LE) out.set(src, at);
  else for (let k = 0; k < 8; k++) out[at + k] = src[7 - k]!;
}

function takeBits(bytes: Uint8Array, at: number, a: Float64Array, i: number): void {
  const dst = new Uint8Array(a.buffer, a.byteOffset + 8 * i, 8);
  if (IS_LE) dst.set(bytes.subarray(at, at + 8));
  else for (let k = 0; k < 8; k++) dst[k] = bytes[at + 7 - k]!;
}

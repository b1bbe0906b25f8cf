/**
 * A bounds-checked reader over untrusted bytes. Every failure is a DbError 500 naming what was
 * being read and the byte offset in the block, so a corrupt block is reported, never returned.
 */
import { DbError } from '../core/errors.ts';
import { IS_LITTLE_ENDIAN, TWO_32 } from './int64.ts';

export class ByteReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;
  /** Halves of the last 64-bit value read (hi signed, lo unsigned). */
  hi = 0;
  lo = 0;
  private readonly context: string;

  constructor(bytes: Uint8Array, context: string) {
    this.bytes = bytes;
    this.pos = 0;
    this.end = bytes.length;
    this.context = context;
  }

  /** A corruption error at `offset` (default: the current position). */
  fail(what: string, offset = this.pos): DbError {
    return new DbError(500, `${this.context}: ${what} at byte ${offset} of ${this.end}`);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throw unless `n` more bytes are available. */
  need(n: number, what: string): void {
    if (n > this.end - this.pos) throw this.fail(`truncated ${what} (need ${n} bytes, have ${this.end - this.pos})`);
  }

  u8(what: string): number {
    if (this.pos >= this.end) throw this.fail(`truncated ${what}`);
    return this.bytes[this.pos++]!;
  }

  u32(what: string): number {
    this.need(4, what);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** 8 bytes little-endian into `hi`/`lo`. */
  i64(what: string): void {
    this.need(8, what);
    const b = this.bytes;
    const p = this.pos;
    this.lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    this.hi = b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24);
    this.pos += 8;
  }

  /** 8 bytes little-endian copied bit-exactly into `dst[index]` (a float64, NaN payload kept). */
  f64Bits(dst: Float64Array, index: number, what: string): void {
    this.need(8, what);
    const out = new Uint8Array(dst.buffer, dst.byteOffset + index * 8, 8);
    out.set(this.bytes.subarray(this.pos, this.pos + 8));
    if (!IS_LITTLE_ENDIAN) out.reverse();
    this.pos += 8;
  }

  /** Unsigned LEB128 varint of up to 64 bits into `hi`/`lo`. */
  varint64(what: string): void {
    const start = this.pos;
    const b = this.bytes;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 63) throw this.fail(`${what}: varint longer than 10 bytes`, start);
      if (this.pos >= this.end) throw this.fail(`truncated ${what}`, start);
      const byte = b[this.pos++]!;
      const v = byte & 0x7f;
      if (shift < 28) lo |= v << shift;
      else if (shift === 28) {
        lo |= v << 28;
        hi |= v >>> 4;
      } else if (shift < 63) hi |= v << (shift - 32);
      else if (v > 1) throw this.fail(`${what}: varint exceeds 64 bits`, start);
      else hi |= v << 31;
      if ((byte & 0x80) === 0) break;
    }
    this.lo = lo >>> 0;
    this.hi = hi | 0;
  }

  /** Zigzag varint of an int64 into `hi`/`lo`. */
  zigzag64(what: string): void {
    this.varint64(what);
    const zl = this.lo;
    const zh = this.hi;
    const mask = -(zl & 1);
    this.lo = (((zl >>> 1) | (zh << 31)) ^ mask) >>> 0;
    this.hi = ((zh >>> 1) ^ mask) | 0;
  }

  /** An unsigned varint that must be ≤ `max` (≤ 2^53 − 1); returned as a number. */
  varint(what: string, max: number): number {
    const start = this.pos;
    this.varint64(what);
    const v = (this.hi >>> 0) * TWO_32 + this.lo;
    if (this.hi >>> 0 >= 0x200000 || v > max) throw this.fail(`${what} ${v} exceeds ${max}`, start);
    return v;
  }

  /** A zigzag varint that must be a safe integer; returned as a number. */
  zigzagNumber(what: string): number {
    const start = this.pos;
    this.zigzag64(what);
    const { hi, lo } = this;
    if (hi >= 0x200000 || hi < -0x200000) throw this.fail(`${what} is not a safe integer`, start);
    return hi * TWO_32 + lo;
  }
}

/** A growable little-endian byte buffer for encoders. Varints are unsigned LEB128 (protobuf's). */
import { IS_LITTLE_ENDIAN } from './int64.ts';

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** Number of bytes written so far. */
  pos = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Forget everything written; keep the buffer (for a writer reused across calls). */
  reset(): void {
    this.pos = 0;
  }

  /** Make room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  /** An int64 given as halves, 8 bytes little-endian. */
  i64(hi: number, lo: number): void {
    this.reserve(8);
    this.view.setUint32(this.pos, lo >>> 0, true);
    this.view.setInt32(this.pos + 4, hi | 0, true);
    this.pos += 8;
  }

  /** A float64's exact bits, 8 bytes little-endian (NaN payloads kept: the bits are copied, not the number). */
  f64Bits(src: Float64Array, index: number): void {
    this.reserve(8);
    const bytes = new Uint8Array(src.buffer, src.byteOffset + index * 8, 8);
    this.buf.set(bytes, this.pos);
    if (!IS_LITTLE_ENDIAN) this.buf.subarray(this.pos, this.pos + 8).reverse();
    this.pos += 8;
  }

  /** The first n float64s of `src`, bit-exact, 8 bytes little-endian each. */
  f64Array(src: Float64Array, n: number): void {
    this.reserve(8 * n);
    this.buf.set(new Uint8Array(src.buffer, src.byteOffset, 8 * n), this.pos);
    if (!IS_LITTLE_ENDIAN)
      for (let i = 0; i < n; i++) this.buf.subarray(this.pos + 8 * i, this.pos + 8 * i + 8).reverse();
    this.pos += 8 * n;
  }

  bytes(src: Uint8Array): void {
    this.reserve(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** Unsigned varint of a non-negative integer held in a double, exact below 2^53. */
  varint(v: number): void {
    this.reserve(10);
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** Zigzag varint of an integer held in a double, |v| < 2^52 (so that its zigzag stays exact). */
  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** Unsigned varint of a uint64 given as halves. */
  varint64(hi: number, lo: number): void {
    this.reserve(10);
    hi >>>= 0;
    lo >>>= 0;
    while (hi !== 0 || lo >= 128) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo;
  }

  /** Zigzag varint of an int64 given as halves. */
  zigzag64(hi: number, lo: number): void {
    const sign = hi >> 31;
    this.varint64(((hi << 1) | (lo >>> 31)) ^ sign, (lo << 1) ^ sign);
  }

  /** The bytes written, as a fresh exact-length array. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** Direct access for bulk writers: the buffer after `reserve(n)`; advance `pos` yourself. */
  raw(): Uint8Array {
    return this.buf;
  }
}

/**
 * Byte-level primitives of the SNAPdb protocol: little-endian integers, 1-byte booleans, GUIDs in
 * the .NET byte order, 7-bit varints (the 9th byte of a 64-bit varint carries 8 full bits) and
 * length-prefixed UTF-8 strings. `WireReader` reads synchronously from what has arrived and throws
 * `Underflow` when a value is incomplete, so a caller can rewind to a checkpoint and wait for more
 * bytes; `WireWriter` appends to a growable buffer.
 */
import { DbError } from '../../core/errors.ts';

/** Thrown by WireReader when the bytes of a value have not all arrived yet. */
export class Underflow extends Error {
  override get name(): string {
    return 'Underflow';
  }
}
const UNDERFLOW = new Underflow('more bytes needed');

/** Longest string (bytes) accepted from a peer: names and messages are short. */
export const MAX_STRING_BYTES = 1 << 16;

const MASK64 = (1n << 64n) - 1n;

/** GUID text (8-4-4-4-12 hex) ↔ 16 bytes, .NET layout (first three groups little-endian). */
export function guidToBytes(text: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new DbError(438, `not a GUID: ${text}`);
  const b = Buffer.from(hex, 'hex');
  const out = new Uint8Array(16);
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  for (let i = 0; i < 16; i++) out[i] = b[order[i]!]!;
  return out;
}

export function bytesToGuid(b: Uint8Array): string {
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  const canon = new Uint8Array(16);
  for (let i = 0; i < 16; i++) canon[order[i]!] = b[i]!;
  const h = Buffer.from(canon).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class WireReader {
  pos = 0;
  constructor(public buf: Buffer) {}

  get available(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw UNDERFLOW;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  bool(): boolean {
    return this.u8() !== 0;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  guid(): string {
    this.need(16);
    const g = bytesToGuid(this.buf.subarray(this.pos, this.pos + 16));
    this.pos += 16;
    return g;
  }

  /** 7-bit varint of at most 5 bytes (32-bit). */
  varU32(): number {
    let v = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      v += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) return v >>> 0;
    }
    return v >>> 0;
  }

  /** 7-bit varint of at most 9 bytes; the 9th carries 8 bits. */
  varU64(): bigint {
    // Fast path: up to 7 bytes (49 bits) fit in a double exactly.
    let lo = 0;
    for (let i = 0; i < 7; i++) {
      const b = this.u8();
      lo += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) return BigInt(lo);
    }
    let v = BigInt(lo);
    const b7 = this.u8();
    v |= BigInt(b7 & 0x7f) << 49n;
    if (b7 < 0x80) return v;
    const b8 = this.u8();
    return (v | (BigInt(b8) << 56n)) & MASK64;
  }

  string(): string {
    const n = this.varU32();
    if (n > MAX_STRING_BYTES) throw new DbError(438, `string of ${n} bytes is too long`);
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

export class WireWriter {
  private buf: Buffer;
  length = 0;

  constructor(capacity = 1 << 12) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.length++] = v;
    return this;
  }

  bool(v: boolean): this {
    return this.u8(v ? 1 : 0);
  }

  i32(v: number): this {
    this.room(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
    return this;
  }

  u64(v: bigint): this {
    this.room(8);
    this.buf.writeBigUInt64LE(v & MASK64, this.length);
    this.length += 8;
    return this;
  }

  i64(v: bigint): this {
    this.room(8);
    this.buf.writeBigInt64LE(v, this.length);
    this.length += 8;
    return this;
  }

  guid(text: string): this {
    this.room(16);
    this.buf.set(guidToBytes(text), this.length);
    this.length += 16;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  varU32(v: number): this {
    let x = v >>> 0;
    while (x >= 0x80) {
      this.u8((x & 0x7f) | 0x80);
      x >>>= 7;
    }
    return this.u8(x);
  }

  varU64(v: bigint): this {
    let x = v & MASK64;
    if (x < 0x80n) return this.u8(Number(x));
    for (let i = 0; i < 8; i++) {
      if (x < 0x80n) return this.u8(Number(x));
      this.u8(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    return this.u8(Number(x)); // 9th byte: 8 full bits
  }

  string(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.varU32(b.length);
    return this.bytes(b);
  }

  /** The bytes written so far (a view; copy before reusing the writer). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** The bytes written so far as a new Buffer, and reset. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.length));
    this.length = 0;
    return out;
  }
}

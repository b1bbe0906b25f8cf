/**
 * A growable protobuf writer. Fields are written by the caller in field-number order; sub-messages
 * are encoded into their own writer first and then copied with their length (fine for the small,
 * cold messages; the hot point messages size their output exactly instead).
 */
import { WIRE_I64, WIRE_LEN, WIRE_VARINT } from './pb-reader.ts';

const TWO_32 = 4294967296;
const UTF8 = new TextEncoder();

export class ProtoWriter {
  buf: Uint8Array;
  pos = 0;
  private view: DataView;

  constructor(capacity = 64) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
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

  /** The bytes written so far (a view; the writer must not be used afterwards). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  tag(fieldNumber: number, wireType: number): void {
    this.uint32((fieldNumber << 3) | wireType);
  }

  /** An unsigned 32-bit value (or a non-negative safe integer < 2^53) as a varint. */
  uint32(v: number): void {
    this.reserve(10);
    const b = this.buf;
    let p = this.pos;
    if (v > 0xffffffff) {
      // Safe integers above 2^32: write 7 bits at a time with plain arithmetic.
      while (v >= 0x80) {
        b[p++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      b[p++] = v;
      this.pos = p;
      return;
    }
    v >>>= 0;
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** A 64-bit varint from unsigned halves. */
  varint64(lo: number, hi: number): void {
    this.reserve(10);
    const b = this.buf;
    let p = this.pos;
    lo >>>= 0;
    hi >>>= 0;
    while (hi !== 0 || lo >= 0x80) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  /** int32 / enum: negative values are sign-extended to 10 bytes, as protobuf requires. */
  int32(v: number): void {
    if (v >= 0) this.uint32(v);
    else this.varint64(v, 0xffffffff);
  }

  /** Any 64-bit integer as a varint (uint64 or int64: two's complement). */
  bigVarint(v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.varint64(Number(u & 0xffffffffn), Number(u >> 32n));
  }

  /** Any 64-bit integer as 8 little-endian bytes (sfixed64 / fixed64). */
  bigFixed64(v: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), true);
    this.pos += 8;
  }

  /** A non-negative safe integer as fixed64. */
  numberFixed64(v: number): void {
    this.reserve(8);
    this.view.setUint32(this.pos, v % TWO_32, true);
    this.view.setUint32(this.pos + 4, Math.floor(v / TWO_32), true);
    this.pos += 8;
  }

  double(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(v: Uint8Array): void {
    this.uint32(v.length);
    this.reserve(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  string(v: string): void {
    // Worst case 3 bytes per UTF-16 unit; encodeInto writes in place.
    const max = v.length * 3;
    this.reserve(max + 5);
    if (v.length < 128 && max < 128) {
      const r = UTF8.encodeInto(v, this.buf.subarray(this.pos + 1));
      this.buf[this.pos] = r.written;
      this.pos += 1 + r.written;
      return;
    }
    const encoded = UTF8.encode(v);
    this.bytes(encoded);
  }

  // Field helpers (tag + value).

  fieldBigFixed64(no: number, v: bigint): void {
    this.tag(no, WIRE_I64);
    this.bigFixed64(v);
  }

  fieldBigVarint(no: number, v: bigint): void {
    this.tag(no, WIRE_VARINT);
    this.bigVarint(v);
  }

  fieldDouble(no: number, v: number): void {
    this.tag(no, WIRE_I64);
    this.double(v);
  }

  fieldBytes(no: number, v: Uint8Array): void {
    this.tag(no, WIRE_LEN);
    this.bytes(v);
  }
}

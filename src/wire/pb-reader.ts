/**
 * A bounds-checked protobuf reader over untrusted bytes. Every failure is a WireFormatError
 * naming what was being read and the byte offset, so a malformed message is reported, never
 * half-decoded. Nothing here allocates in proportion to a length read from the input before the
 * bytes are known to be present.
 */
import { WireFormatError } from './wire-error.ts';

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_SGROUP = 3;
export const WIRE_EGROUP = 4;
export const WIRE_I32 = 5;

const TWO_32 = 4294967296;
const MAX_GROUP_DEPTH = 64;

export class ProtoReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;
  /** Halves of the last varint64/fixed64 read (both unsigned 32-bit). */
  lo = 0;
  hi = 0;
  private view: DataView | undefined;

  /** Read `bytes[start, end)`; offsets in errors are relative to `bytes`. */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  fail(what: string, offset = this.pos): WireFormatError {
    return new WireFormatError(`${what} at byte ${offset} of ${this.bytes.length}`, offset);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A field tag: returns `fieldNumber << 3 | wireType`, checking the field number is ≥ 1. */
  tag(what: string): number {
    const start = this.pos;
    this.varint64(what);
    // A 32-bit value never needs more than 5 bytes; protobufjs and upb reject longer tags too.
    if (this.pos - start > 5) throw this.fail(`${what}: tag varint longer than 5 bytes`, start);
    if (this.hi !== 0 || this.lo > 0xffffffff) throw this.fail(`${what}: tag exceeds 32 bits`, start);
    const t = this.lo;
    if (t >>> 3 === 0) throw this.fail(`${what}: field number 0`, start);
    return t;
  }

  /** Unsigned LEB128 of up to 10 bytes into `lo`/`hi`; bits past 64 are an error. */
  varint64(what: string): void {
    const b = this.bytes;
    const end = this.end;
    const start = this.pos;
    let p = start;
    let lo = 0;
    let hi = 0;
    let byte = 0;
    // Fast path: 1–4 bytes fit in lo without overflow handling.
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= end) throw this.fail(`truncated varint in ${what}`, start);
      byte = b[p++]!;
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = p;
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    if (p >= end) throw this.fail(`truncated varint in ${what}`, start);
    byte = b[p++]!;
    lo |= (byte & 0x7f) << 28;
    hi = (byte & 0x7f) >>> 4;
    if (byte >= 0x80) {
      for (let shift = 3; ; shift += 7) {
        if (p >= end) throw this.fail(`truncated varint in ${what}`, start);
        byte = b[p++]!;
        if (shift === 31) {
          // 10th byte: only its lowest bit is inside 64 bits.
          if ((byte & 0x7e) !== 0 || byte >= 0x80) throw this.fail(`varint longer than 64 bits in ${what}`, start);
          hi |= byte << 31;
          break;
        }
        hi |= (byte & 0x7f) << shift;
        if (byte < 0x80) break;
      }
    }
    this.pos = p;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** uint32: the low 32 bits of a varint (as protobuf parsers do for over-long encodings). */
  uint32(what: string): number {
    this.varint64(what);
    return this.lo;
  }

  /** int32 (and enums): the low 32 bits, signed. Negative values arrive as 10-byte varints. */
  int32(what: string): number {
    this.varint64(what);
    return this.lo | 0;
  }

  bool(what: string): boolean {
    this.varint64(what);
    return this.lo !== 0 || this.hi !== 0;
  }

  uint64(what: string): bigint {
    this.varint64(what);
    return this.hi === 0 ? BigInt(this.lo) : (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  int64(what: string): bigint {
    return BigInt.asIntN(64, this.uint64(what));
  }

  /** An unsigned varint that must be ≤ `max` (≤ 2^53 − 1), as a number. */
  safeUint(what: string, max: number): number {
    const start = this.pos;
    this.varint64(what);
    const v = this.hi * TWO_32 + this.lo;
    if (this.hi >= 0x200000 || v > max) throw this.fail(`${what}: ${v} exceeds ${max}`, start);
    return v;
  }

  /** 8 little-endian bytes into `lo`/`hi`. */
  fixed64(what: string): void {
    const p = this.pos;
    if (this.end - p < 8) throw this.fail(`truncated 64-bit value in ${what}`);
    const b = this.bytes;
    this.lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    this.hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    this.pos = p + 8;
  }

  sfixed64(what: string): bigint {
    this.fixed64(what);
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  ufixed64(what: string): bigint {
    this.fixed64(what);
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  double(what: string): number {
    const p = this.pos;
    if (this.end - p < 8) throw this.fail(`truncated double in ${what}`);
    this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.pos = p + 8;
    return this.view.getFloat64(p, true);
  }

  fixed32(what: string): number {
    const p = this.pos;
    if (this.end - p < 4) throw this.fail(`truncated 32-bit value in ${what}`);
    const b = this.bytes;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** A length prefix; the bytes it announces must be present. Returns the length. */
  length(what: string): number {
    const start = this.pos;
    this.varint64(what);
    if (this.pos - start > 5) throw this.fail(`${what}: length varint longer than 5 bytes`, start);
    const n = this.hi * TWO_32 + this.lo;
    if (n > this.end - this.pos) {
      throw this.fail(`${what}: length ${n} runs past the end (${this.end - this.pos} bytes left)`, start);
    }
    return n;
  }

  /** A length-delimited field as a plain Uint8Array view into the input (not a copy). */
  bytesView(what: string): Uint8Array {
    const n = this.length(what);
    const p = this.pos;
    this.pos = p + n;
    return new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + p, n);
  }

  /** A length-delimited UTF-8 string of at most `maxBytes`; invalid UTF-8 is an error (proto3). */
  string(what: string, maxBytes: number): string {
    const start = this.pos;
    const n = this.length(what);
    if (n > maxBytes) throw this.fail(`${what}: string of ${n} bytes exceeds the ${maxBytes}-byte limit`, start);
    const p = this.pos;
    this.pos = p + n;
    if (n === 0) return '';
    try {
      return UTF8.decode(this.bytes.subarray(p, p + n));
    } catch {
      throw this.fail(`${what}: string is not valid UTF-8`, start);
    }
  }

  /** Skip one field's value of the given wire type (groups included, nesting ≤ 64). */
  skip(wireType: number, what: string, fieldNumber = 0, depth = 0): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64(what);
        return;
      case WIRE_I64:
        if (this.end - this.pos < 8) throw this.fail(`truncated 64-bit value in ${what}`);
        this.pos += 8;
        return;
      case WIRE_LEN:
        {
          const n = this.length(what); // read before adding: the length moves pos
          this.pos += n;
        }
        return;
      case WIRE_I32:
        if (this.end - this.pos < 4) throw this.fail(`truncated 32-bit value in ${what}`);
        this.pos += 4;
        return;
      case WIRE_SGROUP: {
        if (depth >= MAX_GROUP_DEPTH) throw this.fail(`${what}: groups nested deeper than ${MAX_GROUP_DEPTH}`);
        for (;;) {
          if (this.pos >= this.end) throw this.fail(`${what}: unterminated group ${fieldNumber}`);
          const t = this.tag(what);
          if ((t & 7) === WIRE_EGROUP) {
            if (t >>> 3 !== fieldNumber)
              throw this.fail(`${what}: end of group ${t >>> 3} inside group ${fieldNumber}`);
            return;
          }
          this.skip(t & 7, what, t >>> 3, depth + 1);
        }
      }
      default:
        throw this.fail(`${what}: invalid wire type ${wireType}`);
    }
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

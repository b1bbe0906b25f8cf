/**
 * The record framing shared by block segments and record logs (docs/format/block-segment.md,
 * docs/format/record-log.md): `[u32 payload length][u32 crc32(payload)][payload]`, little-endian.
 * A zero length is never valid: zero-filled space (a file extended but not written before a crash)
 * must not parse as a run of empty records, whose crc32 is also 0.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/** Bytes of length + checksum before each payload. */
export const RECORD_HEADER_BYTES = 8;

/** crc32 (ISO-HDLC, as zlib and gzip) of `bytes`, as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array): number {
  return zlibCrc32(bytes) >>> 0;
}

export function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at] ?? 0) | ((buf[at + 1] ?? 0) << 8) | ((buf[at + 2] ?? 0) << 16) | ((buf[at + 3] ?? 0) << 24)) >>> 0;
}

export function writeU32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
  buf[at + 2] = (v >>> 16) & 0xff;
  buf[at + 3] = (v >>> 24) & 0xff;
}

/** Write the record for `payload` (header + payload) into `dst` at `at`. Needs 8 + payload.length bytes. */
export function writeRecord(dst: Uint8Array, at: number, payload: Uint8Array): void {
  writeU32(dst, at, payload.length);
  writeU32(dst, at + 4, crc32(payload));
  dst.set(payload, at + RECORD_HEADER_BYTES);
}

/**
 * Check the record starting at `buf[at]`, of which `available` bytes (header included) exist in
 * the file from there. Returns why it is not a valid record, or undefined when it is; a record
 * cut short by the end of the data is reported as 'truncated'.
 */
export function recordProblem(buf: Uint8Array, at: number, available: number, maxPayload: number): string | undefined {
  if (available < RECORD_HEADER_BYTES) return `truncated header (${available} of 8 bytes)`;
  const len = readU32(buf, at);
  if (len === 0) return 'zero length';
  if (len > maxPayload) return `length ${len} exceeds the limit of ${maxPayload} bytes`;
  if (RECORD_HEADER_BYTES + len > available) return `truncated record (length ${len}, ${available - 8} bytes present)`;
  const stored = readU32(buf, at + 4);
  const actual = crc32(buf.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + len));
  if (stored !== actual) return `checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)})`;
  return undefined;
}

const hex = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;

/**
 * The small header at the start of every segment file: magic, format version, and the segment's
 * identity (block segment id, or a log segment's start LSN), checksummed. It stops a stray or
 * renamed file from being read as data, and lets a future format change be detected.
 */
import { crc32, readU32, writeU32 } from './record-format.ts';

export interface SegmentKind {
  /** Four ASCII bytes. */
  readonly magic: string;
  readonly version: number;
  /** Header length in bytes: the first record starts here. */
  readonly bytes: number;
  /** Bytes for the identity field (4: u32, 8: u64 as two u32). */
  readonly idBytes: 4 | 8;
  readonly idName: string;
}

/** Block segments: magic, version, u32 segment id, crc32 of bytes 0–11. */
export const BLOCK_SEGMENT: SegmentKind = { magic: 'ARBS', version: 1, bytes: 16, idBytes: 4, idName: 'segment id' };

/** Record-log segments: magic, version, u64 start LSN, u32 reserved (0), crc32 of bytes 0–19. */
export const LOG_SEGMENT: SegmentKind = { magic: 'ARBL', version: 1, bytes: 24, idBytes: 8, idName: 'start LSN' };

export function encodeSegmentHeader(kind: SegmentKind, id: number): Uint8Array {
  const h = new Uint8Array(kind.bytes);
  for (let i = 0; i < 4; i++) h[i] = kind.magic.charCodeAt(i);
  writeU32(h, 4, kind.version);
  writeU32(h, 8, id % 2 ** 32);
  if (kind.idBytes === 8) writeU32(h, 12, Math.floor(id / 2 ** 32));
  writeU32(h, kind.bytes - 4, crc32(h.subarray(0, kind.bytes - 4)));
  return h;
}

/** Why `h` (the first bytes of a segment file, maybe fewer than a header) is not a valid header for `id`. */
export function segmentHeaderProblem(kind: SegmentKind, h: Uint8Array, id: number): string | undefined {
  if (h.length < kind.bytes) return `truncated segment header (${h.length} of ${kind.bytes} bytes)`;
  const crc = crc32(h.subarray(0, kind.bytes - 4));
  if (readU32(h, kind.bytes - 4) !== crc) return 'segment header checksum mismatch';
  const magic = String.fromCharCode(h[0] ?? 0, h[1] ?? 0, h[2] ?? 0, h[3] ?? 0);
  if (magic !== kind.magic) return `bad magic ${JSON.stringify(magic)} (expected ${kind.magic})`;
  const version = readU32(h, 4);
  if (version !== kind.version) return `unsupported format version ${version} (this build reads ${kind.version})`;
  const stored = readU32(h, 8) + (kind.idBytes === 8 ? readU32(h, 12) * 2 ** 32 : 0);
  if (stored !== id) return `header says ${kind.idName} ${stored} but the file name says ${id}`;
  return undefined;
}

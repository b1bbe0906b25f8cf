/**
 * Decode one IEEE C37.118 frame (2005 or 2011 SYNC version) from bytes: the common header, the
 * CRC-CCITT check, then the body by frame type. Data frames need the current configuration of
 * their IDCODE. Every malformed input is rejected with a DbError 438 that names the frame's byte
 * offset (in the caller's stream or file: `base` + position) — nothing else is thrown.
 */
import { DbError } from '../../core/errors.ts';
import { decodeConfig } from './config-frame.ts';
import { crcCcitt } from './crc.ts';
import { decodeData } from './data-frame.ts';
import { c37TimeNs } from './time.ts';
import type { C37Frame, ConfigLookup, FrameHeader } from './types.ts';

/** The smallest frame: 14 header bytes + 2 CRC bytes. */
export const MIN_FRAME = 16;
/** FRAMESIZE is 16 bits. */
export const MAX_FRAME = 65535;
/** Time base for frames whose time base is unknown (command/header frames before a config). */
export const DEFAULT_TIME_BASE = 1_000_000;

export interface DecodeOptions {
  /** Configurations by IDCODE (for data frames, and the time base of header/command frames). */
  readonly configs?: ConfigLookup;
  /** Offset of `bytes[0]` in the caller's stream or file, for error messages. */
  readonly base?: number;
}

/** The frame type (0–5) from the second SYNC byte, or -1 if `b` is not a C37.118 SYNC. */
export function frameTypeOf(b0: number, b1: number): number {
  if (b0 !== 0xaa) return -1;
  const type = (b1 >> 4) & 0x7;
  const version = b1 & 0xf;
  if ((b1 & 0x80) !== 0 || type > 5 || version < 1 || version > 3) return -1;
  return type;
}

/** Read the common header of the frame at `bytes[0]` (checks SYNC and FRAMESIZE only). */
export function readHeader(bytes: Uint8Array, base = 0): FrameHeader & { readonly frameType: number } {
  if (bytes.length < MIN_FRAME) {
    throw new DbError(438, `C37.118 frame at offset ${base}: ${bytes.length} bytes, at least ${MIN_FRAME} needed`);
  }
  const frameType = frameTypeOf(bytes[0]!, bytes[1]!);
  if (frameType < 0) {
    throw new DbError(
      438,
      `C37.118 frame at offset ${base}: bad SYNC 0x${hex2(bytes[0]!)}${hex2(bytes[1]!)} (expected 0xAA, type 0–5, version 1–3)`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frameSize = dv.getUint16(2);
  if (frameSize < MIN_FRAME)
    throw new DbError(438, `C37.118 frame at offset ${base}: FRAMESIZE ${frameSize} < ${MIN_FRAME}`);
  const fracsec = dv.getUint32(10);
  return {
    frameType,
    version: bytes[1]! & 0xf,
    frameSize,
    idcode: dv.getUint16(4),
    soc: dv.getUint32(6),
    fraction: fracsec & 0xffffff,
    timeQuality: fracsec >>> 24,
  };
}

const hex2 = (b: number): string => b.toString(16).padStart(2, '0').toUpperCase();
const hex4 = (b: number): string => b.toString(16).padStart(4, '0').toUpperCase();

/**
 * Decode the frame that starts at `bytes[0]` and is exactly FRAMESIZE bytes (extra bytes after
 * it are ignored). Throws 438 on a short buffer, bad SYNC, bad CRC (naming the CRC's offset),
 * a body that does not match its type, or a data frame without a matching configuration.
 */
export function decodeFrame(bytes: Uint8Array, opts: DecodeOptions = {}): C37Frame {
  const base = opts.base ?? 0;
  const h = readHeader(bytes, base);
  if (bytes.length < h.frameSize) {
    throw new DbError(438, `C37.118 frame at offset ${base}: FRAMESIZE ${h.frameSize} but only ${bytes.length} bytes`);
  }
  const frame = bytes.subarray(0, h.frameSize);
  const stored = (frame[h.frameSize - 2]! << 8) | frame[h.frameSize - 1]!;
  const computed = crcCcitt(frame, 0, h.frameSize - 2);
  if (stored !== computed) {
    throw new DbError(
      438,
      `C37.118 frame at offset ${base}: bad CRC at offset ${base + h.frameSize - 2} (stored 0x${hex4(stored)}, computed 0x${hex4(computed)})`,
    );
  }
  const { frameType, ...header } = h;
  const cfgOf = opts.configs;
  const timeBaseOf = (): number => cfgOf?.(h.idcode)?.timeBase ?? DEFAULT_TIME_BASE;
  switch (frameType) {
    case 0: {
      const cfg = cfgOf?.(h.idcode);
      if (cfg === undefined) {
        throw new DbError(438, `C37.118 data frame at offset ${base}: no configuration for IDCODE ${h.idcode} yet`);
      }
      return decodeData(frame, header, cfg, base);
    }
    case 1: {
      const text = new TextDecoder('latin1').decode(frame.subarray(14, h.frameSize - 2));
      return { type: 'header', ...header, time: c37TimeNs(h.soc, h.fraction, timeBaseOf()), text };
    }
    case 2:
    case 3:
    case 5:
      return decodeConfig(frame, header, frameType === 2 ? 'cfg1' : frameType === 3 ? 'cfg2' : 'cfg3', base);
    default: {
      if (h.frameSize < 18) {
        throw new DbError(438, `C37.118 command frame at offset ${base}: FRAMESIZE ${h.frameSize} < 18`);
      }
      const command = (frame[14]! << 8) | frame[15]!;
      return {
        type: 'command',
        ...header,
        time: c37TimeNs(h.soc, h.fraction, timeBaseOf()),
        command,
        extended: frame.slice(16, h.frameSize - 2),
      };
    }
  }
}

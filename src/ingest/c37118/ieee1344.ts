/**
 * IEEE 1344-1995 synchrophasor frames (the predecessor of C37.118), as the GSF/openPDC
 * PMUConnectionTester reads them.
 *
 * Every frame starts with SOC (u32, seconds since 1900-01-01 UTC, the NTP epoch), a SAMPLE word
 * (bits 15–13 frame type: 000 data, 001 header, 010 configuration; bits 12–0 the sample count of a
 * data frame, or first/last-image flags and an image count of a header/configuration frame) and a
 * status word whose bits 10–0 are the frame length in bytes (CRC included). The frame ends with the
 * same CRC-CCITT (start 0xFFFF) as C37.118, over every byte before it.
 *
 * Configuration body: station name (16 B), 64-bit IDCODE, PHNMR, DGNMR, one 16-byte name per
 * phasor then per digital word, one 4-byte factor per phasor (high byte 0 = voltage, 1 = current;
 * low 24 bits = units of 10⁻⁵ V or A per count), one 2-byte word per digital, FNOM (bit 0: 1 = 50 Hz,
 * 0 = 60 Hz), PERIOD (hundredths of a nominal cycle between frames). Data body: PHNMR rectangular
 * int16 pairs (real, imaginary), FREQ (int16 mHz deviation from nominal), DFREQ (int16, 0.01 Hz/s),
 * DGNMR digital words.
 *
 * Time of a data frame: (SOC − 2 208 988 800) s after 1970 plus
 * sampleCount / (trunc(8191 / PERIOD) · frameRate) s, frameRate = FNOM · 100 / PERIOD — GSF's rule
 * (its CommonFrameHeader; 8191 is the largest 13-bit sample count). At 60 Hz and PERIOD 200 that is
 * sampleCount / 1200 s. SOC below 2³¹ is read as the NTP era after 2036 (RFC 2030), as GSF does.
 * Malformed input is rejected with a DbError 438 naming the byte offset (in the caller's file).
 */
import { DbError } from '../../core/errors.ts';
import { crcCcitt } from './crc.ts';

/** Seconds from 1900-01-01 (NTP epoch) to 1970-01-01. */
export const NTP_UNIX_OFFSET = 2_208_988_800;
/** Largest 13-bit sample count (GSF's MaximumSampleCount). */
export const MAX_SAMPLE_COUNT = 0x1fff;
/** SOC + SAMPLE + status + CRC. */
export const MIN_1344_FRAME = 10;

export const FRAME_TYPE_DATA = 0x0000;
export const FRAME_TYPE_HEADER = 0x2000;
export const FRAME_TYPE_CONFIG = 0x4000;
const FRAME_TYPE_MASK = 0xe000;
const LENGTH_MASK = 0x07ff;

export interface Ieee1344Phasor {
  readonly name: string;
  readonly kind: 'voltage' | 'current';
  /** Volts or amperes per count (low 24 bits of the factor × 10⁻⁵). */
  readonly scale: number;
  /** The raw 32-bit conversion factor. */
  readonly factor: number;
}

export interface Ieee1344Config {
  readonly type: 'config';
  /** Byte offset of the frame in the caller's file or stream. */
  readonly offset: number;
  readonly soc: number;
  /** ns since 1970 of SOC (configuration frames carry no fraction). */
  readonly time: bigint;
  readonly station: string;
  readonly idcode: bigint;
  readonly phasors: readonly Ieee1344Phasor[];
  readonly digitals: readonly { readonly name: string; readonly word: number }[];
  readonly nominalHz: 50 | 60;
  /** Hundredths of a nominal cycle between frames. */
  readonly period: number;
  /** nominalHz · 100 / period (30 for 60 Hz, PERIOD 200). */
  readonly frameRate: number;
  readonly frameLength: number;
}

export interface Ieee1344Data {
  readonly type: 'data';
  readonly offset: number;
  readonly soc: number;
  /** Bits 12–0 of the SAMPLE word. */
  readonly sampleCount: number;
  /** ns since 1970 (see the time rule above). */
  readonly time: bigint;
  /** The raw status word (bits 10–0 the frame length). */
  readonly status: number;
  /** Status bit 15 clear (GSF: synchronization valid). */
  readonly syncValid: boolean;
  /** Status bit 14 clear (GSF: data valid). */
  readonly dataValid: boolean;
  /** Status bits 13–11 (trigger code, 0 = none). */
  readonly trigger: number;
  /** PHNMR (real, imaginary) count pairs, interleaved. */
  readonly phasors: Int16Array;
  /** Hz: nominal + FREQ / 1000. */
  readonly frequency: number;
  /** Hz/s: DFREQ / 100. */
  readonly dfdt: number;
  readonly digitals: Uint16Array;
}

export interface Ieee1344Header {
  readonly type: 'header';
  readonly offset: number;
  readonly soc: number;
  readonly time: bigint;
  readonly text: string;
}

export type Ieee1344Frame = Ieee1344Config | Ieee1344Data | Ieee1344Header;

function bad(file: string, offset: number, what: string): DbError {
  return new DbError(438, `IEEE 1344 ${file} at offset ${offset}: ${what}`, { location: { file, offset } });
}

const hex4 = (b: number): string => b.toString(16).padStart(4, '0').toUpperCase();

/** ns since 1970 of an NTP-epoch SOC (RFC 2030: SOC < 2³¹ belongs to the era starting 2036). */
export function ntpSocToNs(soc: number): bigint {
  const s = soc < 0x8000_0000 ? BigInt(soc) + 0x1_0000_0000n : BigInt(soc);
  return (s - BigInt(NTP_UNIX_OFFSET)) * 1_000_000_000n;
}

/**
 * ns since 1970 of a data frame: SOC plus sampleCount / (trunc(8191 / period) · nominalHz · 100 / period)
 * s, rounded to the nearest ns (halves up).
 */
export function ieee1344TimeNs(soc: number, sampleCount: number, period: number, nominalHz: number): bigint {
  const perFrame = Math.trunc(MAX_SAMPLE_COUNT / period);
  if (perFrame <= 0) throw new DbError(438, `IEEE 1344 PERIOD ${period} is larger than ${MAX_SAMPLE_COUNT}`);
  // fraction = sampleCount · period / (perFrame · nominalHz · 100) s
  const num = BigInt(sampleCount) * BigInt(period) * 1_000_000_000n;
  const den = BigInt(perFrame) * BigInt(nominalHz) * 100n;
  return ntpSocToNs(soc) + (num * 2n + den) / (2n * den);
}

/** Frame type bits (SAMPLE & 0xE000) and length (status & 0x07FF) of the frame at `bytes[0]`. */
export function read1344Prefix(
  bytes: Uint8Array,
  base = 0,
  file = 'stream',
): { readonly frameType: number; readonly frameLength: number } {
  if (bytes.length < 8) throw bad(file, base, `truncated frame: ${bytes.length} bytes, 8 needed for its prefix`);
  const sample = (bytes[4]! << 8) | bytes[5]!;
  const frameLength = ((bytes[6]! << 8) | bytes[7]!) & LENGTH_MASK;
  const frameType = sample & FRAME_TYPE_MASK;
  if (frameType !== FRAME_TYPE_DATA && frameType !== FRAME_TYPE_HEADER && frameType !== FRAME_TYPE_CONFIG) {
    throw bad(file, base, `unknown frame type bits 0x${hex4(frameType)} in SAMPLE word 0x${hex4(sample)}`);
  }
  if (frameLength < MIN_1344_FRAME) throw bad(file, base, `frame length ${frameLength} < ${MIN_1344_FRAME}`);
  return { frameType, frameLength };
}

/** Check length and CRC of the frame at `bytes[0]`; returns exactly its bytes. */
function checkedFrame(bytes: Uint8Array, base: number, file: string): Uint8Array {
  const { frameLength } = read1344Prefix(bytes, base, file);
  if (bytes.length < frameLength) {
    throw bad(file, base, `truncated frame: length ${frameLength} but only ${bytes.length} bytes left`);
  }
  const frame = bytes.subarray(0, frameLength);
  const stored = (frame[frameLength - 2]! << 8) | frame[frameLength - 1]!;
  const computed = crcCcitt(frame, 0, frameLength - 2);
  if (stored !== computed) {
    throw bad(
      file,
      base,
      `bad CRC at offset ${base + frameLength - 2} (stored 0x${hex4(stored)}, computed 0x${hex4(computed)})`,
    );
  }
  return frame;
}

const latin1 = new TextDecoder('latin1');
const text = (b: Uint8Array, at: number, n: number): string => latin1.decode(b.subarray(at, at + n)).trimEnd();

/** Decode a single-image configuration frame (multi-image configurations are not joined: 501). */
export function decode1344Config(bytes: Uint8Array, base = 0, file = 'stream'): Ieee1344Config {
  const frame = checkedFrame(bytes, base, file);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const sample = dv.getUint16(4);
  if ((sample & FRAME_TYPE_MASK) !== FRAME_TYPE_CONFIG) throw bad(file, base, 'not a configuration frame');
  if ((sample & 0x1800) !== 0) {
    throw new DbError(
      501,
      `IEEE 1344 ${file} at offset ${base}: configuration split over several frame images (SAMPLE 0x${hex4(sample)}) is not supported`,
      { location: { file, offset: base } },
    );
  }
  const n = frame.length;
  if (n < 44) throw bad(file, base, `configuration frame of ${n} bytes, at least 44 needed`);
  const phnmr = dv.getUint16(32);
  const dgnmr = dv.getUint16(34);
  const expected = 42 + 20 * phnmr + 18 * dgnmr;
  if (n !== expected) {
    throw bad(file, base, `configuration frame length ${n}, but PHNMR ${phnmr} and DGNMR ${dgnmr} need ${expected}`);
  }
  let at = 36;
  const names: string[] = [];
  for (let i = 0; i < phnmr + dgnmr; i++, at += 16) names.push(text(frame, at, 16));
  const phasors: Ieee1344Phasor[] = [];
  for (let i = 0; i < phnmr; i++, at += 4) {
    const factor = dv.getUint32(at);
    const kindByte = factor >>> 24;
    if (kindByte > 1) throw bad(file, base + at, `phasor ${i} factor type byte ${kindByte} (0 voltage, 1 current)`);
    phasors.push({
      name: names[i]!,
      kind: kindByte === 0 ? 'voltage' : 'current',
      scale: (factor & 0xffffff) * 1e-5,
      factor,
    });
  }
  const digitals: { name: string; word: number }[] = [];
  for (let i = 0; i < dgnmr; i++, at += 2) digitals.push({ name: names[phnmr + i]!, word: dv.getUint16(at) });
  const nominalHz = (dv.getUint16(at) & 1) === 1 ? 50 : 60;
  const period = dv.getUint16(at + 2);
  if (period === 0 || period > MAX_SAMPLE_COUNT) throw bad(file, base + at + 2, `PERIOD ${period} out of range`);
  const soc = dv.getUint32(0);
  return {
    type: 'config',
    offset: base,
    soc,
    time: ntpSocToNs(soc),
    station: text(frame, 8, 16),
    idcode: dv.getBigUint64(24),
    phasors,
    digitals,
    nominalHz,
    period,
    frameRate: (nominalHz * 100) / period,
    frameLength: n,
  };
}

/** Decode a data frame with the configuration in force. */
export function decode1344Data(bytes: Uint8Array, cfg: Ieee1344Config, base = 0, file = 'stream'): Ieee1344Data {
  const frame = checkedFrame(bytes, base, file);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const sample = dv.getUint16(4);
  if ((sample & FRAME_TYPE_MASK) !== FRAME_TYPE_DATA) throw bad(file, base, 'not a data frame');
  const nph = cfg.phasors.length;
  const ndg = cfg.digitals.length;
  const expected = 14 + 4 * nph + 2 * ndg;
  if (frame.length !== expected) {
    throw bad(file, base, `data frame length ${frame.length}, but the configuration needs ${expected}`);
  }
  const sampleCount = sample & MAX_SAMPLE_COUNT;
  const status = dv.getUint16(6);
  const phasors = new Int16Array(2 * nph);
  let at = 8;
  for (let i = 0; i < 2 * nph; i++, at += 2) phasors[i] = dv.getInt16(at);
  const freq = dv.getInt16(at);
  const dfreq = dv.getInt16(at + 2);
  at += 4;
  const digitals = new Uint16Array(ndg);
  for (let i = 0; i < ndg; i++, at += 2) digitals[i] = dv.getUint16(at);
  const soc = dv.getUint32(0);
  return {
    type: 'data',
    offset: base,
    soc,
    sampleCount,
    time: ieee1344TimeNs(soc, sampleCount, cfg.period, cfg.nominalHz),
    status,
    syncValid: (status & 0x8000) === 0,
    dataValid: (status & 0x4000) === 0,
    trigger: (status >> 11) & 0x7,
    phasors,
    frequency: cfg.nominalHz + freq / 1000,
    dfdt: dfreq / 100,
    digitals,
  };
}

/**
 * Every frame of a raw IEEE 1344 byte stream (e.g. a `.PmuCapture` file), in order. Data frames
 * need a configuration frame before them. A truncated last frame, a bad CRC or a bad layout throws.
 */
export function* read1344Stream(bytes: Uint8Array, file = 'stream'): Generator<Ieee1344Frame> {
  let cfg: Ieee1344Config | undefined;
  let pos = 0;
  while (pos < bytes.length) {
    const rest = bytes.subarray(pos);
    const { frameType, frameLength } = read1344Prefix(rest, pos, file);
    if (frameType === FRAME_TYPE_CONFIG) {
      cfg = decode1344Config(rest, pos, file);
      yield cfg;
    } else if (frameType === FRAME_TYPE_DATA) {
      if (cfg === undefined) throw bad(file, pos, 'data frame before any configuration frame');
      yield decode1344Data(rest, cfg, pos, file);
    } else {
      const frame = checkedFrame(rest, pos, file);
      const soc = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0);
      yield { type: 'header', offset: pos, soc, time: ntpSocToNs(soc), text: latin1.decode(frame.subarray(8, -2)) };
    }
    pos += frameLength;
  }
}

/**
 * Data frames, decoded with the current configuration of their IDCODE: per PMU, STAT, phasors
 * (int16 or float, rectangular or polar, int16 scaled by PHUNIT), FREQ/DFREQ (int16: mHz deviation
 * from nominal and 0.01 Hz/s; float: Hz and Hz/s), analogs (int16 scaled by ANUNIT) and digital words.
 */
import { DbError } from '../../core/errors.ts';
import { dataBlockSize } from './config-frame.ts';
import { c37TimeNs } from './time.ts';
import type { ConfigFrame, DataFrame, FrameHeader, PmuData } from './types.ts';

/** Decode a data frame (CRC already checked) with `cfg`; 438 if its size does not match it. */
export function decodeData(frame: Uint8Array, header: FrameHeader, cfg: ConfigFrame, base: number): DataFrame {
  let expected = 16;
  for (const p of cfg.pmus) expected += dataBlockSize(p);
  if (frame.length !== expected) {
    throw new DbError(
      438,
      `C37.118 data frame at offset ${base}: FRAMESIZE ${frame.length} but the configuration of IDCODE ${header.idcode} needs ${expected}`,
    );
  }
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let o = 14;
  const pmus: PmuData[] = [];
  for (const p of cfg.pmus) {
    const f = p.format;
    const stat = dv.getUint16(o);
    o += 2;
    const n = p.phasorNames.length;
    const phasors = new Float64Array(2 * n);
    const polar = (f & 1) !== 0;
    if (f & 2) {
      for (let i = 0; i < 2 * n; i++, o += 4) phasors[i] = dv.getFloat32(o);
    } else {
      for (let i = 0; i < n; i++, o += 4) {
        const s = p.phasorScale[i]!;
        if (polar) {
          // Magnitude: unsigned 16 bits; angle: signed 16 bits in 1e-4 rad.
          phasors[2 * i] = dv.getUint16(o) * s;
          phasors[2 * i + 1] = dv.getInt16(o + 2) * 1e-4;
        } else {
          phasors[2 * i] = dv.getInt16(o) * s;
          phasors[2 * i + 1] = dv.getInt16(o + 2) * s;
        }
      }
    }
    let freq: number;
    let dfreq: number;
    if (f & 8) {
      freq = dv.getFloat32(o);
      dfreq = dv.getFloat32(o + 4);
      o += 8;
    } else {
      freq = p.nominalHz + dv.getInt16(o) / 1000;
      dfreq = dv.getInt16(o + 2) / 100;
      o += 4;
    }
    const na = p.analogNames.length;
    const analogs = new Float64Array(na);
    if (f & 4) {
      for (let i = 0; i < na; i++, o += 4) analogs[i] = dv.getFloat32(o);
    } else {
      for (let i = 0; i < na; i++, o += 2) analogs[i] = dv.getInt16(o) * p.analogScale[i]!;
    }
    const nd = p.digitalNames.length;
    const digitals = new Uint16Array(nd);
    for (let i = 0; i < nd; i++, o += 2) digitals[i] = dv.getUint16(o);
    pmus.push({ stat, phasors, freq, dfreq, analogs, digitals });
  }
  return { type: 'data', ...header, time: c37TimeNs(header.soc, header.fraction, cfg.timeBase), pmus };
}

/**
 * Configuration frames: CFG-1 and CFG-2 (C37.118-2005 and -2011, same layout) and CFG-3 (2011,
 * variable-length names and float scale factors). `frame` is one whole frame whose CRC has been
 * checked; a body that does not fit FRAMESIZE is rejected with 438 naming the offset.
 */
import { DbError } from '../../core/errors.ts';
import { c37TimeNs } from './time.ts';
import type { ConfigFrame, FrameHeader, PmuConfig } from './types.ts';

/** Upper bound on PMUs per frame and channels per PMU that a FRAMESIZE ≤ 65 535 can describe. */
const MAX_COUNT = 65535;

/** A bounds-checked big-endian reader over one frame's body. */
export class BodyReader {
  readonly #dv: DataView;
  readonly #bytes: Uint8Array;
  readonly #end: number;
  readonly #base: number;
  readonly #what: string;
  pos: number;

  constructor(frame: Uint8Array, start: number, end: number, base: number, what: string) {
    this.#bytes = frame;
    this.#dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    this.pos = start;
    this.#end = end;
    this.#base = base;
    this.#what = what;
  }

  need(n: number, field: string): void {
    if (this.pos + n > this.#end) {
      throw new DbError(
        438,
        `C37.118 ${this.#what} at offset ${this.#base}: ${field} at byte ${this.pos} needs ${n} bytes, frame body ends at ${this.#end}`,
      );
    }
  }
  u8(field: string): number {
    this.need(1, field);
    return this.#bytes[this.pos++]!;
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.#dv.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  i16(field: string): number {
    this.need(2, field);
    const v = this.#dv.getInt16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.#dv.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  i32(field: string): number {
    this.need(4, field);
    const v = this.#dv.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  f32(field: string): number {
    this.need(4, field);
    const v = this.#dv.getFloat32(this.pos);
    this.pos += 4;
    return v;
  }
  /** A fixed-width ASCII name (CFG-1/2: 16 bytes), trailing spaces and NULs removed. */
  fixedName(n: number, field: string): string {
    this.need(n, field);
    const s = latin1(this.#bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s.replace(/[\s\0]+$/, '');
  }
  /** A CFG-3 name: one length byte, then that many UTF-8 bytes. */
  lengthName(field: string): string {
    const n = this.u8(field);
    this.need(n, field);
    const s = new TextDecoder().decode(this.#bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s.replace(/[\s\0]+$/, '');
  }
  skip(n: number, field: string): void {
    this.need(n, field);
    this.pos += n;
  }
  get end(): number {
    return this.#end;
  }
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Sign-extend a 24-bit value. */
const s24 = (v: number): number => (v & 0x800000 ? v - 0x1000000 : v);

/** Decode a CFG-1, CFG-2 or CFG-3 frame (CRC already checked). */
export function decodeConfig(
  frame: Uint8Array,
  header: FrameHeader,
  type: 'cfg1' | 'cfg2' | 'cfg3',
  base: number,
): ConfigFrame {
  const r = new BodyReader(frame, 14, frame.length - 2, base, `${type.toUpperCase()} frame`);
  const v3 = type === 'cfg3';
  if (v3) r.u16('CONT_IDX');
  const timeBase = r.u32('TIME_BASE') & 0xffffff;
  if (timeBase === 0) throw new DbError(438, `C37.118 ${type.toUpperCase()} frame at offset ${base}: TIME_BASE is 0`);
  const numPmu = r.u16('NUM_PMU');
  const pmus: PmuConfig[] = [];
  for (let p = 0; p < numPmu; p++) {
    const at = `PMU ${p + 1}`;
    const station = v3 ? r.lengthName(`${at} STN`) : r.fixedName(16, `${at} STN`);
    const idcode = r.u16(`${at} IDCODE`);
    if (v3) r.skip(16, `${at} G_PMU_ID`);
    const format = r.u16(`${at} FORMAT`);
    const phnmr = r.u16(`${at} PHNMR`);
    const annmr = r.u16(`${at} ANNMR`);
    const dgnmr = r.u16(`${at} DGNMR`);
    // Cheap bound before any allocation: every channel needs at least one name byte.
    r.need(Math.min(MAX_COUNT, phnmr + annmr + 16 * dgnmr), `${at} CHNAM`);
    const name = (f: string): string => (v3 ? r.lengthName(f) : r.fixedName(16, f));
    const phasorNames: string[] = [];
    for (let i = 0; i < phnmr; i++) phasorNames.push(name(`${at} phasor name ${i + 1}`));
    const analogNames: string[] = [];
    for (let i = 0; i < annmr; i++) analogNames.push(name(`${at} analog name ${i + 1}`));
    const digitalNames: string[][] = [];
    for (let w = 0; w < dgnmr; w++) {
      const bits: string[] = [];
      for (let b = 0; b < 16; b++) bits.push(name(`${at} digital ${w + 1} bit ${b} name`));
      digitalNames.push(bits);
    }
    const phasorKinds: ('V' | 'I')[] = [];
    const phasorScale = new Float64Array(phnmr);
    for (let i = 0; i < phnmr; i++) {
      if (v3) {
        r.u16(`${at} PHSCALE flags`);
        const typeInd = r.u8(`${at} PHSCALE type`);
        r.u8(`${at} PHSCALE user`);
        phasorKinds.push(typeInd & 0x08 ? 'I' : 'V');
        phasorScale[i] = r.f32(`${at} PHSCALE factor`);
        r.f32(`${at} PHSCALE angle`);
      } else {
        const u = r.u32(`${at} PHUNIT`);
        phasorKinds.push(u >>> 24 === 1 ? 'I' : 'V');
        phasorScale[i] = (u & 0xffffff) / 1e5; // correctly rounded, unlike × 1e-5
      }
    }
    const analogKinds: number[] = [];
    const analogScale = new Float64Array(annmr);
    for (let i = 0; i < annmr; i++) {
      if (v3) {
        analogKinds.push(0);
        analogScale[i] = r.f32(`${at} ANSCALE factor`);
        r.f32(`${at} ANSCALE offset`);
      } else {
        const u = r.u32(`${at} ANUNIT`);
        analogKinds.push(u >>> 24);
        // A factor of 0 (sent by placeholder stations) would erase the value: read it as 1.
        analogScale[i] = s24(u & 0xffffff) || 1;
      }
    }
    const digitalMasks: number[] = [];
    for (let w = 0; w < dgnmr; w++) digitalMasks.push(r.u32(`${at} DIGUNIT`));
    if (v3) {
      r.skip(12, `${at} PMU_LAT/LON/ELEV`);
      r.skip(1, `${at} SVC_CLASS`);
      r.skip(8, `${at} WINDOW/GRP_DLY`);
    }
    const fnom = r.u16(`${at} FNOM`);
    const cfgcnt = r.u16(`${at} CFGCNT`);
    pmus.push({
      station,
      idcode,
      format,
      phasorNames,
      phasorKinds,
      phasorScale,
      analogNames,
      analogKinds,
      analogScale,
      digitalNames,
      digitalMasks,
      nominalHz: fnom & 1 ? 50 : 60,
      cfgcnt,
    });
  }
  const dataRate = r.i16('DATA_RATE');
  if (r.pos !== r.end) {
    throw new DbError(
      438,
      `C37.118 ${type.toUpperCase()} frame at offset ${base}: ${r.end - r.pos} bytes left after DATA_RATE (FRAMESIZE ${frame.length})`,
    );
  }
  return { type, ...header, timeBase, pmus, dataRate, time: c37TimeNs(header.soc, header.fraction, timeBase) };
}

/** Bytes of one PMU's block in a data frame under `pmu`'s FORMAT (STAT included). */
export function dataBlockSize(pmu: PmuConfig): number {
  const f = pmu.format;
  const ph = f & 2 ? 8 : 4;
  const fr = f & 8 ? 4 : 2;
  const an = f & 4 ? 4 : 2;
  return 2 + pmu.phasorNames.length * ph + 2 * fr + pmu.analogNames.length * an + 2 * pmu.digitalNames.length;
}

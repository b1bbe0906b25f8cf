/**
 * A small, independent C37.118 frame builder for tests (hand-written from the standard's tables,
 * sharing no code with the decoder): CFG-2/CFG-3 and data frames with chosen
 * formats and raw field values, sealed with a bitwise CRC-CCITT.
 */

export interface TestPmu {
  readonly station: string;
  readonly idcode: number;
  readonly format: number;
  readonly phasors: readonly { readonly name: string; readonly kind: 'V' | 'I'; readonly factor: number }[];
  readonly analogs: readonly { readonly name: string; readonly kind: number; readonly factor: number }[];
  /** Digital words, each 16 bit names. */
  readonly digitals: readonly (readonly string[])[];
  readonly fnom50: boolean;
  readonly cfgcnt: number;
}

class Out {
  readonly bytes: number[] = [];
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v >>> 8).u8(v);
  }
  u32(v: number): this {
    return this.u16(v >>> 16).u16(v & 0xffff);
  }
  f32(v: number): this {
    const b = new DataView(new ArrayBuffer(4));
    b.setFloat32(0, v);
    for (let i = 0; i < 4; i++) this.u8(b.getUint8(i));
    return this;
  }
  name16(s: string): this {
    for (let i = 0; i < 16; i++) this.u8(i < s.length ? s.charCodeAt(i) : 0x20);
    return this;
  }
  nameLen(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.u8(b.length);
    for (const x of b) this.u8(x);
    return this;
  }
}

export function crcBitwise(b: Uint8Array | readonly number[]): number {
  let crc = 0xffff;
  for (const byte of b) {
    crc ^= byte << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Header + body → a sealed frame. */
function frame(type: number, idcode: number, soc: number, fracsec: number, body: number[], version = 1): Uint8Array {
  const size = 14 + body.length + 2;
  const o = new Out()
    .u8(0xaa)
    .u8((type << 4) | version)
    .u16(size)
    .u16(idcode)
    .u32(soc)
    .u32(fracsec >>> 0);
  const bytes = [...o.bytes, ...body];
  const crc = crcBitwise(bytes);
  return Uint8Array.from([...bytes, crc >>> 8, crc & 0xff]);
}

export function buildCfg2(
  idcode: number,
  timeBase: number,
  dataRate: number,
  pmus: readonly TestPmu[],
  soc = 1_500_000_000,
): Uint8Array {
  const o = new Out().u32(timeBase).u16(pmus.length);
  for (const p of pmus) {
    o.name16(p.station).u16(p.idcode).u16(p.format).u16(p.phasors.length).u16(p.analogs.length).u16(p.digitals.length);
    for (const ph of p.phasors) o.name16(ph.name);
    for (const a of p.analogs) o.name16(a.name);
    for (const d of p.digitals) for (const n of d) o.name16(n);
    for (const ph of p.phasors) o.u32(((ph.kind === 'I' ? 1 : 0) << 24) | ph.factor);
    for (const a of p.analogs) o.u32(((a.kind << 24) | (a.factor & 0xffffff)) >>> 0);
    for (const _ of p.digitals) o.u32(0x0000ffff);
    o.u16(p.fnom50 ? 1 : 0).u16(p.cfgcnt);
  }
  o.u16(dataRate & 0xffff);
  return frame(3, idcode, soc, 0, o.bytes);
}

/** A CFG-3 (2011) with float scale factors = the PMU's `factor` · 1e-5. */
export function buildCfg3(idcode: number, timeBase: number, dataRate: number, pmus: readonly TestPmu[]): Uint8Array {
  const o = new Out().u16(0).u32(timeBase).u16(pmus.length);
  for (const p of pmus) {
    o.nameLen(p.station).u16(p.idcode);
    for (let i = 0; i < 16; i++) o.u8(i);
    o.u16(p.format).u16(p.phasors.length).u16(p.analogs.length).u16(p.digitals.length);
    for (const ph of p.phasors) o.nameLen(ph.name);
    for (const a of p.analogs) o.nameLen(a.name);
    for (const d of p.digitals) for (const n of d) o.nameLen(n);
    for (const ph of p.phasors)
      o.u16(0)
        .u8(ph.kind === 'I' ? 0x08 : 0)
        .u8(0)
        .f32(ph.factor * 1e-5)
        .f32(0);
    for (const a of p.analogs) o.f32(a.factor).f32(0);
    for (const _ of p.digitals) o.u32(0x0000ffff);
    o.f32(35.1).f32(-90.0).f32(100).u8(0x4d).u32(0).u32(0);
    o.u16(p.fnom50 ? 1 : 0).u16(p.cfgcnt);
  }
  o.u16(dataRate & 0xffff);
  return frame(5, idcode, 1_500_000_000, 0, o.bytes, 2);
}

/** Raw field values of one PMU block (integers for int16 formats, floats for float formats). */
export interface TestBlock {
  readonly stat: number;
  /** Pairs per phasor (re, im) or (mag, angle) — raw. */
  readonly phasors: readonly number[];
  readonly freq: number;
  readonly dfreq: number;
  readonly analogs: readonly number[];
  readonly digitals: readonly number[];
}

export function buildData(
  idcode: number,
  soc: number,
  fracsec: number,
  pmus: readonly TestPmu[],
  blocks: readonly TestBlock[],
): Uint8Array {
  const o = new Out();
  pmus.forEach((p, i) => {
    const b = blocks[i]!;
    o.u16(b.stat);
    const polar = (p.format & 1) !== 0;
    for (let k = 0; k < b.phasors.length; k++) {
      const v = b.phasors[k]!;
      if (p.format & 2) o.f32(v);
      else if (polar && k % 2 === 0) o.u16(v);
      else o.u16(v & 0xffff);
    }
    if (p.format & 8) o.f32(b.freq).f32(b.dfreq);
    else o.u16(b.freq & 0xffff).u16(b.dfreq & 0xffff);
    for (const a of b.analogs) {
      if (p.format & 4) o.f32(a);
      else o.u16(a & 0xffff);
    }
    for (const d of b.digitals) o.u16(d);
  });
  return frame(0, idcode, soc, fracsec, o.bytes);
}

export function buildCommand(idcode: number, cmd: number): Uint8Array {
  return frame(4, idcode, 1_500_000_000, 0, new Out().u16(cmd).bytes);
}

export function buildHeader(idcode: number, text: string): Uint8Array {
  return frame(1, idcode, 1_500_000_000, 0, [...Buffer.from(text, 'latin1')]);
}

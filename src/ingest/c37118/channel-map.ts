/**
 * How a C37.118 configuration becomes streams (docs/protocols/c37118.md, "Mapping to streams"):
 * per PMU block, every phasor gives a magnitude and an angle stream, then FREQ, DFREQ, each analog
 * and each digital word one stream each, in the collection `<prefix>/<station, sanitised>`.
 */
import type { ConfigFrame, PmuConfig } from './types.ts';

export type ChannelKind = 'magnitude' | 'angle' | 'frequency' | 'dfreq' | 'analog' | 'digital';

/** One stream's identity, metadata and where its value comes from in a data frame. */
export interface ChannelSpec {
  readonly collection: string;
  /** The `name` tag (unique within the collection). */
  readonly name: string;
  /** The `unit` tag. */
  readonly unit: string;
  /** Annotations (strings). */
  readonly annotations: Readonly<Record<string, string>>;
  /** Index of the PMU block in the frame. */
  readonly pmu: number;
  readonly kind: ChannelKind;
  /** Phasor / analog / digital index within the PMU block (0 for FREQ and DFREQ). */
  readonly index: number;
}

/** Default collection prefix. */
export const DEFAULT_PREFIX = 'pmu';

/**
 * A station name made safe for a collection segment: trimmed, runs of characters other than
 * letters, digits, `-`, `_` and `.` become one `_`, at most 64 characters; empty → `idcode-<N>`.
 */
export function sanitiseStation(station: string, idcode: number): string {
  const s = station
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return s === '' ? `idcode-${idcode}` : s;
}

/** A channel name made safe for the name tag: control characters removed, ≤ 200 characters. */
const cleanName = (s: string): string =>
  Array.from(s.replace(/\p{Cc}/gu, ''))
    .slice(0, 200)
    .join('')
    .trim();

/** The FORMAT word in words: "polar float phasors, float FREQ/DFREQ, int16 analogs". */
export function describeFormat(format: number): string {
  return `${format & 1 ? 'polar' : 'rectangular'} ${format & 2 ? 'float' : 'int16'} phasors, ${format & 8 ? 'float' : 'int16'} FREQ/DFREQ, ${format & 4 ? 'float' : 'int16'} analogs`;
}

const ANALOG_KINDS: Readonly<Record<number, string>> = { 0: 'point-on-wave', 1: 'rms', 2: 'peak' };

/** The streams of every PMU block of `cfg`, in frame order. */
export function channelsOf(cfg: ConfigFrame, prefix = DEFAULT_PREFIX): ChannelSpec[] {
  const out: ChannelSpec[] = [];
  cfg.pmus.forEach((p, pmu) => {
    out.push(...pmuChannels(cfg, p, pmu, prefix));
  });
  return out;
}

function pmuChannels(cfg: ConfigFrame, p: PmuConfig, pmu: number, prefix: string): ChannelSpec[] {
  const collection = `${prefix}/${sanitiseStation(p.station, p.idcode)}`;
  const common: Record<string, string> = {
    source: 'c37.118',
    station: p.station,
    idcode: String(p.idcode),
    stream_idcode: String(cfg.idcode),
    format: `0x${p.format.toString(16).padStart(4, '0')} (${describeFormat(p.format)})`,
    nominal_hz: String(p.nominalHz),
    cfgcnt: String(p.cfgcnt),
    data_rate: String(cfg.dataRate),
    config: cfg.type,
  };
  const used = new Set<string>();
  const unique = (name: string): string => {
    let n = name === '' ? 'unnamed' : name;
    for (let k = 2; used.has(n); k++) n = `${name}#${k}`;
    used.add(n);
    return n;
  };
  const out: ChannelSpec[] = [];
  const spec = (
    name: string,
    unit: string,
    kind: ChannelKind,
    index: number,
    extra: Record<string, string>,
  ): ChannelSpec => ({
    collection,
    name: unique(name),
    unit,
    kind,
    index,
    pmu,
    annotations: { ...common, channel_type: kind, ...extra },
  });
  p.phasorNames.forEach((raw, i) => {
    const ch = cleanName(raw);
    const kind = p.phasorKinds[i] ?? 'V';
    const ph = {
      channel: raw,
      phasor_type: kind,
      phasor_format: `${p.format & 1 ? 'polar' : 'rectangular'} ${p.format & 2 ? 'float' : 'int16'}`,
      ...(p.format & 2 ? {} : { phasor_scale: String(p.phasorScale[i]) }),
    };
    out.push(spec(`${ch}.mag`, kind === 'I' ? 'A' : 'V', 'magnitude', i, ph));
    out.push(spec(`${ch}.ang`, 'deg', 'angle', i, ph));
  });
  out.push(spec('FREQ', 'Hz', 'frequency', 0, { channel: 'FREQ' }));
  out.push(spec('DFREQ', 'Hz/s', 'dfreq', 0, { channel: 'DFREQ' }));
  p.analogNames.forEach((raw, i) => {
    const k = p.analogKinds[i] ?? 0;
    out.push(
      spec(cleanName(raw), '', 'analog', i, {
        channel: raw,
        analog_kind: ANALOG_KINDS[k] ?? `user-defined ${k}`,
        ...(p.format & 4 ? {} : { analog_scale: String(p.analogScale[i]) }),
      }),
    );
  });
  p.digitalNames.forEach((bits, i) => {
    const mask = p.digitalMasks[i] ?? 0;
    out.push(
      spec(`DIGITAL${i + 1}`, 'bitmask', 'digital', i, {
        channel: `DIGITAL${i + 1}`,
        ...Object.fromEntries(bits.map((b, k) => [`bit_${k}`, Array.from(b).slice(0, 255).join('')])),
        normal_status_mask: `0x${(mask >>> 16).toString(16).padStart(4, '0')}`,
        valid_inputs_mask: `0x${(mask & 0xffff).toString(16).padStart(4, '0')}`,
      }),
    );
  });
  return out;
}

const DEG = 180 / Math.PI;

/**
 * The value of channel `c` in a PMU block: magnitudes in V/A, angles in degrees (polar: as sent;
 * rectangular: |re + j·im| and atan2(im, re) in (−180, 180]), FREQ Hz, DFREQ Hz/s,
 * analogs scaled, digital words as their integer value 0–65535.
 */
export function channelValue(
  c: ChannelSpec,
  polar: boolean,
  phasors: Float64Array,
  freq: number,
  dfreq: number,
  analogs: Float64Array,
  digitals: Uint16Array,
): number {
  switch (c.kind) {
    case 'magnitude': {
      const a = phasors[2 * c.index]!;
      const b = phasors[2 * c.index + 1]!;
      return polar ? a : Math.hypot(a, b);
    }
    case 'angle': {
      const a = phasors[2 * c.index]!;
      const b = phasors[2 * c.index + 1]!;
      return (polar ? b : Math.atan2(b, a)) * DEG;
    }
    case 'frequency':
      return freq;
    case 'dfreq':
      return dfreq;
    case 'analog':
      return analogs[c.index]!;
    case 'digital':
      return digitals[c.index]!;
  }
}

/** The quality word stored with every point: STAT in bits 0–15, FRACSEC's time-quality byte in bits 16–23. */
export const qualityFlags = (stat: number, timeQuality: number): number =>
  ((stat & 0xffff) | ((timeQuality & 0xff) << 16)) >>> 0;

/**
 * How a COMTRADE record becomes streams: one per analog channel (value = a·x + b, primary or
 * secondary per {@link ValueKind}) and one per digital channel (0/1), all in one collection
 * (`comtrade/<station>` unless given), named by the channel id with the unit as a tag and the
 * cfg's description of the channel as annotations. Pure: record in, plans out.
 *
 * Names: the channel id, trimmed. An empty id becomes `A<n>` / `D<n>`; an id that occurs more
 * than once in the record (test2 has two `50/51N_T` digitals) becomes `<id> (A<n>)` / `<id> (D<n>)`
 * for every occurrence, so each channel has its own stream and re-imports find the same one.
 * Text is cut to 255 characters and NUL removed, as the catalog requires.
 */
import { DbError } from '../../core/errors.ts';
import type { AnalogChannel } from './cfg.ts';
import type { ComtradeRecord } from './comtrade-record.ts';

/** recorded: as the cfg's P/S flag says; primary/secondary: converted with the channel's ratio. */
export const VALUE_KINDS = ['recorded', 'primary', 'secondary'] as const;
export type ValueKind = (typeof VALUE_KINDS)[number];
/** skip: a missing sample is not stored (default); nan: stored as NaN (streams allow NaN). */
export const MISSING_POLICIES = ['skip', 'nan'] as const;
export type MissingPolicy = (typeof MISSING_POLICIES)[number];

export interface ChannelStream {
  readonly kind: 'analog' | 'digital';
  /** The channel number as written in the cfg. */
  readonly index: number;
  readonly name: string;
  readonly unit: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly times: BigInt64Array;
  readonly values: Float64Array;
  /** Samples that were missing (skipped, or stored as NaN). */
  readonly missing: number;
}

export interface StreamOptions {
  readonly values?: ValueKind;
  readonly missing?: MissingPolicy;
}

const clean = (text: string): string => [...text.replaceAll('\0', '')].slice(0, 255).join('');

/** `comtrade/<station>`: runs of anything but letters, digits, '.', '_' and '-' become '_'. */
export function comtradeCollection(station: string): string {
  const s = station
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '_')
    .replace(/^[_.]+|_+$/g, '');
  let out = s === '' ? 'unnamed' : s;
  while (Buffer.byteLength(out, 'utf8') > 200) out = [...out].slice(0, -1).join('');
  return `comtrade/${out}`;
}

/** The factor from recorded (a·x + b) values to the wanted kind. */
function factor(ch: AnalogChannel, want: ValueKind, file: string): { factor: number; stored: string } {
  const recorded = ch.ps === undefined ? 'recorded' : ch.ps === 'P' ? 'primary' : 'secondary';
  if (want === 'recorded' || want === recorded) return { factor: 1, stored: recorded };
  if (
    ch.ps === undefined ||
    ch.primary === undefined ||
    ch.secondary === undefined ||
    ch.primary === 0 ||
    ch.secondary === 0
  ) {
    throw new DbError(
      438,
      `${file}: analog channel ${ch.index} (${ch.id}) has no primary/secondary ratio and P/S flag, so its values cannot be converted to ${want}`,
    );
  }
  return { factor: want === 'primary' ? ch.primary / ch.secondary : ch.secondary / ch.primary, stored: want };
}

function keepMask(raw: Float64Array, policy: MissingPolicy): { keep: Uint8Array | undefined; missing: number } {
  let missing = 0;
  for (let i = 0; i < raw.length; i++) if (Number.isNaN(raw[i]!)) missing++;
  if (missing === 0 || policy === 'nan') return { keep: undefined, missing };
  const keep = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) keep[i] = Number.isNaN(raw[i]!) ? 0 : 1;
  return { keep, missing };
}

/** The streams of a record (see the module doc), in cfg order: analog channels, then digital. */
export function channelStreams(rec: ComtradeRecord, o: StreamOptions = {}): ChannelStream[] {
  const { cfg, dat, times } = rec;
  const ids = [...cfg.analog.map((c) => c.id), ...cfg.digital.map((c) => c.id)].map((id) => clean(id));
  const seen = new Map<string, number>();
  for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
  const nameOf = (id: string, tag: string): string =>
    clean(id === '' ? tag : (seen.get(id) ?? 0) > 1 ? `${id} (${tag})` : id);
  const common: Record<string, string> = {
    station: clean(cfg.station),
    device: clean(cfg.device),
    rev_year: String(cfg.revision),
    line_frequency: clean(cfg.lineFrequencyText),
    source_file: clean(rec.cfgFile.split(/[\\/]/).pop() ?? rec.cfgFile),
    start_time: clean(cfg.start.text),
    trigger_time: clean(cfg.trigger.text),
    trigger_ns: String(cfg.trigger.ns),
    time_source: times.source,
    ...(cfg.timeCode === undefined ? {} : { time_code: clean(cfg.timeCode) }),
    ...(cfg.localCode === undefined ? {} : { local_code: clean(cfg.localCode) }),
  };
  const out: ChannelStream[] = [];
  for (const [k, ch] of cfg.analog.entries()) {
    const raw = dat.analog[k]!;
    const { factor: f, stored } = factor(ch, o.values ?? 'recorded', rec.cfgFile);
    const { keep, missing } = keepMask(raw, o.missing ?? 'skip');
    const n = raw.length - (keep === undefined ? 0 : missing);
    const t = keep === undefined ? times.times : new BigInt64Array(n);
    const v = new Float64Array(n);
    for (let i = 0, j = 0; i < raw.length; i++) {
      if (keep !== undefined && keep[i] === 0) continue;
      // NaN stays NaN (missing, policy nan).
      v[j] = (ch.a * raw[i]! + ch.b) * f;
      if (keep !== undefined) t[j] = times.times[i]!;
      j++;
    }
    out.push({
      kind: 'analog',
      index: ch.index,
      name: nameOf(ids[k]!, `A${ch.index}`),
      unit: clean(ch.unit),
      annotations: {
        ...common,
        channel: `A${ch.index}`,
        channel_id: clean(ch.id),
        phase: clean(ch.phase),
        ccbm: clean(ch.ccbm),
        a: clean(ch.aText),
        b: clean(ch.bText),
        skew: String(ch.skew),
        min: String(ch.min),
        max: String(ch.max),
        ...(ch.primary === undefined ? {} : { primary: String(ch.primary) }),
        ...(ch.secondary === undefined ? {} : { secondary: String(ch.secondary) }),
        ...(ch.ps === undefined ? {} : { ps: ch.ps }),
        values: stored,
      },
      times: t,
      values: v,
      missing,
    });
  }
  for (const [k, ch] of cfg.digital.entries()) {
    const bits = dat.digital[k]!;
    const v = new Float64Array(bits.length);
    for (let i = 0; i < bits.length; i++) v[i] = bits[i]!;
    out.push({
      kind: 'digital',
      index: ch.index,
      name: nameOf(ids[cfg.analog.length + k]!, `D${ch.index}`),
      unit: '',
      annotations: {
        ...common,
        channel: `D${ch.index}`,
        channel_id: clean(ch.id),
        phase: clean(ch.phase),
        ccbm: clean(ch.ccbm),
        ...(ch.normal === undefined ? {} : { normal_state: String(ch.normal) }),
      },
      times: times.times,
      values: v,
      missing: 0,
    });
  }
  return out;
}

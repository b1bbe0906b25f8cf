/**
 * The configuration file (.cfg) of an IEEE C37.111 COMTRADE record, revisions 1991, 1999 and
 * 2013, parsed from its text into typed fields. Pure: text in, {@link ComtradeConfig} out, or a
 * DbError 438 naming the file, the 1-based line and what is wrong.
 *
 * Layout (one item per line, fields separated by commas; docs/format/comtrade-import.md):
 * station,device[,rev_year] · TT,nnA,nnD · one line per analog channel · one per digital channel ·
 * lf · nrates · nrates lines samp,endsamp (one line "0,endsamp" when nrates is 0) · start date,time ·
 * trigger date,time · ft · timemult (1999+) · time_code,local_code (2013) · tmq_code,leapsec (2013).
 * Missing trailing lines of the newer revisions default (timemult 1, no time code).
 */
import { DbError } from '../../core/errors.ts';
import { type Fraction, parseDecimal } from './decimal.ts';

export type ComtradeRevision = 1991 | 1999 | 2013;
export const DATA_FORMATS = ['ASCII', 'BINARY', 'BINARY32', 'FLOAT32'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

export interface AnalogChannel {
  /** 1-based channel number as written (An). */
  readonly index: number;
  readonly id: string;
  readonly phase: string;
  /** Circuit component being monitored (ccbm). */
  readonly ccbm: string;
  readonly unit: string;
  /** value = a·x + b; the texts are kept for annotations. */
  readonly a: number;
  readonly b: number;
  readonly aText: string;
  readonly bText: string;
  /** Skew in µs (0 when empty). */
  readonly skew: number;
  readonly min: number;
  readonly max: number;
  /** Transformer ratio primary/secondary (1999+; undefined in 1991 files). */
  readonly primary: number | undefined;
  readonly secondary: number | undefined;
  /** Whether a·x + b gives primary ('P') or secondary ('S') values (1999+). */
  readonly ps: 'P' | 'S' | undefined;
}

export interface DigitalChannel {
  readonly index: number;
  readonly id: string;
  readonly phase: string;
  readonly ccbm: string;
  /** Normal state y (0 or 1), undefined when empty. */
  readonly normal: 0 | 1 | undefined;
}

export interface RateSegment {
  /** Samples per second, exact. */
  readonly rate: Fraction;
  readonly rateText: string;
  /** The last sample number of this segment (cumulative over segments, 1-based). */
  readonly endSample: number;
}

export interface CfgTime {
  /** ns since 1970 UTC, after subtracting the 2013 time code. */
  readonly ns: bigint;
  /** The text as written ("25/06/2007,19:13:57.789757"). */
  readonly text: string;
  /** Digits after the decimal point of the seconds (6 = µs, 9 = ns). */
  readonly fractionDigits: number;
}

export interface ComtradeConfig {
  readonly station: string;
  readonly device: string;
  readonly revision: ComtradeRevision;
  readonly analog: readonly AnalogChannel[];
  readonly digital: readonly DigitalChannel[];
  readonly lineFrequency: number;
  readonly lineFrequencyText: string;
  /** The nrates segments (empty when nrates is 0: times come from the timestamp column). */
  readonly rates: readonly RateSegment[];
  /** Samples in the data file as the cfg declares them (last endsamp; 0 = not declared). */
  readonly endSample: number;
  readonly start: CfgTime;
  readonly trigger: CfgTime;
  readonly format: DataFormat;
  /** Multiplier of the data file's timestamp column (timemult; 1 before 1999). */
  readonly timeMultiplier: Fraction;
  readonly timeMultiplierText: string;
  /** ns per unit of the timestamp column before timemult: 1000 (µs), or 1 for 2013 files with ns start times. */
  readonly timestampUnitNs: bigint;
  /** 2013 time_code as written ("-5h30"), and its offset from UTC in minutes. */
  readonly timeCode: string | undefined;
  readonly timeCodeMinutes: number;
  readonly localCode: string | undefined;
  readonly tmqCode: string | undefined;
  readonly leapSecond: string | undefined;
}

export interface CfgOptions {
  /** The file name used in error messages. */
  readonly file?: string;
  /**
   * Offset of the record's clock from UTC as a time code ("+10", "-5h30"); overrides the 2013
   * time_code field, and is the only way to give one for 1991/1999 files (default: UTC).
   */
  readonly timeCode?: string;
  /**
   * Order of day and month in the cfg's dates: 'dmy' (the standard for 1999/2013) or 'mdy' (the
   * standard for 1991, and what some 1999 writers wrongly use). Default: per revision.
   */
  readonly dateOrder?: DateOrder;
}

export const DATE_ORDERS = ['dmy', 'mdy'] as const;
export type DateOrder = (typeof DATE_ORDERS)[number];

/** At most this many channels (a bound for hostile files; real recorders have a few hundred). */
export const MAX_CHANNELS = 100_000;

class Lines {
  readonly #lines: string[];
  #at = 0;
  constructor(
    text: string,
    readonly file: string,
  ) {
    this.#lines = text.split(/\r\n|\n|\r/);
  }
  /** 1-based number of the line `next()` returned last. */
  get line(): number {
    return this.#at;
  }
  get done(): boolean {
    return this.#lines.slice(this.#at).every((l) => l.trim() === '');
  }
  next(what: string): string[] {
    if (this.#at >= this.#lines.length) this.fail(this.#at + 1, `missing ${what} (the file ends)`);
    const line = this.#lines[this.#at++]!;
    return line.split(',').map((f) => f.trim());
  }
  fail(line: number, msg: string): never {
    throw new DbError(438, `${this.file} line ${line}: ${msg}`);
  }
}

const INTEGER = /^[+-]?\d+$/;

function int(l: Lines, text: string | undefined, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const t = (text ?? '').trim();
  if (!INTEGER.test(t)) l.fail(l.line, `${what} must be an integer, got ${JSON.stringify(t)}`);
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    l.fail(l.line, `${what} must be between ${min} and ${max}, got ${t}`);
  }
  return n;
}

function num(l: Lines, text: string | undefined, what: string): number {
  const t = (text ?? '').trim();
  if (parseDecimal(t) === undefined) l.fail(l.line, `${what} must be a number, got ${JSON.stringify(t)}`);
  const v = Number(t);
  if (!Number.isFinite(v)) l.fail(l.line, `${what} is out of range: ${t}`);
  return v;
}

const optNum = (l: Lines, text: string | undefined, what: string): number | undefined =>
  text === undefined || text.trim() === '' ? undefined : num(l, text, what);

/** A time code "+10", "-5h30", "0" → minutes east of UTC; undefined for "x"/"" (not given). */
export function parseTimeCode(text: string): number | undefined | null {
  const t = text.trim();
  if (t === '' || t.toLowerCase() === 'x') return undefined;
  const m = /^([+-]?)(\d{1,2})(?:[hH](\d{2}))?$/.exec(t);
  if (m === null) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  if (minutes > 24 * 60) return null;
  return m[1] === '-' ? -minutes : minutes;
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** "dd/mm/yyyy,hh:mm:ss.ffffff" (1999+) or "mm/dd/yy,…" (1991) → local ns and fraction digits. */
function parseTime(
  l: Lines,
  fields: string[],
  order: DateOrder,
  what: string,
): Omit<CfgTime, 'ns'> & { local: bigint } {
  const text = fields.join(',');
  if (fields.length < 2) l.fail(l.line, `${what} must be "date,time", got ${JSON.stringify(text)}`);
  const [date = '', time = ''] = fields;
  const d = date.split('/');
  const t = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{0,9}))?$/.exec(time);
  if (d.length !== 3 || !d.every((p) => /^\d{1,4}$/.test(p)) || t === null) {
    const form = order === 'mdy' ? 'mm/dd/yy,hh:mm:ss.ffffff' : 'dd/mm/yyyy,hh:mm:ss.ffffff';
    l.fail(l.line, `${what} must be ${form}, got ${JSON.stringify(text)}`);
  }
  let [day, month, year] = d.map(Number) as [number, number, number];
  if (order === 'mdy') [month, day] = [day, month];
  // Two-digit years (1991 files): 00–69 are 2000–2069, 70–99 are 1970–1999.
  if (d[2]!.length <= 2) year += year < 70 ? 2000 : 1900;
  const [hh, mm, ss] = [Number(t[1]), Number(t[2]), Number(t[3])];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > DAYS[month - 1]! || (month === 2 && day === 29 && !leap)) {
    l.fail(
      l.line,
      `${what} has no such date: ${JSON.stringify(date)} (read as ${order === 'mdy' ? 'mm/dd/yy' : 'dd/mm/yyyy'}; see --date-order)`,
    );
  }
  if (hh > 23 || mm > 59 || ss > 60) l.fail(l.line, `${what} has no such time of day: ${JSON.stringify(time)}`);
  const frac = t[4] ?? '';
  const ms = Date.UTC(year, month - 1, day, hh, mm, ss);
  const local = BigInt(ms) * 1_000_000n + BigInt(frac.padEnd(9, '0'));
  return { local, text, fractionDigits: frac.length };
}

function parseAnalog(l: Lines, f: string[], rev: ComtradeRevision): AnalogChannel {
  if (f.length < 10)
    l.fail(
      l.line,
      `an analog channel line has at least 10 fields (An,ch_id,ph,ccbm,uu,a,b,skew,min,max), got ${f.length}`,
    );
  const full = f.length >= 13 && rev !== 1991;
  const ps = full ? f[12]!.toUpperCase() : '';
  if (full && ps !== 'P' && ps !== 'S' && ps !== '')
    l.fail(l.line, `the P/S field must be P or S, got ${JSON.stringify(f[12])}`);
  return {
    index: int(l, f[0], 'the analog channel number', 0),
    id: f[1]!,
    phase: f[2]!,
    ccbm: f[3]!,
    unit: f[4]!,
    a: num(l, f[5], 'the multiplier a'),
    b: num(l, f[6], 'the offset b'),
    aText: f[5]!,
    bText: f[6]!,
    skew: optNum(l, f[7], 'the skew') ?? 0,
    min: num(l, f[8], 'min'),
    max: num(l, f[9], 'max'),
    primary: full ? optNum(l, f[10], 'the primary ratio') : undefined,
    secondary: full ? optNum(l, f[11], 'the secondary ratio') : undefined,
    ps: ps === 'P' || ps === 'S' ? ps : undefined,
  };
}

function parseDigital(l: Lines, f: string[]): DigitalChannel {
  // 1991: Dn,ch_id,y — 1999/2013: Dn,ch_id,ph,ccbm,y.
  if (f.length < 3)
    l.fail(l.line, `a digital channel line has 3 (1991) or 5 fields (Dn,ch_id,ph,ccbm,y), got ${f.length}`);
  const short = f.length < 5;
  const y = (short ? f[2] : f[4])!;
  if (y !== '' && y !== '0' && y !== '1') l.fail(l.line, `the normal state y must be 0 or 1, got ${JSON.stringify(y)}`);
  return {
    index: int(l, f[0], 'the digital channel number', 0),
    id: f[1]!,
    phase: short ? '' : f[2]!,
    ccbm: short ? '' : f[3]!,
    normal: y === '' ? undefined : y === '1' ? 1 : 0,
  };
}

/** Parse the text of a .cfg file (see the module doc). */
export function parseCfg(text: string, opts: CfgOptions = {}): ComtradeConfig {
  const l: Lines = new Lines(text.replace(/^\uFEFF/, ''), opts.file ?? 'cfg');
  const head = l.next('the station line');
  const revText = head[2] ?? '';
  let revision: ComtradeRevision;
  if (revText === '' || revText === '1991') revision = 1991;
  else if (revText === '1999') revision = 1999;
  else if (revText === '2013') revision = 2013;
  else l.fail(1, `the revision year must be 1991, 1999 or 2013 (or absent), got ${JSON.stringify(revText)}`);
  const counts = l.next('the channel counts line (TT,nnA,nnD)');
  const total = int(l, counts[0], 'the channel total TT', 0, 2 * MAX_CHANNELS);
  const nA = /^\d+[aA]$/.test(counts[1] ?? '') ? Number(counts[1]!.slice(0, -1)) : Number.NaN;
  const nD = /^\d+[dD]$/.test(counts[2] ?? '') ? Number(counts[2]!.slice(0, -1)) : Number.NaN;
  if (!(nA <= MAX_CHANNELS && nD <= MAX_CHANNELS)) {
    l.fail(l.line, `the channel counts must read TT,nnA,nnD (e.g. 6,4A,2D), got ${JSON.stringify(counts.join(','))}`);
  }
  if (nA + nD !== total) l.fail(l.line, `TT (${total}) is not the sum of ${nA} analog and ${nD} digital channels`);
  const analog: AnalogChannel[] = [];
  for (let i = 0; i < nA; i++) analog.push(parseAnalog(l, l.next(`analog channel ${i + 1} of ${nA}`), revision));
  const digital: DigitalChannel[] = [];
  for (let i = 0; i < nD; i++) digital.push(parseDigital(l, l.next(`digital channel ${i + 1} of ${nD}`)));
  const lfText = l.next('the line frequency')[0]!;
  const lineFrequency = num(l, lfText, 'the line frequency lf');
  const nrates = int(l, l.next('nrates')[0], 'nrates', 0, 999);
  const rates: RateSegment[] = [];
  let endSample = 0;
  for (let i = 0; i < Math.max(nrates, 1); i++) {
    const f = l.next(nrates === 0 ? 'the line 0,endsamp' : `sample rate ${i + 1} of ${nrates} (samp,endsamp)`);
    const rate = parseDecimal(f[0] ?? '');
    if (rate === undefined || rate.num < 0n)
      l.fail(l.line, `the sample rate samp must be a number ≥ 0, got ${JSON.stringify(f[0])}`);
    const end = int(l, f[1], 'endsamp', 0);
    if (end < endSample) l.fail(l.line, `endsamp ${end} is below the previous segment's ${endSample}`);
    endSample = end;
    if (nrates > 0) rates.push({ rate, rateText: f[0]!, endSample: end });
  }
  const order = opts.dateOrder ?? (revision === 1991 ? 'mdy' : 'dmy');
  const start = parseTime(l, l.next('the start time'), order, 'the start time');
  const trigger = parseTime(l, l.next('the trigger time'), order, 'the trigger time');
  const ftText = (l.next('the data file type')[0] ?? '').toUpperCase();
  if (!(DATA_FORMATS as readonly string[]).includes(ftText)) {
    l.fail(l.line, `the data file type must be one of ${DATA_FORMATS.join(', ')}, got ${JSON.stringify(ftText)}`);
  }
  let timeMultiplierText = '1';
  let timeCode: string | undefined;
  let localCode: string | undefined;
  let tmqCode: string | undefined;
  let leapSecond: string | undefined;
  if (revision !== 1991 && !l.done) {
    timeMultiplierText = l.next('timemult')[0]!;
    if (timeMultiplierText === '') timeMultiplierText = '1';
  }
  const timeMultiplier = parseDecimal(timeMultiplierText);
  if (timeMultiplier === undefined || timeMultiplier.num <= 0n) {
    l.fail(l.line, `timemult must be a number > 0, got ${JSON.stringify(timeMultiplierText)}`);
  }
  if (revision === 2013 && !l.done) {
    const f = l.next('time_code,local_code');
    timeCode = f[0];
    localCode = f[1];
    if (!l.done) {
      const q = l.next('tmq_code,leapsec');
      tmqCode = q[0];
      leapSecond = q[1];
    }
  }
  let timeCodeMinutes = 0;
  const code = opts.timeCode ?? timeCode;
  if (code !== undefined) {
    const m = parseTimeCode(code);
    if (m === null) {
      if (opts.timeCode !== undefined)
        throw new DbError(438, `time code must read like +10, -5h30 or 0, got ${JSON.stringify(code)}`);
      l.fail(
        l.line - (tmqCode === undefined ? 0 : 1),
        `time_code must read like +10, -5h30, 0 or x, got ${JSON.stringify(code)}`,
      );
    }
    timeCodeMinutes = m ?? 0;
  }
  const offset = BigInt(timeCodeMinutes) * 60_000_000_000n;
  // 2013: the timestamp column counts ns when the cfg's times carry ns, else µs.
  const timestampUnitNs = revision === 2013 && start.fractionDigits > 6 ? 1n : 1000n;
  return {
    station: head[0] ?? '',
    device: head[1] ?? '',
    revision,
    analog,
    digital,
    lineFrequency,
    lineFrequencyText: lfText,
    rates,
    endSample,
    start: { ns: start.local - offset, text: start.text, fractionDigits: start.fractionDigits },
    trigger: { ns: trigger.local - offset, text: trigger.text, fractionDigits: trigger.fractionDigits },
    format: ftText as DataFormat,
    timeMultiplier,
    timeMultiplierText,
    timestampUnitNs,
    timeCode,
    timeCodeMinutes,
    localCode,
    tmqCode,
    leapSecond,
  };
}

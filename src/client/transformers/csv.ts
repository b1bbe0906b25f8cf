/**
 * CSV export of a Frame (btrdb-python `to_csv`): a header row, then one row per time. Times are
 * exact: integer ns, ISO-8601 with nine fraction digits, or both. Values print in JavaScript's
 * shortest round-trip form (parsing the text gives back the same float64; −0 stays "-0"); a
 * missing value (NaN) is an empty cell. Fields holding the delimiter, a quote or a line break are
 * quoted RFC 4180 style.
 */
import { formatIso } from '../../core/time.ts';
import { checkFrame, type Frame } from '../frame.ts';

export interface CsvOptions {
  /** How to write the time column: 'ns' (default), 'iso', or 'both' (ns in `time`, ISO in `time_iso`). */
  readonly time?: 'ns' | 'iso' | 'both';
  /** Write the header row (default true). */
  readonly header?: boolean;
  /** Field separator (default ','). */
  readonly delimiter?: string;
  /** Row terminator (default '\n'; Python's csv module writes '\r\n'). */
  readonly lineEnding?: string;
  /** Text for a missing value (default ''). */
  readonly missing?: string;
}

/** The CSV as an iterable of text chunks (one per row), for writing large frames without one big string. */
export function* csvChunks(frame: Frame, opts: CsvOptions = {}): Generator<string> {
  checkFrame(frame);
  const time = opts.time ?? 'ns';
  const sep = opts.delimiter ?? ',';
  const eol = opts.lineEnding ?? '\n';
  const missing = opts.missing ?? '';
  const quote = (s: string): string =>
    s.includes(sep) || s.includes('"') || s.includes('\n') || s.includes('\r') ? `"${s.replaceAll('"', '""')}"` : s;
  if (opts.header ?? true) {
    const head = time === 'both' ? ['time', 'time_iso'] : ['time'];
    yield [...head, ...frame.columns.map((c) => c.name)].map(quote).join(sep) + eol;
  }
  const n = frame.times.length;
  for (let i = 0; i < n; i++) {
    const t = frame.times[i]!;
    const cells: string[] =
      time === 'iso' ? [formatIso(t)] : time === 'both' ? [t.toString(), formatIso(t)] : [t.toString()];
    for (const c of frame.columns) cells.push(formatNumber(c.data[i]!, missing));
    yield cells.join(sep) + eol;
  }
}

/** The whole CSV as one string. */
export function frameToCsv(frame: Frame, opts: CsvOptions = {}): string {
  let out = '';
  for (const chunk of csvChunks(frame, opts)) out += chunk;
  return out;
}

/** A float64 as exact text: NaN → `missing`, −0 → "-0", otherwise the shortest round-trip form. */
export function formatNumber(v: number, missing = ''): string {
  if (Number.isNaN(v)) return missing;
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

/**
 * Reader for OpenPMU NMEA-style logs (shared/data/openpmu-rio-2012): one sentence per frame,
 * separated by CR (LF and CRLF are accepted too),
 *
 *   $KTH01,V1xx0,17455.900,1.552,59.966,92.411*2F
 *    station,channel,seconds since midnight,magnitude,frequency (Hz),angle (degrees)*XOR checksum
 *
 * The date is not in the sentences: it comes from the file name (`2012-12-12_KTH01.csv`) or the
 * caller, and is taken as UTC (OpenPMU stamps GPS time). Times are exact: "17455.900" is
 * 17455 s + 900 000 000 ns after midnight, computed in bigint. A log that runs past midnight is
 * detected by the seconds dropping by more than 12 h, and continues on the next day.
 *
 * Every sentence is checked (leading `$`, checksum, six fields, numbers); bad ones are collected
 * with their 1-based line number. One file holds one station and channel.
 */
import path from 'node:path';
import { DbError } from '../../core/errors.ts';
import { DAY, MILLISECOND } from '../../core/time.ts';
import { BadRows } from './bad-rows.ts';
import { CsvSplitter } from './csv-splitter.ts';
import { PointBuilder } from './point-builder.ts';
import { inputSize, textChunks } from './read-file.ts';
import { parseValueCell } from './value-cell.ts';

/** The three quantities of a frame, in sentence order: the value columns of {@link PmuLog}. */
export const PMU_QUANTITIES = [
  { name: 'magnitude', unit: 'V' },
  { name: 'frequency', unit: 'Hz' },
  { name: 'angle', unit: 'deg' },
] as const;

export interface PmuLog {
  readonly file: string;
  /** YYYY-MM-DD of the first frame (UTC). */
  readonly date: string;
  readonly station: string;
  readonly channel: string;
  readonly times: BigInt64Array;
  /** One column per {@link PMU_QUANTITIES} entry. */
  readonly columns: readonly [Float64Array, Float64Array, Float64Array];
  readonly sentences: number;
  readonly bad: BadRows;
  readonly bytes: number;
}

export interface PmuReadOptions {
  /** YYYY-MM-DD, when the file name does not start with the date. */
  readonly date?: string;
  readonly onProgress?: (bytes: number, totalBytes: number, points: number) => void;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})/;
const SECONDS = /^(\d{1,5})(?:\.(\d{1,9}))?$/;

/** Midnight (UTC, ns) of a YYYY-MM-DD date, or null if it is not a valid date. */
export function midnightOf(date: string): bigint | null {
  const m = DATE.exec(date);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== m[0]) return null;
  return BigInt(ms) * MILLISECOND;
}

/** The XOR of the character codes of `body` as two upper-case hex digits (NMEA checksum). */
export function nmeaChecksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

/** Why a sentence is malformed (no $, bad checksum, not six fields), or null if it is well formed. */
export function sentenceProblem(text: string): string | null {
  if (!text.startsWith('$')) return 'not an NMEA sentence (no leading $)';
  const star = text.lastIndexOf('*');
  if (star < 0) return 'no *checksum';
  const body = text.slice(1, star);
  const sum = text.slice(star + 1).toUpperCase();
  const want = nmeaChecksum(body);
  if (sum !== want) return `checksum ${sum} does not match ${want}`;
  let commas = 0;
  for (let i = 0; i < body.length; i++) if (body.charCodeAt(i) === 44) commas++;
  if (commas !== 5) return `${commas + 1} fields, expected 6 (station, channel, seconds, magnitude, frequency, angle)`;
  return null;
}

/** Read and validate a whole log. Throws (438) only when there is no date; bad sentences are in `bad`. */
export async function readOpenPmuLog(file: string, opts: PmuReadOptions = {}): Promise<PmuLog> {
  const date = opts.date ?? DATE.exec(path.basename(file))?.[0];
  const midnight = date === undefined ? null : midnightOf(date);
  if (date === undefined || midnight === null) {
    throw new DbError(
      438,
      `${file}: no date: the file name must start with YYYY-MM-DD (the sentences hold only the time of day), or give --date`,
    );
  }
  const total = inputSize(file);
  const out = new PointBuilder(3, 1 << 16);
  const bad = new BadRows('line');
  let station: string | null = null;
  let channel = '';
  let sentences = 0;
  let dayStart = midnight;
  let prevOfDay = -1;

  const values = [0, 0, 0];
  // Hot path (once per frame): no closures or bigint arithmetic beyond one conversion per frame.
  const onRecord = (fields: string[], line: number): void => {
    sentences++;
    const text = (fields.length === 1 ? fields[0]! : fields.join('\t')).trim();
    const problem = sentenceProblem(text);
    if (problem !== null) {
      bad.add(line, 438, `${problem}: ${JSON.stringify(text.slice(0, 80))}`);
      return;
    }
    const f = text.slice(1, text.lastIndexOf('*')).split(',');
    if (station === null) {
      station = f[0]!;
      channel = f[1]!;
    } else if (f[0] !== station || f[1] !== channel) {
      bad.add(line, 438, `station/channel ${f[0]}/${f[1]} differs from ${station}/${channel} (one per file)`);
      return;
    }
    const s = SECONDS.exec(f[2]!);
    if (!s) {
      bad.add(line, 413, `seconds since midnight ${JSON.stringify(f[2])} is not a decimal number`);
      return;
    }
    // < 10^5 s with ≤ 9 fraction digits: below 2^53 ns, so exact as a double.
    const ofDay = Number(s[1]) * 1e9 + Number((s[2] ?? '').padEnd(9, '0'));
    if (ofDay > 86_400e9) {
      bad.add(line, 413, `seconds since midnight ${f[2]} is more than a day`);
      return;
    }
    if (prevOfDay >= 0 && ofDay < prevOfDay - 43_200e9) dayStart += DAY; // the log ran past midnight
    prevOfDay = ofDay;
    let ok = true;
    for (let k = 0; k < 3; k++) {
      const v = parseValueCell(f[3 + k]!.trim(), false);
      if (v.ok) values[k] = v.value;
      else {
        bad.add(line, 425, `${PMU_QUANTITIES[k]!.name}: ${v.reason}`);
        ok = false;
      }
    }
    if (!ok || !bad.empty) return;
    const i = out.pushTime(dayStart + BigInt(ofDay));
    for (let k = 0; k < 3; k++) out.setValue(k, i, values[k]!);
  };

  const splitter = new CsvSplitter('\t', onRecord); // a tab never occurs: one field per sentence
  let bytes = 0;
  for (const [text, read] of textChunks(file, 'latin1')) {
    splitter.push(text);
    bytes = read;
    opts.onProgress?.(bytes, total, out.length);
  }
  splitter.end();
  return {
    file,
    date,
    station: station ?? '',
    channel,
    times: out.times(),
    columns: [out.values(0), out.values(1), out.values(2)],
    sentences,
    bad,
    bytes,
  };
}

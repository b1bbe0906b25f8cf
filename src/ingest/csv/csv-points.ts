/**
 * Reading a CSV file of (time, value) rows into point columns, validating every row: the time
 * parses in the chosen format and is storable, the value is a number (finite unless allowed), and
 * the row has as many fields as the header. Nothing is inserted here: the caller gets the points
 * and every bad row, and imports only a file without bad rows.
 *
 * Memory: 16 bytes per point plus one 1 MiB chunk of text, whatever the file size.
 */
import { DbError } from '../../core/errors.ts';
import { BadRows } from './bad-rows.ts';
import { CsvSplitter } from './csv-splitter.ts';
import { PointBuilder } from './point-builder.ts';
import { inputSize, textChunks } from './read-file.ts';
import { parseTimeCell, type TimeFormat } from './time-cell.ts';
import { parseValueCell } from './value-cell.ts';

export interface CsvReadOptions {
  /** Field separator (default ','). */
  readonly delimiter?: string;
  /** The first line names the columns (default true). */
  readonly header?: boolean;
  /** Column name, or 0-based index (default: the column named `time`, else column 0). */
  readonly timeColumn?: string;
  /** Column name, or 0-based index (default: the column named `value`, else column 1 of 2). */
  readonly valueColumn?: string;
  /** How times are written (default 'auto': an integer is ns, anything else ISO-8601). */
  readonly timeFormat?: TimeFormat;
  /** Accept NaN / ±Inf values (default false: they are bad rows). */
  readonly allowNonFinite?: boolean;
  /** Called after each chunk with bytes read, file size and points so far. */
  readonly onProgress?: (bytes: number, totalBytes: number, points: number) => void;
}

export interface PointsRead {
  readonly times: BigInt64Array;
  readonly values: Float64Array;
  /** Data rows seen (good and bad). */
  readonly rows: number;
  readonly bad: BadRows;
  readonly bytes: number;
}

/** Resolve a column given by name or 0-based index against the header (or the field count). */
export function resolveColumn(spec: string, header: readonly string[] | null, width: number, what: string): number {
  if (header !== null) {
    const exact = header.indexOf(spec);
    if (exact >= 0) return exact;
    const folded = header.findIndex((h) => h.toLowerCase() === spec.toLowerCase());
    if (folded >= 0) return folded;
  }
  if (/^\d+$/.test(spec) && Number(spec) < width) return Number(spec);
  const known = header === null ? `${width} columns` : `columns ${header.map((h) => JSON.stringify(h)).join(', ')}`;
  throw new DbError(
    438,
    `no ${what} column ${JSON.stringify(spec)} (the file has ${known}; give a name or a 0-based index)`,
  );
}

const named = (header: readonly string[] | null, name: string): boolean =>
  header?.some((h) => h.toLowerCase() === name) ?? false;

/** The default value column: `value` by name, else the other column of a two-column file. */
function defaultValueColumn(header: readonly string[] | null, width: number, timeIndex: number): string {
  if (named(header, 'value')) return 'value';
  if (width === 2) return String(1 - timeIndex);
  throw new DbError(438, `cannot tell which of the ${width} columns holds the values: give --value-column`);
}

/**
 * Read and validate a whole CSV file. Throws only for unusable input (missing file or column);
 * bad rows are returned in `bad`, and once there is one the points are no longer collected (they
 * would not be imported), so `times`/`values` are complete only when `bad` is empty.
 */
export async function readCsvPoints(file: string, opts: CsvReadOptions = {}): Promise<PointsRead> {
  const total = inputSize(file);
  const format = opts.timeFormat ?? 'auto';
  const allowNonFinite = opts.allowNonFinite ?? false;
  const wantHeader = opts.header ?? true;
  const out = new PointBuilder();
  const bad = new BadRows('line');
  let header: string[] | null = null;
  let width = -1;
  let ti = -1;
  let vi = -1;
  let rows = 0;

  const onRecord = (fields: string[], line: number): void => {
    if (width === -1) {
      width = fields.length;
      if (wantHeader) {
        header = fields.map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, '') : f).trim());
      }
      ti = resolveColumn(opts.timeColumn ?? (named(header, 'time') ? 'time' : '0'), header, width, 'time');
      vi = resolveColumn(opts.valueColumn ?? defaultValueColumn(header, width, ti), header, width, 'value');
      if (ti === vi) throw new DbError(438, `the time and value columns are the same (column ${ti})`);
      if (wantHeader) return;
    }
    rows++;
    if (fields.length !== width) {
      bad.add(line, 438, `${fields.length} fields, expected ${width} like the ${header ? 'header' : 'first row'}`);
      return;
    }
    const t = parseTimeCell(fields[ti]!.trim(), format);
    const v = parseValueCell(fields[vi]!.trim(), allowNonFinite);
    if (!t.ok) bad.add(line, 413, t.reason);
    if (!v.ok) bad.add(line, 425, v.reason);
    if (t.ok && v.ok && bad.empty) out.push(t.ns, v.value);
  };

  const splitter = new CsvSplitter(opts.delimiter ?? ',', onRecord);
  let bytes = 0;
  for (const [text, read] of textChunks(file)) {
    splitter.push(text);
    bytes = read;
    opts.onProgress?.(bytes, total, out.length);
  }
  splitter.end();
  return { times: out.times(), values: out.values(), rows, bad, bytes };
}

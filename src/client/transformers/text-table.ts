/**
 * A Frame as fixed-width text for printing (btrdb-python `to_table`): right-aligned columns, a
 * header, a rule of dashes; missing values blank. Times as integer ns, or ISO with `time: 'iso'`.
 */
import { formatIso } from '../../core/time.ts';
import { checkFrame, type Frame } from '../frame.ts';
import { formatNumber } from './csv.ts';

export function frameToText(frame: Frame, opts: { time?: 'ns' | 'iso' } = {}): string {
  checkFrame(frame);
  const header = ['time', ...frame.columns.map((c) => c.name)];
  const rows: string[][] = [];
  for (let i = 0; i < frame.times.length; i++) {
    const t = frame.times[i]!;
    rows.push([
      opts.time === 'iso' ? formatIso(t) : t.toString(),
      ...frame.columns.map((c) => formatNumber(c.data[i]!)),
    ]);
  }
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, j) => c.padStart(widths[j]!)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * From a StreamSet's per-stream results to the Frame the transformers read: column names
 * (btrdb-python's `name_callable`, default `collection/name`), the choice of statistics for window
 * queries (`agg`), and optional flag columns.
 */
import { DbError } from '../core/errors.ts';
import type { StreamDescriptor, Version } from '../core/types.ts';
import type { Frame, FrameColumn } from './frame.ts';
import { gatherFlags, gatherFloat, type JoinIndex, outerJoin } from './join.ts';
import { type RawResult, STAT_FIELDS, type StatColumns, type StatField } from './points.ts';
import type { Stream } from './stream.ts';

/** One member's raw points. */
export interface RawSeries extends RawResult {
  readonly stream: Stream;
}

/** One member's window statistics, as columns. */
export interface StatSeries extends StatColumns {
  readonly stream: Stream;
  readonly version: Version;
}

/** How to name a stream's column: `collection/name` (default), its uuid, or a function. */
export type ColumnNaming = 'collection/name' | 'uuid' | ((stream: Stream, descriptor: StreamDescriptor) => string);

/** Which statistics of a window query to output: one, several, or 'all' five. Default 'mean'. */
export type AggOption = StatField | readonly StatField[] | 'all';

export interface FrameOptions {
  /** Window queries only: the statistics to output (default 'mean'). With more than one, columns are `label/stat`. */
  readonly agg?: AggOption;
  readonly columnName?: ColumnNaming;
  /** Raw queries only: add a `label/flags` column for each stream whose points carry flags. */
  readonly includeFlags?: boolean;
}

/** The statistics an `agg` option names, validated (438 on an unknown name). */
export function aggFields(agg: AggOption | undefined): StatField[] {
  const list =
    agg === undefined ? ['mean'] : agg === 'all' ? [...STAT_FIELDS] : typeof agg === 'string' ? [agg] : [...agg];
  for (const f of list) {
    if (!(STAT_FIELDS as readonly string[]).includes(f)) {
      throw new DbError(438, `unknown statistic ${JSON.stringify(f)}; use ${STAT_FIELDS.join(', ')} or 'all'`);
    }
  }
  if (list.length === 0) throw new DbError(438, 'agg names no statistic');
  return list as StatField[];
}

/** A stream's column label; the stream's descriptor must be loaded. */
export function columnLabel(stream: Stream, naming: ColumnNaming | undefined): string {
  const d = stream.descriptor;
  if (naming === 'uuid') return stream.uuid;
  if (d === undefined) throw new DbError(500, `metadata of ${stream.uuid} not loaded`);
  if (typeof naming === 'function') return naming(stream, d);
  return `${d.collection}/${d.tags.name ?? ''}`;
}

/** Raw members joined by `join` → Frame (value columns, plus flag columns when asked for). */
export function rawFrame(
  series: readonly RawSeries[],
  join: JoinIndex,
  labels: readonly string[],
  includeFlags: boolean,
): Frame {
  const columns: FrameColumn[] = [];
  series.forEach((s, i) => {
    const index = join.index[i]!;
    columns.push({ name: labels[i]!, data: gatherFloat(s.values, index) });
    if (includeFlags && s.flags !== undefined)
      columns.push({ name: `${labels[i]!}/flags`, data: gatherFlags(s.flags, index) });
  });
  return { times: join.times, columns };
}

/** Window members joined on window start → Frame with the chosen statistics. */
export function statFrame(series: readonly StatSeries[], labels: readonly string[], agg: AggOption | undefined): Frame {
  const fields = aggFields(agg);
  const suffix = fields.length > 1 || agg === 'all';
  const join = outerJoin(series.map((s) => s.times));
  const columns: FrameColumn[] = [];
  series.forEach((s, i) => {
    for (const f of fields) {
      columns.push({ name: suffix ? `${labels[i]!}/${f}` : labels[i]!, data: gatherFloat(s[f], join.index[i]!) });
    }
  });
  return { times: join.times, columns };
}

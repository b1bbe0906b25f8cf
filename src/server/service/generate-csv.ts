/**
 * GenerateCSV (guide §4.15, BTrDB v4's export; btrdb-python cannot call it): a header message
 * (`isHeader`) then one message per row. Columns: `Timestamp (ns)`, `Human-Readable Time (UTC)`,
 * then per stream its `label` (raw; `label, ver. N` with `includeVersions`) or four columns
 * `label (Min)`, `label (Mean)`, `label (Max)`, `label (Count)` (windows; `label, ver. N (Min)` …).
 * Streams are merged on equal times; a stream without a point (window) at a row's time has blank
 * cells. Every stream is read at one resolved version, reported in the header when asked.
 */

import { outerJoin } from '../../client/join.ts';
import { DbError } from '../../core/errors.ts';
import type { StatPoint } from '../../core/stat.ts';
import { formatIso } from '../../core/time.ts';
import type { StreamId } from '../../core/types.ts';
import type { Backend } from '../../db/backend.ts';
import { type GenerateCSVParams, type GenerateCSVResponse, QueryType } from '../../wire/index.ts';
import { MAX_METADATA_ENTRIES, requestedVersion, streamIdOf } from './convert.ts';
import { joinSources } from './multi-join.ts';
import { rawBatches } from './read-rpcs.ts';

export const EMPTY_CSV: GenerateCSVResponse = { isHeader: false, row: [] };

const STAT_COLUMNS = ['Min', 'Mean', 'Max', 'Count'] as const;

const cell = (v: number): string => String(v);

interface Target {
  readonly id: StreamId;
  readonly label: string;
  readonly version: number;
}

async function resolveTargets(backend: Backend, req: GenerateCSVParams): Promise<Target[]> {
  if (req.streams.length > MAX_METADATA_ENTRIES) {
    throw new DbError(438, `GenerateCSV: ${req.streams.length} streams, at most ${MAX_METADATA_ENTRIES} allowed`);
  }
  const out: Target[] = [];
  for (const s of req.streams) {
    const id = streamIdOf(s.uuid);
    const asked = requestedVersion(s.version);
    const version = asked !== 0 ? asked : (await backend.streamInfo(id)).version;
    out.push({ id, label: s.label, version });
  }
  return out;
}

function header(req: GenerateCSVParams, targets: readonly Target[], raw: boolean): string[] {
  const cols = ['Timestamp (ns)', 'Human-Readable Time (UTC)'];
  for (const t of targets) {
    const name = req.includeVersions ? `${t.label}, ver. ${t.version}` : t.label;
    if (raw) cols.push(name);
    else for (const c of STAT_COLUMNS) cols.push(`${name} (${c})`);
  }
  return cols;
}

export async function* generateCSV(
  backend: Backend,
  req: GenerateCSVParams,
  size: number,
): AsyncGenerator<GenerateCSVResponse> {
  const kind = req.queryType;
  if (kind !== QueryType.RAW_QUERY && kind !== QueryType.WINDOWS_QUERY && kind !== QueryType.ALIGNED_WINDOWS_QUERY) {
    throw new DbError(438, `unknown GenerateCSV query type ${kind}`);
  }
  if (req.startTime >= req.endTime) throw new DbError(413, `start ${req.startTime} must be before end ${req.endTime}`);
  const targets = await resolveTargets(backend, req);
  const raw = kind === QueryType.RAW_QUERY;
  if (raw) {
    // Read everything up front only as far as the join needs: the sources stream.
    const sources = targets.map((t) =>
      (async function* () {
        for await (const x of rawBatches(backend, t.id, req.startTime, req.endTime, t.version, size)) yield x.batch;
      })(),
    );
    yield { isHeader: true, row: header(req, targets, true) };
    for await (const piece of joinSources(sources, size)) {
      for (let r = 0; r < piece.times.length; r++) {
        const t = piece.times[r]!;
        const row = [t.toString(), formatIso(t)];
        for (const col of piece.columns) row.push(Number.isNaN(col[r]!) ? '' : cell(col[r]!));
        yield { isHeader: false, row };
      }
    }
    return;
  }
  const stats: StatPoint[][] = [];
  for (const t of targets) {
    const r =
      kind === QueryType.ALIGNED_WINDOWS_QUERY
        ? await backend.alignedWindows(t.id, req.startTime, req.endTime, req.depth, t.version)
        : await backend.windows(t.id, req.startTime, req.endTime, req.windowSize, req.depth, t.version);
    stats.push(r.value);
  }
  yield { isHeader: true, row: header(req, targets, false) };
  const joined = outerJoin(stats.map((s) => BigInt64Array.from(s, (p) => p.time)));
  for (let r = 0; r < joined.times.length; r++) {
    const t = joined.times[r]!;
    const row = [t.toString(), formatIso(t)];
    stats.forEach((s, i) => {
      const k = joined.index[i]![r]!;
      const p = k < 0 ? undefined : s[k];
      if (p === undefined) row.push('', '', '', '');
      else row.push(cell(p.min), cell(p.mean), cell(p.max), String(p.count));
    });
    yield { isHeader: false, row };
  }
}

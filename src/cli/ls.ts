/** `arbor ls` — list streams (or collections) with their size and time span. */
import type { Connection, Stream } from '../client/index.ts';
import { connectionOver, formatIso } from '../client/index.ts';
import { openDatabase } from '../db/database.ts';
import { dataDir, has, parseArgs } from './args.ts';
import { parseFilters } from './create.ts';
import { UsageError } from './main.ts';

const HELP = `arbor ls — list streams

Lists the streams whose collection starts with PREFIX (default: all), one row each: uuid,
collection, name, unit, property version, number of points, and the first and last point's time
(ISO-8601 UTC). With --collections, lists the collection names instead.

Usage: arbor ls [PREFIX] [--tag k=v]... [--annotation k=v]... [--exact] [--brief] [--json]
       arbor ls --collections [PREFIX] [--json]

  --tag k=v          only streams whose tag k is v (--tag k: that have tag k at all)
  --annotation k=v   only streams whose annotation k is v (--annotation k: that have it)
  --exact            PREFIX is the whole collection name, not a prefix
  --brief            skip the data columns (points, first, last): faster for many streams
  --json             one JSON array (times as ns strings and ISO)
  --data DIR         data directory (default $ARBOR_DATA or ./data)

Examples:
  arbor ls
  arbor ls grid/sub1/ --tag unit=V
  arbor ls --annotation station=KTH01 --json | jq '.[].uuid'
  arbor ls --collections grid/
`;

export interface StreamRow {
  readonly uuid: string;
  readonly collection: string;
  readonly name: string;
  readonly unit: string;
  readonly propertyVersion: number;
  /** Absent with `brief`. */
  readonly points?: number;
  readonly first?: bigint | null;
  readonly last?: bigint | null;
}

export interface ListOptions {
  readonly prefix: string;
  readonly exact?: boolean;
  readonly tags?: Record<string, string | null>;
  readonly annotations?: Record<string, string | null>;
  readonly brief?: boolean;
}

/** Count and time span of a stream at its latest version (exact: one window over all time). */
export async function streamSpan(s: Stream): Promise<{ points: number; first: bigint | null; last: bigint | null }> {
  const points = await s.count({ precise: true });
  if (points === 0) return { points, first: null, last: null };
  const [first, last] = [await s.earliest(), await s.latest()];
  return { points, first: first?.time ?? null, last: last?.time ?? null };
}

/** The rows `arbor ls` prints, sorted by collection, name, uuid (the catalog's order). */
export async function listStreams(conn: Connection, o: ListOptions): Promise<StreamRow[]> {
  const streams = await conn.streamsInCollection(o.prefix, {
    isPrefix: !o.exact,
    ...(o.tags === undefined ? {} : { tags: o.tags }),
    ...(o.annotations === undefined ? {} : { annotations: o.annotations }),
  });
  const rows: StreamRow[] = [];
  for (const s of streams) {
    const d = s.descriptor ?? (await s.refresh()).descriptor!;
    const base = {
      uuid: s.uuid,
      collection: d.collection,
      name: d.tags.name ?? '',
      unit: d.tags.unit ?? '',
      propertyVersion: d.propertyVersion,
    };
    rows.push(o.brief ? base : { ...base, ...(await streamSpan(s)) });
  }
  return rows;
}

/** Left-aligned text columns under a header and a rule (numbers right-aligned). */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const numeric = header.map(
    (_, j) => rows.length > 0 && rows.every((r) => /^-?[\d.]+$/.test(r[j] ?? '') || r[j] === ''),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, j) => (numeric[j] ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')}\n`;
}

const iso = (t: bigint | null | undefined): string => (t === null || t === undefined ? '' : formatIso(t));

/** JSON-safe form of a row: bigint times as decimal strings plus ISO. */
export function rowJson(r: StreamRow): Record<string, unknown> {
  const out: Record<string, unknown> = { ...r };
  if (r.first !== undefined) {
    out.first = r.first === null ? null : r.first.toString();
    out.firstIso = r.first === null ? null : formatIso(r.first);
    out.last = r.last === null || r.last === undefined ? null : r.last.toString();
    out.lastIso = r.last === null || r.last === undefined ? null : formatIso(r.last);
  }
  return out;
}

export function formatStreamRows(rows: readonly StreamRow[], brief: boolean): string {
  const header = ['uuid', 'collection', 'name', 'unit', 'pver'];
  if (!brief) header.push('points', 'first', 'last');
  const cells = rows.map((r) => {
    const c = [r.uuid, r.collection, r.name, r.unit, String(r.propertyVersion)];
    if (!brief) c.push(String(r.points ?? 0), iso(r.first), iso(r.last));
    return c;
  });
  return renderTable(header, cells);
}

export async function lsCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    data: { type: 'string' },
    tag: { type: 'list' },
    annotation: { type: 'list' },
    exact: { type: 'boolean' },
    brief: { type: 'boolean' },
    collections: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  if (p.positional.length > 1) throw new UsageError(`one collection prefix at most, got ${p.positional.length}`);
  const prefix = p.positional[0] ?? '';
  const json = has(p, 'json');
  const db = await openDatabase(dataDir(p), { background: false });
  try {
    const conn = connectionOver(db);
    if (has(p, 'collections')) {
      const names = await conn.listCollections(prefix);
      process.stdout.write(json ? `${JSON.stringify(names)}\n` : names.map((n) => `${n}\n`).join(''));
      return;
    }
    const tags = p.flags.get('tag');
    const annotations = p.flags.get('annotation');
    const brief = has(p, 'brief');
    const rows = await listStreams(conn, {
      prefix,
      exact: has(p, 'exact'),
      brief,
      ...(tags ? { tags: parseFilters(tags) } : {}),
      ...(annotations ? { annotations: parseFilters(annotations) } : {}),
    });
    process.stdout.write(json ? `${JSON.stringify(rows.map(rowJson), null, 2)}\n` : formatStreamRows(rows, brief));
  } finally {
    await db.close();
  }
}

/** `arbor info` — everything known about one stream. */
import type { Connection } from '../client/index.ts';
import { connectionOver, formatIso } from '../client/index.ts';
import type { StreamId } from '../core/types.ts';
import type { Database } from '../db/database.ts';
import { openDatabase } from '../db/database.ts';
import { treeSize } from '../engine/tree-size.ts';
import { dataDir, has, parseArgs } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `arbor info — describe a stream

Prints a stream's metadata (collection, tags, annotations, property version), its data version
and the versions still retained, whether it accepts NaN, the number of points, the earliest and
latest point, and the bytes its latest version occupies on disk (all tree blocks it references;
blocks shared with older versions are counted too).

Usage: arbor info <uuid | collection/name> [--json] [--data DIR]

Examples:
  arbor info 4b9f3c1e-8a2d-4c55-9e0a-0d6f7e1b2a33
  arbor info pmu/rio/frequency
  arbor info pmu/rio/frequency --json | jq .points
`;

export interface StreamInfoReport {
  readonly uuid: string;
  readonly collection: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly propertyVersion: number;
  readonly version: number;
  readonly retainedVersions: readonly number[];
  readonly allowNonFinite: boolean;
  readonly points: number;
  readonly earliest: { readonly time: bigint; readonly value: number } | null;
  readonly latest: { readonly time: bigint; readonly value: number } | null;
  readonly bytes: number;
  readonly blocks: number;
}

/** Everything `arbor info` prints about the stream named by `ident` (uuid or collection/name). */
export async function describeStream(db: Database, conn: Connection, ident: string): Promise<StreamInfoReport> {
  const [stream] = (await conn.streams(ident)).streams;
  const d = stream!.descriptor ?? (await stream!.refresh()).descriptor!;
  const id = stream!.uuid as StreamId;
  const { root, version } = await db.engine.resolve(id, 0);
  const engineInfo = await db.engine.info(id);
  const earliest = await stream!.earliest();
  const latest = await stream!.latest();
  const size = await treeSize(db.engine.tree, root);
  return {
    uuid: id,
    collection: d.collection,
    tags: d.tags,
    annotations: d.annotations,
    propertyVersion: d.propertyVersion,
    version,
    retainedVersions: engineInfo.versions,
    allowNonFinite: engineInfo.options.allowNonFinite,
    points: root?.count ?? 0,
    earliest: earliest === null ? null : { time: earliest.time, value: earliest.value },
    latest: latest === null ? null : { time: latest.time, value: latest.value },
    bytes: size.bytes,
    blocks: size.blocks,
  };
}

/** Versions as ranges: [10, 11, 12, 15] → "10–12, 15". */
export function versionRanges(vs: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < vs.length; ) {
    let j = i;
    while (j + 1 < vs.length && vs[j + 1] === vs[j]! + 1) j++;
    parts.push(i === j ? String(vs[i]) : `${vs[i]}–${vs[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

const point = (p: { time: bigint; value: number } | null): string =>
  p === null ? '(none)' : `${formatIso(p.time)}  (${p.time} ns)  value ${String(p.value)}`;

export function formatInfo(r: StreamInfoReport): string {
  const kv = (o: Readonly<Record<string, string>>) =>
    Object.keys(o).length === 0
      ? '(none)'
      : Object.entries(o)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join('  ');
  const perPoint = r.points > 0 ? ` (${(r.bytes / r.points).toFixed(2)} bytes/point)` : '';
  return [
    `uuid               ${r.uuid}`,
    `collection         ${r.collection}`,
    `tags               ${kv(r.tags)}`,
    `annotations        ${kv(r.annotations)}`,
    `property version   ${r.propertyVersion}`,
    `data version       ${r.version}`,
    `retained versions  ${versionRanges(r.retainedVersions)} (${r.retainedVersions.length})`,
    `allows NaN/±Inf    ${r.allowNonFinite ? 'yes' : 'no'}`,
    `points             ${r.points}`,
    `earliest           ${point(r.earliest)}`,
    `latest             ${point(r.latest)}`,
    `bytes              ${r.bytes} in ${r.blocks} blocks${perPoint}`,
    '',
  ].join('\n');
}

export function infoJson(r: StreamInfoReport): string {
  const pt = (p: { time: bigint; value: number } | null) =>
    p === null ? null : { time: p.time.toString(), iso: formatIso(p.time), value: p.value };
  return `${JSON.stringify({ ...r, earliest: pt(r.earliest), latest: pt(r.latest) }, null, 2)}\n`;
}

export async function infoCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    data: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  if (p.positional.length !== 1) throw new UsageError('give one stream: a uuid or collection/name (see --help)');
  const db = await openDatabase(dataDir(p), { background: false });
  try {
    const r = await describeStream(db, connectionOver(db), p.positional[0]!);
    process.stdout.write(has(p, 'json') ? infoJson(r) : formatInfo(r));
  } finally {
    await db.close();
  }
}

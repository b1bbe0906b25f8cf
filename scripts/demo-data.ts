/**
 * Demo streams for a new database: the real OpenPMU recordings (shared/data/openpmu-rio-2012, one
 * collection per file, one stream per channel: magnitude V, frequency Hz, angle deg) and one
 * synthetic 120 Hz stream of a few million points (the benchmark workload's generator), so that
 * zooming from hours down to single points is visible in the plotter. A short burst of the
 * synthetic stream carries quality flag 1 ("suspect") to show flags.
 *
 *   node --import tsx scripts/demo-data.ts DATA_DIR [--points N]   # load into a data directory
 *
 * `loadDemoData(db)` does nothing when the database already has a `demo/` collection.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateStream, readOpenPmu } from '../bench/workload.ts';
import type { PointBatch, StreamId } from '../src/core/types.ts';
import { newStreamId } from '../src/core/uuid.ts';
import type { Backend } from '../src/db/backend.ts';
import { sharedDataDir } from '../test/shared-data.ts';

export const DEMO_DATA_DIR = sharedDataDir('openpmu-rio-2012');
export const DEMO_PREFIX = 'demo/';
export const SYNTHETIC_COLLECTION = 'demo/synthetic';
/** Points of the synthetic stream by default (≈ 6.9 hours at 120 Hz). */
export const DEFAULT_SYNTHETIC_POINTS = 3_000_000;
/** Points per insert call. */
const BATCH = 100_000;

export interface DemoOptions {
  /** Folder of the OpenPMU files (default ../shared/data/openpmu-rio-2012 from the repository). */
  readonly dataDir?: string;
  /** Points of the synthetic stream (default 3 000 000; 0 = none). */
  readonly syntheticPoints?: number;
  readonly log?: (line: string) => void;
}

export interface DemoStream {
  readonly id: StreamId;
  readonly collection: string;
  readonly name: string;
  readonly unit: string;
  readonly points: number;
}

async function insertAll(db: Backend, id: StreamId, batch: PointBatch): Promise<void> {
  for (let i = 0; i < batch.times.length; i += BATCH) {
    const j = Math.min(batch.times.length, i + BATCH);
    await db.insert(
      id,
      {
        times: batch.times.subarray(i, j),
        values: batch.values.subarray(i, j),
        ...(batch.flags ? { flags: batch.flags.subarray(i, j) } : {}),
      },
      'never',
    );
  }
  await db.flush(id);
}

async function addStream(
  db: Backend,
  collection: string,
  tags: { name: string; unit: string },
  annotations: Record<string, string>,
  batch: PointBatch,
): Promise<DemoStream> {
  const id = newStreamId();
  await db.create({ id, collection, tags: { ...tags, ingress: 'demo-data' }, annotations });
  await insertAll(db, id, batch);
  return { id, collection, name: tags.name, unit: tags.unit, points: batch.times.length };
}

/**
 * Load the demo streams unless a `demo/` collection exists. Returns the streams created (empty
 * when nothing was loaded). Files that are missing are skipped with a log line.
 */
export async function loadDemoData(db: Backend, opts: DemoOptions = {}): Promise<DemoStream[]> {
  const log = opts.log ?? (() => undefined);
  if ((await db.listCollections(DEMO_PREFIX)).length > 0) {
    log('demo data: already loaded');
    return [];
  }
  const out: DemoStream[] = [];
  const dir = opts.dataDir ?? DEMO_DATA_DIR;
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => /^\d{4}-\d{2}-\d{2}_.*\.csv$/.test(f))
        .sort()
    : [];
  if (files.length === 0) log(`demo data: no OpenPMU files in ${dir}`);
  for (const file of files) {
    const pmu = readOpenPmu(path.join(dir, file));
    const collection = `demo/openpmu/${file.replace(/\.csv$/, '')}`;
    const annotations = { source: `openpmu-rio-2012/${file}`, rate: '10 Hz', station: 'KTH01' };
    const channels = [
      { name: 'magnitude', unit: 'V', values: pmu.magnitude },
      { name: 'frequency', unit: 'Hz', values: pmu.frequency },
      { name: 'angle', unit: 'deg', values: pmu.angle },
    ];
    for (const c of channels) {
      const tags = { name: c.name, unit: c.unit };
      out.push(await addStream(db, collection, tags, annotations, { times: pmu.times, values: c.values }));
    }
    log(`demo data: ${collection}: ${pmu.times.length} frames × 3 channels`);
  }
  const n = opts.syntheticPoints ?? DEFAULT_SYNTHETIC_POINTS;
  if (n > 0) {
    const s = generateStream(0, n);
    const flags = new Uint32Array(n);
    const from = Math.floor(n / 2);
    for (let i = from; i < Math.min(n, from + 240); i++) flags[i] = 1; // two seconds flagged "suspect"
    const annotations = { source: 'bench/workload.ts generateStream(0)', rate: '120 Hz', flags: '1 = suspect' };
    out.push(
      await addStream(db, SYNTHETIC_COLLECTION, { name: 'sine-120hz', unit: 'V' }, annotations, {
        times: s.times,
        values: s.values,
        flags,
      }),
    );
    log(`demo data: ${SYNTHETIC_COLLECTION}: ${n} points`);
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const dir = argv[0];
  if (dir === undefined || dir.startsWith('-')) {
    process.stderr.write('usage: node --import tsx scripts/demo-data.ts DATA_DIR [--points N]\n');
    process.exitCode = 2;
    return;
  }
  const i = argv.indexOf('--points');
  const points = i >= 0 ? Number(argv[i + 1]) : DEFAULT_SYNTHETIC_POINTS;
  const { openDatabase } = await import('../src/db/database.ts');
  const db = await openDatabase(dir);
  try {
    await loadDemoData(db, { syntheticPoints: points, log: (l) => process.stderr.write(`${l}\n`) });
  } finally {
    await db.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}

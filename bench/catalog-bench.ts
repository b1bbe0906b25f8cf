/**
 * Catalog at scale through the full stack (a program, not a test): an on-disk Database in a temp
 * directory holding 100 000 streams, measured the way users reach it.
 *
 * - bulk load: the 100 000 workload streams of src/catalog/lookup-workload.ts (PMU-like
 *   `grid/sub<k>/pmu<j>` collections, unit V/A, site/phase annotations) via `catalog.createMany`
 *   — catalog rows only: the engine never hears of them, which is fine here because their data is
 *   never read and the directory is deleted (reopening it would create their empty engine streams).
 * - create: `Database.create`, the full path (catalog transaction, then the engine's stream,
 *   manifest fsync), one stream at a time on top of the 100 000: rate and latency.
 * - lookup: `Connection.streamsInCollection` with a tag filter (client API → Database → catalog).
 * - SQL: `Connection.query` (the sandboxed read-only SQL); the first query, which starts the
 *   sandbox and loads its replica, is reported apart.
 *
 * src/catalog/bench-lookup.ts measures the catalog alone (in memory) in more detail; this one
 * reuses its workload and timing helpers. Prints a table and writes JSON (default
 * .bench/catalog.json) with the load average.
 *
 *   node --import tsx bench/catalog-bench.ts [--streams N] [--creates N] [--runs N] [--out FILE]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { percentile } from '../src/catalog/catalog-testing.ts';
import { loadWorkload, timeRuns, workloadStream } from '../src/catalog/lookup-workload.ts';
import { connectionOver } from '../src/client/index.ts';
import { newStreamId } from '../src/core/uuid.ts';
import { Database } from '../src/db/database.ts';

const argv = process.argv.slice(2);
const opt = (k: string, d: number) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const N = opt('--streams', 100_000);
const CREATES = opt('--creates', 500);
const RUNS = opt('--runs', 300);
const OUT = argv.includes('--out') ? argv[argv.indexOf('--out') + 1]! : '.bench/catalog.json';

/** Workload streams in grid/sub<k>/ (stream i is in sub i % 500). */
const perSub = (k: number): number => (k < N ? Math.floor((N - 1 - k) / 500) + 1 : 0);
const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench answer check failed: ${what}`);
}

interface Result {
  readonly metric: string;
  readonly value?: number;
  readonly unit?: string;
  readonly p50_ms?: number;
  readonly p99_ms?: number;
  readonly runs?: number;
}
const results: Result[] = [];
const latency = (metric: string, lat: number[]) =>
  results.push({ metric, p50_ms: percentile(lat, 50), p99_ms: percentile(lat, 99), runs: lat.length });

const loadBefore = load();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-catalog-bench-'));
try {
  let t = performance.now();
  const db = await Database.open(path.join(dir, 'data'), { background: false });
  results.push({ metric: 'open new database (catalog + engine)', value: performance.now() - t, unit: 'ms' });
  const conn = connectionOver(db);
  try {
    results.push({
      metric: `bulk load ${N} streams (catalog.createMany)`,
      value: await loadWorkload(db.catalog, N),
      unit: 'streams/s',
    });
    check((await db.catalog.count()) === N, 'bulk load count');

    t = performance.now();
    const createLat = await timeRuns(CREATES, (k) =>
      db.create({
        id: newStreamId(),
        collection: `bench/create/${k % 10}`,
        tags: { name: `c${k}`, unit: 'V' },
        annotations: { site: `site${k % 7}` },
      }),
    );
    const createSecs = (performance.now() - t) / 1000;
    results.push({
      metric: `Database.create on ${N} streams (full path)`,
      value: CREATES / createSecs,
      unit: 'streams/s',
    });
    latency('Database.create latency', createLat);
    check((await db.catalog.count()) === N + CREATES, 'create count');

    // 200 streams per grid/sub<k>/ prefix; unit V in the even k (stream i has unit V iff i is even).
    const prefixHits: number[] = [];
    latency(
      `streamsInCollection(prefix, {tags: {unit}}) (${perSub(0)} hits)`,
      await timeRuns(RUNS, async (k) =>
        prefixHits.push((await conn.streamsInCollection(`grid/sub${(k * 74) % 500}/`, { tags: { unit: 'V' } })).length),
      ),
    );
    check(
      prefixHits.every((n, k) => n === perSub((k * 74) % 500)),
      `prefix + unit hits ${prefixHits.join(' ')}`,
    );
    latency(
      'streamsInCollection(exact, {tags: {name}}) (1 hit)',
      await timeRuns(RUNS, async (k) => {
        const i = (k * 7919) % N;
        const hits = await conn.streamsInCollection(workloadStream(i).collection, {
          isPrefix: false,
          tags: { name: `s${i}` },
        });
        check(hits.length === 1 && hits[0]!.descriptor?.tags.name === `s${i}`, 'exact lookup');
      }),
    );
    latency(
      `streamsInCollection(prefix, {tags, annotations}) (~${Math.round(perSub(1) / 3)} hits)`,
      await timeRuns(RUNS, (k) =>
        conn.streamsInCollection(`grid/sub${((k * 2) % 500) + 1}/`, {
          tags: { unit: 'A' },
          annotations: { phase: 'B', site: null },
        }),
      ),
    );

    t = performance.now();
    await conn.query('select 1 as one', []);
    results.push({
      metric: 'SQL first query (start sandbox + load replica)',
      value: performance.now() - t,
      unit: 'ms',
    });
    latency(
      'SQL: select uuid from streams where name = $1',
      await timeRuns(RUNS, async (k) => {
        const rows = await conn.query('select uuid from streams where name = $1', [`s${(k * 7919) % N}`]);
        check(rows.length === 1, 'sql by name');
      }),
    );
    latency(
      'SQL: count(*) where collection like $1 and unit = V',
      await timeRuns(Math.min(RUNS, 100), async (k) => {
        const sub = (k * 2) % 500;
        const rows = await conn.query("select count(*) as n from streams where collection like $1 and unit = 'V'", [
          `grid/sub${sub}/%`,
        ]);
        check(Number(rows[0]!.n) === perSub(sub), `sql count ${String(rows[0]!.n)}`);
      }),
    );
  } finally {
    await db.close();
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
const loadAfter = load();

console.log(
  `catalog bench: ${N} streams, on disk; load avg before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}, ${os.cpus().length} CPUs`,
);
console.log(`${'metric'.padEnd(60)} ${'value'.padStart(14)}  ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}  runs`);
for (const r of results) {
  if (r.value !== undefined) {
    console.log(`${r.metric.padEnd(60)} ${Math.round(r.value).toLocaleString('en').padStart(14)} ${r.unit}`);
  } else {
    console.log(
      `${r.metric.padEnd(60)} ${''.padStart(14)}  ${r.p50_ms!.toFixed(2).padStart(8)} ${r.p99_ms!.toFixed(2).padStart(8)}  ${r.runs}`,
    );
  }
}
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(
  OUT,
  `${JSON.stringify({ bench: 'catalog', streams: N, loadavg: { before: loadBefore, after: loadAfter }, cpus: os.cpus().length, node: process.version, results }, null, 2)}\n`,
);
console.log(`wrote ${OUT}`);

/**
 * The catalog on a PostgreSQL server vs the embedded PGlite catalog (a program, not a test).
 *
 * Starts a throw-away PostgreSQL server (test/cluster/postgres.ts: fsync on, loopback) and opens
 * on it a `PgServerCatalog`; the reference is a `PgliteCatalog` in a temp directory (as
 * `arbor serve` runs it: every change fsyncs PGlite's WAL). Both get the same N workload streams
 * (src/catalog/lookup-workload.ts), then, one call at a time: create, get, lookup of one
 * collection + name, setTags. Prints a table and writes JSON (default .bench/catalog-server.json)
 * with the load average before and after.
 *
 *   node --import tsx bench/catalog-server-bench.ts [--streams N] [--runs N] [--out FILE]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { percentile, sid } from '../src/catalog/catalog-testing.ts';
import { loadWorkload, timeRuns, workloadStream } from '../src/catalog/lookup-workload.ts';
import { openPgServerCatalog } from '../src/catalog/pg-server-catalog.ts';
import { openPgliteCatalog } from '../src/catalog/pglite-catalog.ts';
import type { Catalog } from '../src/catalog/types.ts';
import { startPostgres } from '../test/cluster/postgres.ts';

const argv = process.argv.slice(2);
const opt = (k: string, d: number) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const N = opt('--streams', 10_000);
const RUNS = opt('--runs', 500);
const OUT = argv.includes('--out') ? argv[argv.indexOf('--out') + 1]! : '.bench/catalog-server.json';
const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));

interface Row {
  readonly catalog: string;
  readonly operation: string;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly runs: number;
}

async function measure(name: string, cat: Catalog): Promise<Row[]> {
  const rows: Row[] = [];
  const record = (operation: string, lat: number[]) =>
    rows.push({ catalog: name, operation, p50_ms: percentile(lat, 50), p99_ms: percentile(lat, 99), runs: lat.length });
  const rate = await loadWorkload(cat, N);
  process.stderr.write(`${name}: ${N} streams loaded (${rate.toFixed(0)} streams/s)\n`);
  record('create', await timeRuns(RUNS, (k) => cat.create({ ...workloadStream(N + k), id: sid(N + k + 1) })));
  record('get', await timeRuns(RUNS, (k) => cat.get(sid(((k * 7919) % N) + 1))));
  record(
    'lookup collection + name',
    await timeRuns(RUNS, async (k) => {
      const i = (k * 7919) % N;
      const r = await cat.lookup({
        collection: workloadStream(i).collection,
        isPrefix: false,
        tags: { name: `s${i}` },
      });
      if (r.length !== 1) throw new Error(`lookup of s${i} found ${r.length} streams`);
    }),
  );
  // each run retags a different stream at its current version 1
  record('setTags', await timeRuns(RUNS, (k) => cat.setTags(sid(k + 1), 1, { unit: 'kV' }, '', [])));
  return rows;
}

const loadBefore = load();
const pgliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-catalog-server-bench-'));
const server = await startPostgres();
const rows: Row[] = [];
try {
  const pglite = await openPgliteCatalog(path.join(pgliteDir, 'catalog'));
  try {
    rows.push(...(await measure('PGlite (dir, WAL fsync)', pglite)));
  } finally {
    await pglite.close();
  }
  const remote = await openPgServerCatalog(server.url);
  try {
    rows.push(...(await measure('PostgreSQL 15 server', remote)));
  } finally {
    await remote.close();
  }
} finally {
  await server.stop();
  fs.rmSync(pgliteDir, { recursive: true, force: true });
}
const loadAfter = load();

const ops = [...new Set(rows.map((r) => r.operation))];
const cats = [...new Set(rows.map((r) => r.catalog))];
console.log(`\ncatalog: PostgreSQL server vs PGlite, ${N} streams, ${RUNS} runs each (ms, p50 / p99)`);
console.log(`load before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}`);
console.log(['operation'.padEnd(26), ...cats.map((c) => c.padEnd(26))].join(''));
for (const op of ops) {
  const cells = cats.map((c) => {
    const r = rows.find((x) => x.catalog === c && x.operation === op);
    return (r ? `${r.p50_ms.toFixed(2)} / ${r.p99_ms.toFixed(2)}` : '-').padEnd(26);
  });
  console.log([op.padEnd(26), ...cells].join(''));
}
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(
  OUT,
  `${JSON.stringify({ bench: 'catalog-server', streams: N, runs: RUNS, loadBefore, loadAfter, cpus: os.cpus().length, results: rows }, null, 2)}\n`,
);
console.log(`wrote ${OUT}`);

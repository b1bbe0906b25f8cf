/**
 * Catalog benchmark (a program, not a test): `node --import tsx src/catalog/bench-lookup.ts [N]`.
 * Loads N streams (default 100 000) into an in-memory catalog, then times single creates (in
 * memory and on disk), lookups, listCollections, metadataUsage and SQL. Prints a table and a JSON
 * line. Figures vary up to 2× between runs on shared machines (guide PERF-NOTES.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { percentile, sid } from './catalog-testing.ts';
import { loadWorkload, timeRuns, workloadStream } from './lookup-workload.ts';
import { openPgliteCatalog } from './pglite-catalog.ts';

const N = Number(process.argv[2] ?? 100_000);
const results: Record<string, { p50: number; p99: number; runs: number } | number> = {};

function record(name: string, lat: number[]): void {
  results[name] = { p50: percentile(lat, 50), p99: percentile(lat, 99), runs: lat.length };
}

let t = performance.now();
const cat = await openPgliteCatalog(null);
results['open in-memory catalog (ms)'] = performance.now() - t;
results['bulk create (streams/s)'] = await loadWorkload(cat, N);

record(
  'lookup collection + name (exact)',
  await timeRuns(2000, (k) => {
    const i = (k * 7919) % N;
    return cat.lookup({ collection: workloadStream(i).collection, isPrefix: false, tags: { name: `s${i}` } });
  }),
);
record(
  'lookup collection prefix + name',
  await timeRuns(2000, (k) => {
    const i = (k * 7919) % N;
    return cat.lookup({ collection: 'grid/', isPrefix: true, tags: { name: `s${i}` } });
  }),
);
record(
  'lookup one collection (~10 streams)',
  await timeRuns(1000, (k) => cat.lookup({ collection: workloadStream(k * 37).collection, isPrefix: false })),
);
record(
  'lookup prefix + unit + annotations',
  await timeRuns(300, (k) =>
    cat.lookup({
      collection: `grid/sub${k % 500}/`,
      isPrefix: true,
      tags: { unit: 'V' },
      annotations: { phase: 'A', site: null },
    }),
  ),
);
record('get by uuid', await timeRuns(2000, (k) => cat.get(sid(((k * 7919) % N) + 1))));
record('lookup everything', await timeRuns(3, () => cat.lookup({ collection: '', isPrefix: true })));
record('listCollections("")', await timeRuns(5, () => cat.listCollections('')));
record('listCollections("grid/sub1")', await timeRuns(50, () => cat.listCollections('grid/sub1')));
record('metadataUsage("")', await timeRuns(5, () => cat.metadataUsage('')));
record('metadataUsage("grid/sub7/")', await timeRuns(50, () => cat.metadataUsage('grid/sub7/')));
t = performance.now();
await cat.sql('select 1', []);
results['sql: first query (start sandbox + load replica, ms)'] = performance.now() - t;
results['  of which worker start (ms)'] = cat.sandbox.stats.lastStartMs;
results['  of which full replica load (ms)'] = cat.sandbox.stats.lastFullSyncMs;
record(
  'sql: distinct skeys(annotations) by prefix',
  await timeRuns(20, () =>
    cat.sql('select distinct(skeys(annotations)) as annotations from streams where collection like $1', ['grid/sub1%']),
  ),
);
record('sql: uuid by name', await timeRuns(50, (k) => cat.sql('select uuid from streams where name = $1', [`s${k}`])));
t = performance.now();
await cat.sql('select pg_sleep(10)', [], { timeoutMs: 200 }).catch(() => undefined);
await cat.sql('select 1', []);
results['sql: timeout 200 ms + restart + reload (ms)'] = performance.now() - t;
results['  of which worker restart (ms)'] = cat.sandbox.stats.lastStartMs;
results['  of which full replica reload (ms)'] = cat.sandbox.stats.lastFullSyncMs;
record(
  'single create (in memory, on 100k)',
  await timeRuns(1000, (k) => cat.create({ ...workloadStream(N + k), collection: 'bench/single' })),
);
await cat.close();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-catalog-bench-'));
try {
  const disk = await openPgliteCatalog(dir);
  record('single create (on disk)', await timeRuns(1000, (k) => disk.create(workloadStream(k))));
  await disk.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`catalog bench, ${N} streams`);
console.log(`${'operation'.padEnd(52)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)}  runs`);
for (const [name, v] of Object.entries(results)) {
  if (typeof v === 'number') console.log(`${name.padEnd(52)} ${v.toFixed(1).padStart(19)}`);
  else console.log(`${name.padEnd(52)} ${v.p50.toFixed(3).padStart(9)} ${v.p99.toFixed(3).padStart(9)}  ${v.runs}`);
}
console.log(JSON.stringify({ bench: 'catalog-lookup', streams: N, results }));

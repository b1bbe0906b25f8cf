// Benchmark (a program, not a test): what an engine shard costs in object-store calls, and what
// those calls cost against a real Ceph RGW.
//
//   node --import tsx test/cluster/object-store.bench.ts [--streams 100] [--points 10000] [--batch 120] [--no-ceph]
//
// 1. Engine workload: S streams each receive P points in batches of B (one batch per stream per
//    round, all streams concurrently, as a gateway forwarding 1 s of a 120 Hz PMU feed would);
//    every 10 rounds `flushAll()` stands in for the server's 10 s buffer-age commit. Counts WAL
//    objects, block parts, bytes and other calls, per insert — on MemoryObjectStore and on RGW.
// 2. Round trips against RGW: create (PUT If-None-Match) of 4 KiB / 64 KiB / 1 MiB, ranged GET of
//    4 KiB, GET of 1 MiB, LIST of 100 keys: p50 / p90 of sequential calls.
// Prints tables with the machine load (`uptime`), writes .bench/cluster-objects.json.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { StreamId } from '../../src/core/types.ts';
import { Engine } from '../../src/engine/engine.ts';
import { MemoryEnv, openRecordLog } from '../../src/storage/index.ts';
import { MemoryObjectStore, type ObjectStoreStats } from '../../src/storage/memory-object-store.ts';
import { ObjectBlockStore } from '../../src/storage/object-block-store.ts';
import { ObjectRecordLog } from '../../src/storage/object-record-log.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { S3ObjectStore } from '../../src/storage/s3-object-store.ts';
import { requireCephBinaries, startCeph } from './ceph.ts';
import { timed } from './timing.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const STREAMS = arg('streams', 100);
const POINTS = arg('points', 10_000);
const BATCH = arg('batch', 120);
const useCeph = !process.argv.includes('--no-ceph');

const uptime = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim();

interface WorkloadResult {
  readonly store: string;
  readonly inserts: number;
  readonly points: number;
  readonly seconds: number;
  readonly walObjects: number;
  readonly walBytes: number;
  readonly blockParts: number;
  readonly blockBytes: number;
  readonly calls: ObjectStoreStats;
  readonly load: string;
}

async function workload(name: string, store: ObjectStore & { stats: ObjectStoreStats }): Promise<WorkloadResult> {
  const prefix = `bench-${randomUUID()}`;
  let nextSeg = 1;
  const blocks = await ObjectBlockStore.open(store, {
    prefix: `${prefix}/blocks`,
    allocateSegmentIds: async (n) => Array.from({ length: n }, () => nextSeg++),
  });
  const wal = await ObjectRecordLog.open(store, { prefix: `${prefix}/wal`, epoch: 1 });
  const manifest = await openRecordLog(new MemoryEnv(), '/manifest');
  const engine = await Engine.open({ blocks, wal, manifest }, { background: false });
  const ids = Array.from(
    { length: STREAMS },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` as StreamId,
  );
  for (const id of ids) await engine.createStream(id);
  const before = { ...store.stats };
  const t0 = performance.now();
  const base = 1_700_000_000_000_000_000n;
  const rounds = Math.ceil(POINTS / BATCH);
  let inserts = 0;
  for (let r = 0; r < rounds; r++) {
    const n = Math.min(BATCH, POINTS - r * BATCH);
    await Promise.all(
      ids.map((id, s) => {
        const times = new BigInt64Array(n);
        const values = new Float64Array(n);
        for (let k = 0; k < n; k++) {
          times[k] = base + BigInt(r * BATCH + k) * 8_333_333n;
          values[k] = 50 + Math.sin((r * BATCH + k + s) / 100);
        }
        inserts++;
        return engine.insert(id, { times, values });
      }),
    );
    if ((r + 1) % 10 === 0) await engine.flushAll();
  }
  await engine.flushAll();
  const seconds = (performance.now() - t0) / 1000;
  const calls = Object.fromEntries(
    Object.entries(store.stats).map(([k, v]) => [k, v - before[k as keyof ObjectStoreStats]]),
  ) as unknown as ObjectStoreStats;
  const result: WorkloadResult = {
    store: name,
    inserts,
    points: STREAMS * POINTS,
    seconds,
    walObjects: wal.written.objects,
    walBytes: wal.written.bytes,
    blockParts: blocks.written.parts,
    blockBytes: blocks.written.bytes,
    calls,
    load: uptime(),
  };
  await engine.close();
  return result;
}

async function roundTrips(store: ObjectStore): Promise<Record<string, { p50: number; p90: number }>> {
  const p = `rt-${randomUUID()}/`;
  const out: Record<string, { p50: number; p90: number }> = {};
  for (const [label, size] of [
    ['create 4 KiB', 4096],
    ['create 64 KiB', 65536],
    ['create 1 MiB', 1 << 20],
  ] as const) {
    const body = new Uint8Array(randomBytes(size));
    out[label] = await timed(40, (i) => store.create(`${p}${size}/${i}`, body));
  }
  out['get 4 KiB range'] = await timed(40, (i) =>
    store.get(`${p}${1 << 20}/${i % 40}`, { offset: 8192, length: 4096 }),
  );
  out['get 1 MiB'] = await timed(20, (i) => store.get(`${p}${1 << 20}/${i}`));
  out['create existing (412)'] = await timed(20, (i) => store.create(`${p}4096/${i}`, new Uint8Array(1)));
  await Promise.all(Array.from({ length: 100 }, (_, i) => store.create(`${p}list/${i}`, new Uint8Array(1))));
  out['list 100 keys'] = await timed(20, () => store.list(`${p}list/`));
  return out;
}

function printWorkload(r: WorkloadResult): void {
  const per = (x: number): string => (x / r.inserts).toFixed(3);
  console.log(`\n${r.store}: ${r.inserts} inserts, ${r.points} points in ${r.seconds.toFixed(1)} s   [${r.load}]`);
  console.log('| what | total | per insert | per 1000 points |');
  console.log('|---|---|---|---|');
  const row = (what: string, v: number): void =>
    console.log(`| ${what} | ${v} | ${per(v)} | ${((v / r.points) * 1000).toFixed(3)} |`);
  row('WAL objects', r.walObjects);
  row('WAL bytes', r.walBytes);
  row('block parts', r.blockParts);
  row('block bytes', r.blockBytes);
  row('creates (all)', r.calls.creates);
  row('gets', r.calls.gets);
  row('lists', r.calls.lists);
  row('deletes (keys)', r.calls.deletes);
}

const results: {
  workloads: WorkloadResult[];
  roundTrips?: Record<string, { p50: number; p90: number }>;
  rtLoad?: string;
} = {
  workloads: [],
};
const mem = new MemoryObjectStore();
const m = await workload('MemoryObjectStore', mem);
results.workloads.push(m);
printWorkload(m);

if (useCeph) {
  requireCephBinaries();
  const ceph = await startCeph();
  try {
    const s3 = new S3ObjectStore({
      endpoint: ceph.endpoint,
      region: ceph.region,
      accessKey: ceph.accessKey,
      secretKey: ceph.secretKey,
      bucket: ceph.bucket,
      timeoutMs: 30_000,
    });
    results.rtLoad = uptime();
    results.roundTrips = await roundTrips(s3);
    console.log(`\nCeph RGW round trips (sequential, ms)   [${results.rtLoad}]`);
    console.log('| call | p50 | p90 |');
    console.log('|---|---|---|');
    for (const [k, v] of Object.entries(results.roundTrips))
      console.log(`| ${k} | ${v.p50.toFixed(1)} | ${v.p90.toFixed(1)} |`);
    const r = await workload('S3ObjectStore on Ceph RGW', s3);
    results.workloads.push(r);
    printWorkload(r);
    await s3.close();
  } finally {
    await ceph.stop();
  }
}
mkdirSync('.bench', { recursive: true });
writeFileSync('.bench/cluster-objects.json', `${JSON.stringify(results, null, 2)}\n`);
console.log('\nwrote .bench/cluster-objects.json');

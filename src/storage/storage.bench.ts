/**
 * Micro-benchmark of the storage layer on real files (a program, not a test):
 *   node --import tsx src/storage/storage.bench.ts [dir]
 * Prints a table and one JSON line. Figures vary up to 2× between runs on shared machines.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openFileBlockStore } from './block-store-open.ts';
import { openFileRecordLog } from './record-log-open.ts';
import type { BlockRef } from './types.ts';

const root = fs.mkdtempSync(path.join(process.argv[2] ?? os.tmpdir(), 'arbor-bench-'));
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const rows: Record<string, string | number>[] = [];
const best = <T extends { ms: number }>(xs: T[]): T => xs.reduce((a, b) => (b.ms < a.ms ? b : a));

async function blocks(rep: number) {
  const store = await openFileBlockStore(path.join(root, `blocks-${rep}`));
  const payload = new Uint8Array(3072).map((_, i) => (i * 131 + rep) & 0xff);
  let t0 = process.hrtime.bigint();
  const refs: BlockRef[] = [];
  for (let i = 0; i < 2000; i++) refs.push(store.put(payload));
  await store.sync();
  const putMs = ms(t0);
  t0 = process.hrtime.bigint();
  const got = await store.getMany(refs);
  const getManyMs = ms(t0);
  if (got.length !== 2000) throw new Error('short');
  t0 = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) await store.get(refs[(i * 7919) % 2000] as BlockRef);
  const getUs = (ms(t0) * 1000) / 2000;
  const stats = store.stats();
  await store.close();
  return { ms: putMs, putMs, getManyMs, getUs, reads: stats.reads - 2000, syncs: stats.syncs };
}

async function wal(concurrency: number, rep: number) {
  const log = await openFileRecordLog(path.join(root, `wal-${concurrency}-${rep}`));
  const payload = new Uint8Array(64).fill(7);
  const before = log.stats().syncs;
  const latencies: number[] = [];
  const writer = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      log.append(payload);
      await log.sync();
      latencies.push(ms(t));
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, () => writer(1000 / concurrency)));
  const total = ms(t0);
  const fsyncs = log.stats().syncs - before;
  await log.close();
  latencies.sort((a, b) => a - b);
  return { ms: total, fsyncs, p50: latencies[500] ?? 0, p99: latencies[990] ?? 0 };
}

try {
  const blockRuns: Awaited<ReturnType<typeof blocks>>[] = [];
  for (let r = 0; r < 5; r++) blockRuns.push(await blocks(r));
  const b = best(blockRuns);
  const fastest = (k: 'getManyMs' | 'getUs'): number => Math.min(...blockRuns.map((x) => x[k]));
  const mb = (2000 * 3080) / 1e6;
  rows.push({
    case: 'put+sync 2000 × 3 KiB blocks',
    ms: b.putMs.toFixed(2),
    'MB/s': (mb / (b.putMs / 1000)).toFixed(0),
    fsyncs: b.syncs,
  });
  rows.push({
    case: 'getMany of the 2000 blocks',
    ms: fastest('getManyMs').toFixed(2),
    'MB/s': (mb / (fastest('getManyMs') / 1000)).toFixed(0),
    preads: b.reads,
  });
  rows.push({ case: 'get, one block at a time (µs/get)', ms: fastest('getUs').toFixed(2) });
  for (const c of [1, 100]) {
    const runs: Awaited<ReturnType<typeof wal>>[] = [];
    for (let r = 0; r < 3; r++) runs.push(await wal(c, r));
    const w = best(runs);
    rows.push({
      case: `append+sync 1000 × 64 B, ${c} caller${c > 1 ? 's' : ''}`,
      ms: w.ms.toFixed(1),
      fsyncs: w.fsyncs,
      'p50 ms': w.p50.toFixed(3),
      'p99 ms': w.p99.toFixed(3),
    });
  }
  console.table(rows);
  console.log(JSON.stringify(rows));
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}

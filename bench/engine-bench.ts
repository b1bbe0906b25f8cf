/**
 * `npm run bench` — the embedded engine on the workload (see bench/workload.ts):
 * durable ingest, raw scan, 1000 windows, 3600 one-second windows, last point before t, bytes per
 * point, window latency at 1M/10M/100M points, and bytes per point on the real PMU recordings.
 * Prints a table and writes JSON (default .bench/engine.json). Every answer is checked against the
 * generated data, so a wrong fast answer cannot pass as a result.
 *
 *   npm run bench                       full run (~10M points + the 100M flatness run)
 *   npm run bench -- --smoke            small, fast; checks correctness only (CI)
 *   npm run bench -- --points N --streams S --no-flat --out file.json
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StreamId } from '../src/core/types.ts';
import { newStreamId } from '../src/core/uuid.ts';
import { openEngineDir } from '../src/engine/open-dir.ts';
import { sharedDataDir } from '../test/shared-data.ts';
import { generateStream, readOpenPmu, T0 } from './workload.ts';

const argv = process.argv.slice(2);
const flag = (k: string) => argv.includes(k);
const opt = (k: string, d: number) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const SMOKE = flag('--smoke');
const STREAMS = opt('--streams', SMOKE ? 3 : 10);
const POINTS = opt('--points', SMOKE ? 50_000 : 1_000_000);
const BATCH = opt('--batch', 100_000);
const FLAT = !flag('--no-flat');
const FLAT_SIZES = SMOKE ? [10_000, 100_000, 300_000] : [1_000_000, 10_000_000, 100_000_000];
const OUT = argv.includes('--out') ? argv[argv.indexOf('--out') + 1]! : '.bench/engine.json';
const PMU_DIR = sharedDataDir('openpmu-rio-2012');

interface Row {
  metric: string;
  value: number;
  unit: string;
  target?: string;
  note?: string;
}
const rows: Row[] = [];
const record = (r: Row) => {
  rows.push(r);
  process.stderr.write(`  ${r.metric}: ${fmt(r.value)} ${r.unit}\n`);
};
const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en') : v.toPrecision(3));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench answer check failed: ${what}`);
}
const du = (p: string): number => Number(execFileSync('du', ['-sb', p]).toString().split('\t')[0]);
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function time<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await f();
  return [performance.now() - t, r];
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-bench-'));
  process.stderr.write(
    `ArborDB engine bench: ${STREAMS} streams × ${POINTS} points, batch ${BATCH}, dir ${root}, load ${load()}\n`,
  );
  const data = Array.from({ length: STREAMS }, (_, s) => generateStream(s, POINTS));
  const ids: StreamId[] = data.map(() => newStreamId());
  const dir = path.join(root, 'main');

  // 1. Durable ingest: every stream written concurrently in bulk batches, each acked after fsync.
  let engine = await openEngineDir(dir);
  for (const id of ids) await engine.createStream(id);
  const [ingestMs] = await time(() =>
    Promise.all(
      data.map(async (d, s) => {
        for (let i = 0; i < POINTS; i += BATCH) {
          await engine.insert(ids[s]!, {
            times: d.times.subarray(i, i + BATCH),
            values: d.values.subarray(i, i + BATCH),
          });
        }
      }),
    ),
  );
  const total = STREAMS * POINTS;
  record({ metric: 'durable ingest', value: (total / ingestMs) * 1000, unit: 'pts/s', target: '≥ 10M' });
  await engine.close();
  const bytes = du(dir);
  record({
    metric: 'bytes per point on disk',
    value: bytes / total,
    unit: 'B/pt',
    target: '≤ 7',
    note: `du -sb ${bytes}`,
  });

  // 2. Raw scan of one stream into typed arrays, each run on a freshly opened engine (cold caches).
  const S = Math.min(3, STREAMS - 1);
  const scans: number[] = [];
  for (let r = 0; r < 3; r++) {
    engine = await openEngineDir(dir, { background: false });
    const [ms, got] = await time(() => engine.valuesArray(ids[S]!, T0 - 1_000_000_000n, T0 + 100_000_000_000_000n));
    check(
      got.times.length === POINTS && got.times[POINTS - 1] === data[S]!.times[POINTS - 1],
      'scan returns every point',
    );
    check(got.values[POINTS >> 1] === data[S]!.values[POINTS >> 1], 'scan values');
    scans.push(ms);
    await engine.close();
  }
  record({
    metric: 'raw scan (1 stream, cold open)',
    value: (POINTS / median(scans)) * 1000,
    unit: 'pts/s',
    target: '≥ 25M',
  });
  engine = await openEngineDir(dir, { background: false });
  await engine.valuesArray(ids[S]!, T0 - 1_000_000_000n, T0 + 100_000_000_000_000n);
  const warm: number[] = [];
  for (let r = 0; r < 3; r++) {
    warm.push((await time(() => engine.valuesArray(ids[S]!, T0 - 1_000_000_000n, T0 + 100_000_000_000_000n)))[0]);
  }
  record({ metric: 'raw scan (1 stream, warm cache)', value: (POINTS / median(warm)) * 1000, unit: 'pts/s' });

  // 3. 1000 equal windows over the whole stream (the peers' definition: width ceil(span/1000) from T0).
  const d = data[S]!;
  const last = d.times[POINTS - 1]!;
  const width = (last + 1n - T0 + 999n) / 1000n;
  let inRange = 0;
  for (let i = 0; i < POINTS; i++) if (d.times[i]! >= T0) inRange++;
  const thousand: number[] = [];
  for (let r = 0; r < 5; r++) {
    const [ms, w] = await time(() => engine.windows(ids[S]!, T0, T0 + width * 1000n, width));
    check(
      w.windows.length === 1000 && w.windows.reduce((a, x) => a + x.count, 0) === inRange,
      '1000 windows cover every point',
    );
    thousand.push(ms);
  }
  record({ metric: '1000 windows over the stream', value: median(thousand), unit: 'ms', target: '≤ 5' });
  const pw = Math.floor(Math.log2(Number(last - T0) / 1000));
  const aligned: number[] = [];
  for (let r = 0; r < 5; r++) {
    const [ms, w] = await time(() => engine.alignedWindows(ids[S]!, T0, last + 1n, pw));
    check(w.windows.reduce((a, x) => a + x.count, 0) >= POINTS - 2000, 'aligned windows cover the stream');
    aligned.push(ms);
  }
  record({ metric: `~1000 aligned windows (pw ${pw})`, value: median(aligned), unit: 'ms' });

  // 4. 3600 one-second windows over the hour starting at T0 + 1 h.
  const hour = 3_600_000_000_000n;
  if (last > T0 + 2n * hour) {
    const secs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const [ms, w] = await time(() => engine.windows(ids[S]!, T0 + hour, T0 + 2n * hour, 1_000_000_000n));
      check(w.windows.length === 3600 && Math.abs(w.windows[100]!.count - 120) <= 1, '3600 windows of ~120 points');
      secs.push(ms);
    }
    record({ metric: '3600 one-second windows', value: median(secs), unit: 'ms' });
  }

  // 5. The last point at or before a random t (p50/p99 of 3 rounds × 200 lookups).
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let round = 0; round < 3; round++) {
    const lat: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = T0 + BigInt(Math.floor(rnd() * Number(last - T0)));
      const [ms, p] = await time(() => engine.nearest(ids[S]!, t + 1n, true));
      check(p.time <= t && p.time > t - 20_000_000n, 'last point at or before t');
      lat.push(ms);
    }
    p50s.push(pct(lat, 0.5));
    p99s.push(pct(lat, 0.99));
  }
  record({ metric: 'last point ≤ t, p50', value: median(p50s), unit: 'ms', target: '≤ 0.1' });
  record({ metric: 'last point ≤ t, p99', value: median(p99s), unit: 'ms' });
  await engine.close();

  // 6. The same 1000-window query as one stream grows: 1M, 10M, 100M points.
  if (FLAT) {
    const fdir = path.join(root, 'flat');
    const fe = await openEngineDir(fdir);
    const id = newStreamId();
    await fe.createStream(id);
    let have = 0;
    for (const size of FLAT_SIZES) {
      while (have < size) {
        // Extend the stream with more of stream 0's shape, shifted in time.
        const chunk = Math.min(1_000_000, size - have, POINTS);
        const base = data[0]!;
        const shift = BigInt(have) * 8_333_333n;
        const times = new BigInt64Array(chunk);
        for (let i = 0; i < chunk; i++) times[i] = base.times[i]! - T0 + T0 + shift;
        for (let i = 0; i < chunk; i += BATCH) {
          await fe.insert(id, {
            times: times.subarray(i, i + BATCH),
            values: base.values.subarray(i, Math.min(chunk, i + BATCH)),
          });
        }
        have += chunk;
      }
      const from = T0 - 1000n; // the first point may be jittered up to 1 µs early
      const end = T0 + BigInt(have) * 8_333_333n;
      const w = (end - from + 999n) / 1000n;
      const lat: number[] = [];
      for (let r = 0; r < 5; r++) {
        const [ms, res] = await time(() => fe.windows(id, from, from + w * 1000n, w));
        check(res.windows.reduce((a, x) => a + x.count, 0) === have, `flat run covers ${have} points`);
        lat.push(ms);
      }
      record({ metric: `1000 windows at ${fmt(size)} points`, value: median(lat), unit: 'ms' });
    }
    await fe.close();
  }

  // 7. Bytes per point on the real PMU recordings (three channels per file).
  if (fs.existsSync(PMU_DIR)) {
    const pdir = path.join(root, 'pmu');
    const pe = await openEngineDir(pdir);
    let n = 0;
    for (const f of fs.readdirSync(PMU_DIR).filter((x) => x.endsWith('.csv'))) {
      const p = readOpenPmu(path.join(PMU_DIR, f));
      for (const values of [p.magnitude, p.frequency, p.angle]) {
        const id = newStreamId();
        await pe.createStream(id);
        await pe.insert(id, { times: p.times, values });
        n += values.length;
      }
    }
    await pe.flushAll();
    const blockBytes = pe.tree.blocks.bytes();
    await pe.close();
    record({
      metric: 'bytes per point, real PMU data (blocks)',
      value: blockBytes / n,
      unit: 'B/pt',
      target: '≤ 3',
      note: `${n} points, du ${du(pdir)} B`,
    });
  }

  fs.rmSync(root, { recursive: true, force: true });
  const result = {
    when: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    loadAfter: load(),
    workload: { streams: STREAMS, pointsPerStream: POINTS, batch: BATCH, smoke: SMOKE },
    rows,
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(result, null, 2));
  console.log(`\n| metric | value | unit | target |\n|---|---:|---|---|`);
  for (const r of rows) console.log(`| ${r.metric} | ${fmt(r.value)} | ${r.unit} | ${r.target ?? ''} |`);
  console.log(`\nload average after: ${load()} — JSON: ${OUT}`);
}

await main();

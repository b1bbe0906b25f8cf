/**
 * The openHistorian SNAPdb listener of `arbor serve --snapdb`, end to end: a real `arbor serve`
 * child process (durable data directory in the temp dir).
 *
 *   node --import tsx bench/snapdb-bench.ts [--points N] [--py-points N] [--smoke] [--out FILE]
 *
 * Measures write and read points/s
 * - with the TypeScript test client (src/server/snapdb/snapdb-client.ts): N points of 10 point
 *   IDs at 30 samples/s, in write streams of 10 000 pairs (historian stream encoding); the write
 *   time runs until a following 1-point read returns (the server stores pending writes before it
 *   answers a read), then one read of everything;
 * - with the unmodified openhistorian Python client (test/compat/openhistorian-python/bench.py
 *   through run.sh, its own fresh server): one `Write()` per point, then one `Read()`.
 * Prints a table with the load average and writes JSON (default .bench/snapdb.json).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { EPOCH_TICKS } from '../src/server/snapdb/historian-mapping.ts';
import type { HistorianPair } from '../src/server/snapdb/pair-codec.ts';
import { SnapdbClient } from '../src/server/snapdb/snapdb-client.ts';
import { startServe } from '../test/server/spawn-serve.ts';

const { values } = parseArgs({
  options: {
    points: { type: 'string' },
    'py-points': { type: 'string' },
    smoke: { type: 'boolean' },
    out: { type: 'string' },
  },
});
const smoke = values.smoke === true;
const POINTS = Number(values.points ?? (smoke ? 20_000 : 1_000_000));
const PY_POINTS = Number(values['py-points'] ?? (smoke ? 2_000 : 100_000));
const OUT = values.out ?? (smoke ? '.bench/snapdb-smoke.json' : '.bench/snapdb.json');
const STREAM_PAIRS = 10_000;
const IDS = 10;
const fmt = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function tsClient(): Promise<{ write_pps: number; read_pps: number; write_s: number; read_s: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbordb-snapdb-bench-'));
  const server = await startServe(['--data', dir, '--grpc', '127.0.0.1:0', '--snapdb', '127.0.0.1:0']);
  try {
    const m = /snapdb=(\S+)/.exec(server.stdout());
    if (!m) throw new Error(`no snapdb address in: ${server.stdout()}`);
    const address = m[1]!;
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    const c = await SnapdbClient.connect('127.0.0.1', port);
    await c.open('PPA');
    const base = EPOCH_TICKS + BigInt(Date.UTC(2025, 0, 1)) * 10_000n;
    const bits = new DataView(new ArrayBuffer(4));
    const pairs: HistorianPair[] = new Array(STREAM_PAIRS);
    let t0 = performance.now();
    for (let i = 0; i < POINTS; i += STREAM_PAIRS) {
      const n = Math.min(STREAM_PAIRS, POINTS - i);
      for (let j = 0; j < n; j++) {
        const k = i + j;
        bits.setFloat32(0, k * 0.5, true);
        pairs[j] = {
          time: base + BigInt(Math.floor(k / IDS)) * 333_333n,
          pointId: BigInt(1 + (k % IDS)),
          entry: 0n,
          value1: BigInt(bits.getUint32(0, true)),
          value2: 0n,
          value3: BigInt(k & 0xff),
        };
      }
      c.write(pairs.slice(0, n));
    }
    await c.read({ maxReturned: 1n });
    const write_s = (performance.now() - t0) / 1000;
    t0 = performance.now();
    let count = 0;
    await c.readEach({}, () => {
      count++;
    });
    const read_s = (performance.now() - t0) / 1000;
    if (count !== POINTS) throw new Error(`read ${count} points, wrote ${POINTS}`);
    await c.closeInstance();
    await c.disconnect();
    c.destroy();
    return { write_s, read_s, write_pps: POINTS / write_s, read_pps: POINTS / read_s };
  } finally {
    const code = await server.stop();
    if (code !== 0) process.stderr.write(`arbor serve exited ${code}\n${server.stderr()}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function pythonClient(): { write_pps: number; read_pps: number; write_s: number; read_s: number } {
  const r = spawnSync('bash', ['test/compat/openhistorian-python/run.sh'], {
    env: { ...process.env, ARBOR_COMPAT_BENCH_ONLY: '1', ARBOR_BENCH_POINTS: String(PY_POINTS) },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || line === undefined) {
    throw new Error(`python bench failed (exit ${r.status})\n${r.stdout}\n${r.stderr}`);
  }
  return JSON.parse(line) as { write_pps: number; read_pps: number; write_s: number; read_s: number };
}

const loadBefore = load();
const ts = await tsClient();
const py = pythonClient();
const loadAfter = load();
const rows = [
  ['client', 'points', 'write pts/s', 'read pts/s'],
  ['TypeScript test client', String(POINTS), fmt(ts.write_pps), fmt(ts.read_pps)],
  ['openhistorian-python 1.0.6', String(PY_POINTS), fmt(py.write_pps), fmt(py.read_pps)],
];
process.stdout.write(`SNAPdb (arbor serve --snapdb), load ${loadBefore} → ${loadAfter}, ${os.cpus().length} cores\n`);
for (const r of rows)
  process.stdout.write(`${r[0]!.padEnd(28)}${r[1]!.padStart(10)}${r[2]!.padStart(14)}${r[3]!.padStart(14)}\n`);
const result = {
  bench: 'snapdb',
  date: new Date().toISOString(),
  load: { before: loadBefore, after: loadAfter },
  cores: os.cpus().length,
  ts: { points: POINTS, streamPairs: STREAM_PAIRS, ...ts },
  python: { points: PY_POINTS, ...py },
};
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);

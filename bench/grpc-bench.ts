/**
 * ArborDB over gRPC, end to end: a real `arbor serve` child process (durable data directory in
 * the temp dir, an API key) and the TypeScript remote client (`connectRemote`).
 *
 *   node --import tsx bench/grpc-bench.ts [streams=10] [pointsPerStream=1000000]
 *
 * Measures: ingest of `streams` × `pointsPerStream` workload points (bench/workload.ts), all
 * streams inserted concurrently, acknowledged = durable (WAL fsync) — once with ArrowInsert and
 * once with protobuf Insert; a raw read of one whole stream with ArrowRawValues and with
 * RawValues (and of all streams concurrently); the round-trip latency of an AlignedWindows query
 * answering ~1000 windows. Prints a table and one JSON line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectRemote, type RemoteBackend } from '../src/client/remote-backend.ts';
import type { StreamId } from '../src/core/types.ts';
import { newStreamId } from '../src/core/uuid.ts';
import { startServe } from '../test/server/spawn-serve.ts';
import { generateStream, PERIOD_NS, T0 } from './workload.ts';

const STREAMS = Number(process.argv[2] ?? 10);
const POINTS = Number(process.argv[3] ?? 1_000_000);
const KEY = 'bench-key';

const fmt = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);

async function ingest(remote: RemoteBackend, tag: string, data: ReturnType<typeof generateStream>[]) {
  const ids: StreamId[] = [];
  for (let s = 0; s < data.length; s++) {
    const id = newStreamId();
    await remote.create({ id, collection: `bench/${tag}`, tags: { name: `s${s}` }, annotations: {} });
    ids.push(id);
  }
  const t0 = performance.now();
  await Promise.all(ids.map((id, s) => remote.insert(id, data[s]!, 'never')));
  const ms = performance.now() - t0;
  const f0 = performance.now();
  await Promise.all(ids.map((id) => remote.flush(id)));
  return { ids, ms, flushMs: performance.now() - f0 };
}

async function readAll(remote: RemoteBackend, id: StreamId): Promise<number> {
  let n = 0;
  for await (const b of remote.rawValues(id, T0 - 1_000_000n, T0 + BigInt(POINTS + 10) * BigInt(PERIOD_NS), 0))
    n += b.value.times.length;
  return n;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-grpc-bench-'));
  const server = await startServe(['--data', dir, '--grpc', '127.0.0.1:0', '--api-key', KEY]);
  const results: Record<string, number> = {};
  try {
    const arrow = await connectRemote({ endpoints: server.address, apiKey: KEY, arrow: true, env: {}, home: dir });
    const proto = await connectRemote({ endpoints: server.address, apiKey: KEY, arrow: false, env: {}, home: dir });
    const data = Array.from({ length: STREAMS }, (_, s) => generateStream(s, POINTS));
    const total = STREAMS * POINTS;

    const a = await ingest(arrow, 'arrow', data);
    results.ingestArrowPtsPerS = total / (a.ms / 1000);
    results.flushArrowMs = a.flushMs;
    const p = await ingest(proto, 'proto', data);
    results.ingestProtoPtsPerS = total / (p.ms / 1000);
    results.flushProtoMs = p.flushMs;

    for (const [name, remote] of [
      ['Arrow', arrow],
      ['Proto', proto],
    ] as const) {
      const t0 = performance.now();
      const n = await readAll(remote, a.ids[0]!);
      if (n !== POINTS) throw new Error(`read ${n} points, expected ${POINTS}`);
      results[`read1${name}PtsPerS`] = n / ((performance.now() - t0) / 1000);
      const t1 = performance.now();
      const all = await Promise.all(a.ids.map((id) => readAll(remote, id)));
      results[`readAll${name}PtsPerS`] = all.reduce((x, y) => x + y, 0) / ((performance.now() - t1) / 1000);
    }

    const span = BigInt(POINTS) * BigInt(PERIOD_NS);
    const pw = Math.max(0, Math.round(Math.log2(Number(span) / 1000)));
    const lat: number[] = [];
    let windows = 0;
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      const r = await proto.alignedWindows(a.ids[i % STREAMS]!, T0, T0 + span, pw, 0);
      lat.push(performance.now() - t0);
      windows = r.value.length;
    }
    lat.splice(0, 10); // warm-up
    lat.sort((x, y) => x - y);
    results.alignedWindows = windows;
    results.alignedWindowsP50Ms = lat[Math.floor(lat.length / 2)]!;
    results.alignedWindowsP90Ms = lat[Math.floor(lat.length * 0.9)]!;

    await arrow.close();
    await proto.close();

    const rows: [string, string][] = [
      [`ingest ${STREAMS}×${fmt(POINTS)} ArrowInsert (durable)`, `${fmt(results.ingestArrowPtsPerS)} pts/s`],
      [`ingest ${STREAMS}×${fmt(POINTS)} Insert (durable)`, `${fmt(results.ingestProtoPtsPerS)} pts/s`],
      [
        'flush after ingest (Arrow / Insert runs)',
        `${results.flushArrowMs.toFixed(0)} / ${results.flushProtoMs.toFixed(0)} ms`,
      ],
      ['raw read 1 stream ArrowRawValues', `${fmt(results.read1ArrowPtsPerS!)} pts/s`],
      ['raw read 1 stream RawValues', `${fmt(results.read1ProtoPtsPerS!)} pts/s`],
      [`raw read ${STREAMS} streams concurrently, Arrow`, `${fmt(results.readAllArrowPtsPerS!)} pts/s`],
      [`raw read ${STREAMS} streams concurrently, protobuf`, `${fmt(results.readAllProtoPtsPerS!)} pts/s`],
      [
        `AlignedWindows pw ${pw} (${windows} windows) p50 / p90`,
        `${results.alignedWindowsP50Ms.toFixed(2)} / ${results.alignedWindowsP90Ms.toFixed(2)} ms`,
      ],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
    console.log(JSON.stringify({ bench: 'grpc', streams: STREAMS, pointsPerStream: POINTS, ...results }));
  } finally {
    const code = await server.stop('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
    if (code !== 0) console.error(`arbor serve exited ${code}\n${server.stderr()}`);
  }
}

await main();

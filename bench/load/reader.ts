/**
 * The reader process of the load generator: `loops` concurrent loops, each alternating
 *   - a window query: AlignedWindows at point width 26 (2^26 ns ≈ 67 ms) over the last 2^36 ns
 *     (≈ 68.7 s) before the acknowledged head → 1024 windows, and
 *   - a raw read: RawValues of the last 10 s before the head (10·hz points),
 * on a random stream, at the latest version (so each read also commits what the stream has
 * buffered: BTrDB's read-your-writes barrier), pausing `pauseMs` between queries.
 * The head (data time acknowledged for every stream) comes from the coordinator.
 */
import { performance } from 'node:perf_hooks';
import { connectRemote, type RemoteBackend } from '../../src/client/remote-backend.ts';
import { mulberry32 } from '../../src/core/random.ts';
import type { StreamId } from '../../src/core/types.ts';
import { Histogram } from './histogram.ts';
import type { FromReader, ReaderInit, ToChild } from './protocol.ts';

export const WINDOW_PW = 26;
export const WINDOW_SPAN_NS = 1n << 36n;
export const RAW_SPAN_NS = 10_000_000_000n;

const send = (m: FromReader) => process.send?.(m);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

let remote: RemoteBackend | null = null;
let cfg: ReaderInit | null = null;
let head = 0n;
let running = false;
const windows = new Histogram();
const raw = new Histogram();
const interval = { windowsAnswered: 0, rawPoints: 0, errors: 0 };
let firstError: string | null = null;
let lastCpu = process.cpuUsage();
const loops: Promise<void>[] = [];

async function loop(i: number): Promise<void> {
  const c = cfg!;
  const r = remote!;
  const rnd = mulberry32(c.seed + i * 7919);
  let n = i;
  while (running) {
    if (head === 0n) {
      await sleep(100);
      continue;
    }
    const id = c.ids[Math.floor(rnd() * c.ids.length)]! as StreamId;
    const t = performance.now();
    try {
      if (n++ % 2 === 0) {
        const end = (head >> BigInt(WINDOW_PW)) << BigInt(WINDOW_PW);
        const w = await r.alignedWindows(id, end - WINDOW_SPAN_NS, end, WINDOW_PW, 0);
        windows.record(performance.now() - t);
        interval.windowsAnswered += w.value.length;
      } else {
        let pts = 0;
        for await (const b of r.rawValues(id, head - RAW_SPAN_NS, head, 0)) pts += b.value.times.length;
        raw.record(performance.now() - t);
        interval.rawPoints += pts;
      }
    } catch (e) {
      interval.errors++;
      firstError ??= e instanceof Error ? e.message : String(e);
    }
    if (c.pauseMs > 0) await sleep(c.pauseMs);
  }
}

function sample(): void {
  const cpu = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  send({
    kind: 'sample',
    windows: windows.take(),
    raw: raw.take(),
    windowsAnswered: interval.windowsAnswered,
    rawPoints: interval.rawPoints,
    errors: interval.errors,
    cpuMs: (cpu.user + cpu.system) / 1000,
  });
  interval.windowsAnswered = 0;
  interval.rawPoints = 0;
  interval.errors = 0;
}

const fail = (e: unknown) => {
  process.stderr.write(`load reader: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
};

process.on('message', (m: ToChild) => {
  if (m.kind === 'init' && 'ids' in m) {
    cfg = m;
    connectRemote({ endpoints: m.server, apiKey: m.apiKey, arrow: false, env: {}, home: '/nonexistent' })
      .then((r) => {
        remote = r;
        send({ kind: 'ready' });
      })
      .catch(fail);
  } else if (m.kind === 'go') {
    running = true;
    for (let i = 0; i < cfg!.loops; i++) loops.push(loop(i));
  } else if (m.kind === 'head') head = BigInt(m.headNs);
  else if (m.kind === 'sample') sample();
  else if (m.kind === 'stop') {
    running = false;
    Promise.all(loops)
      .then(() => {
        send({ kind: 'final', firstError });
        void remote?.close();
        process.disconnect();
      })
      .catch(fail);
  }
});

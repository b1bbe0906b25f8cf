/**
 * A writer process of the load generator: owns whole PMUs (all their channels), creates their
 * streams, then sends one Insert per stream per batch slot over its own gRPC connection, at most
 * `inflight` at a time. Real-time pacing sends slot k once its data time has passed on the wall
 * clock; max pacing sends slots back to back. Late batches are held back a few slots, shuffled
 * ones carry their points in random order. RESOURCE_EXHAUSTED (server pushback) is retried after
 * a pause — the insert was not acknowledged, so resending cannot duplicate anything.
 *
 * Run by fleet.ts (fork with IPC); talks only through the messages of protocol.ts.
 */
import { performance } from 'node:perf_hooks';
import { status as grpcStatus } from '@grpc/grpc-js';
import { connectRemote, type RemoteBackend } from '../../src/client/remote-backend.ts';
import { DbError } from '../../src/core/errors.ts';
import { mulberry32 } from '../../src/core/random.ts';
import type { StreamId } from '../../src/core/types.ts';
import { ChannelValues, framesPerBatch, lateSlots, loadValueSeries, shuffled, slotTimes } from './fleet-data.ts';
import { Histogram } from './histogram.ts';
import type { FromWriter, StreamSpec, ToChild, WriterInit } from './protocol.ts';

const send = (m: FromWriter) => process.send?.(m);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** True when the server pushed back (over a limit): gRPC RESOURCE_EXHAUSTED or BTrDB 426. */
export function isPushback(e: unknown): boolean {
  if (!(e instanceof DbError)) return false;
  if (e.code === 426) return true;
  const cause = e.cause as { code?: unknown } | undefined;
  return e.code === 402 && cause?.code === grpcStatus.RESOURCE_EXHAUSTED;
}

class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  acquire(): Promise<void> | undefined {
    if (this.#free > 0) {
      this.#free--;
      return undefined;
    }
    return new Promise((r) => this.#waiting.push(r));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

interface Stream {
  readonly spec: StreamSpec;
  readonly id: StreamId;
  readonly values: ChannelValues;
}

interface Batch {
  readonly stream: Stream;
  readonly times: BigInt64Array;
  readonly values: Float64Array;
  /** The slot whose completion waits for it, or null for a late batch. */
  readonly slot: number | null;
}

let init: WriterInit | null = null;
let remote: RemoteBackend | null = null;
let streams: Stream[] = [];
const ack = new Histogram();
const interval = { points: 0, inserts: 0, pushbacks: 0, errors: 0 };
const total = { points: 0, failed: 0 };
let firstError: string | null = null;
let lastCpu = process.cpuUsage();

async function connect(cfg: WriterInit): Promise<void> {
  init = cfg;
  remote = await connectRemote({
    endpoints: cfg.server,
    apiKey: cfg.apiKey,
    arrow: false,
    env: {},
    home: '/nonexistent',
  });
  const perBatch = framesPerBatch(cfg.hz, cfg.batchMs);
  const series = loadValueSeries(cfg.values);
  streams = cfg.streams.map((spec) => ({
    spec,
    id: spec.id as StreamId,
    values: new ChannelValues(series, spec.pmu, spec.channel, perBatch),
  }));
  send({ kind: 'ready' });
}

const KIND = ['magnitude', 'angle', 'frequency'];
const UNIT = ['V', 'deg', 'Hz'];

async function createAll(): Promise<void> {
  const r = remote!;
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < streams.length) {
      const s = streams[next++]!;
      await r.create({
        id: s.id,
        collection: `fleet/pmu${String(s.spec.pmu).padStart(5, '0')}`,
        tags: { name: `ch${s.spec.channel}`, unit: UNIT[s.spec.channel % 3]! },
        annotations: { kind: KIND[s.spec.channel % 3]! },
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  send({ kind: 'created', ms: performance.now() - t0 });
}

async function run(startAtMs: number, untilMs: number, t0Ns: string): Promise<void> {
  const cfg = init!;
  const r = remote!;
  const perBatch = framesPerBatch(cfg.hz, cfg.batchMs);
  const t0 = BigInt(t0Ns);
  const rnd = mulberry32(cfg.seed);
  const lateMax = Math.max(1, Math.floor(cfg.lateMaxMs / cfg.batchMs));
  const sem = new Semaphore(cfg.inflight);
  const pending = new Map<number, { left: number; issued: boolean }>();
  const deferred = new Map<number, Batch[]>();
  const inFlight = new Set<Promise<void>>();

  const slotDone = (slot: number) => {
    const p = pending.get(slot)!;
    if (p.issued && p.left === 0) {
      pending.delete(slot);
      send({ kind: 'slot', slot, doneAtMs: Date.now() });
    }
  };

  const insert = async (b: Batch): Promise<void> => {
    const t = performance.now();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await r.insert(b.stream.id, { times: b.times, values: b.values }, 'never');
          break;
        } catch (e) {
          if (isPushback(e)) {
            interval.pushbacks++;
            await sleep(Math.min(1000, 20 * 2 ** Math.min(attempt, 6)) * (0.5 + rnd()));
            continue;
          }
          throw e;
        }
      }
      ack.record(performance.now() - t);
      interval.points += b.times.length;
      interval.inserts++;
      total.points += b.times.length;
    } catch (e) {
      interval.errors++;
      total.failed++;
      firstError ??= e instanceof Error ? e.message : String(e);
    } finally {
      sem.release();
      if (b.slot !== null) {
        pending.get(b.slot)!.left--;
        slotDone(b.slot);
      }
    }
  };

  const launch = async (b: Batch) => {
    const w = sem.acquire();
    if (w) await w;
    const p = insert(b);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  let slot = 0;
  for (; ; slot++) {
    const dueMs = startAtMs + (slot + 1) * cfg.batchMs;
    if (cfg.pacing === 'realtime') {
      if (dueMs > untilMs || Date.now() >= untilMs) break;
      if (dueMs > Date.now()) await sleep(dueMs - Date.now());
    } else if (Date.now() >= untilMs) break;
    const p = { left: 0, issued: false };
    pending.set(slot, p);
    for (const b of deferred.get(slot) ?? []) await launch(b);
    deferred.delete(slot);
    let pmu = -1;
    let times: BigInt64Array = new BigInt64Array(0);
    for (const s of streams) {
      if (s.spec.pmu !== pmu) {
        pmu = s.spec.pmu;
        times = slotTimes(t0, cfg.hz, slot, perBatch);
      }
      let batchTimes: BigInt64Array = times;
      let values = s.values.batch(slot, perBatch);
      if (cfg.oooFrac > 0 && rnd() < cfg.oooFrac) ({ times: batchTimes, values } = shuffled(times, values, rnd));
      const late = lateSlots(rnd, cfg.lateFrac, lateMax);
      if (late > 0) {
        const at = slot + late;
        const list = deferred.get(at) ?? [];
        list.push({ stream: s, times: batchTimes, values, slot: null });
        deferred.set(at, list);
        continue;
      }
      p.left++;
      await launch({ stream: s, times: batchTimes, values, slot });
    }
    p.issued = true;
    slotDone(slot);
  }
  // Late batches still held back go out now, so every slot sent is complete.
  for (const at of [...deferred.keys()].sort((a, b) => a - b)) for (const b of deferred.get(at)!) await launch(b);
  await Promise.all([...inFlight]);
  send({ kind: 'final', slots: slot, points: total.points, failed: total.failed, firstError });
}

function sample(): void {
  const cpu = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  send({
    kind: 'sample',
    points: interval.points,
    inserts: interval.inserts,
    ack: ack.take(),
    pushbacks: interval.pushbacks,
    errors: interval.errors,
    cpuMs: (cpu.user + cpu.system) / 1000,
  });
  interval.points = 0;
  interval.inserts = 0;
  interval.pushbacks = 0;
  interval.errors = 0;
}

const fail = (e: unknown) => {
  process.stderr.write(`load writer: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
};

process.on('message', (m: ToChild) => {
  if (m.kind === 'init' && 'streams' in m) connect(m).catch(fail);
  else if (m.kind === 'create') createAll().catch(fail);
  else if (m.kind === 'go') run(m.startAtMs, m.untilMs, m.t0Ns).catch(fail);
  else if (m.kind === 'sample') sample();
  else if (m.kind === 'stop') {
    void remote?.close();
    process.disconnect();
  }
});

/**
 * Shared by bench/http-bench.ts and bench/plotter-bench.ts: load workload streams into a data
 * directory with the embedded database (bulk inserts of large batches, before any server runs),
 * keep an independent reference of each stream (count, first/last time, sum of the values in time
 * order), and run a real `arbor serve` child process on that directory with its HTTP API.
 */
import { performance } from 'node:perf_hooks';
import { mulberry32 } from '../src/core/random.ts';
import type { StreamId } from '../src/core/types.ts';
import { newStreamId } from '../src/core/uuid.ts';
import { openDatabase } from '../src/db/database.ts';
import { type ServeProcess, startServe } from '../test/server/spawn-serve.ts';
import { PERIOD_NS, type Series, T0 } from './workload.ts';

/**
 * Stream `s` of the workload (bench/workload.ts `generateStream`: same formula, same seed, same
 * order of random draws) in chunks of `chunk` points, so 100M points never sit in memory at once.
 * Concatenated, the chunks equal `generateStream(s, n)`.
 */
export function* workloadChunks(s: number, n: number, chunk: number): Generator<Series> {
  const rnd = mulberry32(20240101 + s * 7919);
  const phase = rnd() * 2 * Math.PI;
  for (let at = 0; at < n; at += chunk) {
    const m = Math.min(chunk, n - at);
    const times = new BigInt64Array(m);
    const values = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      const i = at + k;
      const jitter = Math.round((rnd() * 2 - 1) * 1000);
      const offNs = i * PERIOD_NS + jitter;
      times[k] = T0 + BigInt(offNs);
      const noise = (rnd() + rnd() - 1) * 0.1;
      values[k] = 7200 + 5 * Math.sin(2 * Math.PI * 60.05 * (offNs / 1e9) + phase) + noise;
    }
    yield { times, values };
  }
}

export interface StreamSpec {
  readonly collection: string;
  readonly name: string;
  readonly points: number;
  /** Workload stream number (seed). */
  readonly seed: number;
}

/** A loaded stream and its reference figures, computed from the generated points. */
export interface LoadedStream extends StreamSpec {
  readonly id: StreamId;
  readonly first: bigint;
  readonly last: bigint;
  /** Sum of the values in ascending time order (the order every read answers in). */
  readonly sum: number;
  readonly loadMs: number;
}

/** Points per insert call: large batches skip the WAL and commit directly (CONTRIBUTING.md). */
const BATCH = 2_000_000;

/** Create and fill the streams in the data directory `dir`, then close the database. */
export async function loadStreams(
  dir: string,
  specs: readonly StreamSpec[],
  log: (line: string) => void = () => undefined,
): Promise<LoadedStream[]> {
  const db = await openDatabase(dir);
  const out: LoadedStream[] = [];
  try {
    for (const spec of specs) {
      const id = newStreamId();
      await db.create({ id, collection: spec.collection, tags: { name: spec.name, unit: 'V' }, annotations: {} });
      const t0 = performance.now();
      let sum = 0;
      let first = 0n;
      let last = 0n;
      let done = 0;
      for (const c of workloadChunks(spec.seed, spec.points, BATCH)) {
        for (let i = 0; i < c.values.length; i++) sum += c.values[i]!;
        if (done === 0) first = c.times[0]!;
        last = c.times[c.times.length - 1]!;
        await db.insert(id, c, 'never');
        done += c.times.length;
        if (done % 20_000_000 === 0) log(`  loaded ${done / 1e6}M of ${spec.points / 1e6}M points`);
      }
      await db.flush(id);
      const loadMs = performance.now() - t0;
      log(`loaded ${spec.collection}/${spec.name}: ${spec.points} points in ${(loadMs / 1000).toFixed(1)} s`);
      out.push({ ...spec, id, first, last, sum, loadMs });
    }
  } finally {
    await db.close();
  }
  return out;
}

export interface HttpServe {
  readonly process: ServeProcess;
  /** `http://host:port` of the HTTP API and web plotter. */
  readonly url: string;
  stop(): Promise<number | null>;
}

/** `arbor serve --data dir` on free ports (gRPC and HTTP), optionally with an API key. */
export async function startHttpServe(dir: string, apiKey?: string): Promise<HttpServe> {
  const args = ['--data', dir, '--grpc', '127.0.0.1:0', ...(apiKey === undefined ? [] : ['--api-key', apiKey])];
  const p = await startServe(args);
  const m = /ready grpc=\S+ http=(\S+)/.exec(p.stdout());
  if (!m) {
    await p.stop('SIGKILL');
    throw new Error(`arbor serve printed no http address:\n${p.stdout()}`);
  }
  return { process: p, url: `http://${m[1]}`, stop: () => p.stop('SIGTERM') };
}

export const fmtCount = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : String(n);

/** The median (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The value at fraction `p` of the sorted samples (nearest rank). */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

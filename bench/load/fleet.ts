/**
 * The fleet load generator: replays N PMUs × M channels over gRPC against a real `arbor serve`
 * (spawned on a temp data dir, or --server), with readers querying at the same time, and reports
 * per interval: ingest rate, lag behind real time, insert ack latency, read latencies, the
 * server's RSS and CPU, the generator's own CPU, pushbacks. `--find-max` steps the fleet size up
 * and reports the largest that stays real-time. See docs/load.md; `--help` lists the options.
 *
 *   node --import tsx bench/load/fleet.ts --pmus 1000 --channels 12 --hz 120 --duration 180
 *   node --import tsx bench/load/fleet.ts --find-max --step-duration 60
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectRemote } from '../../src/client/remote-backend.ts';
import type { StreamId } from '../../src/core/types.ts';
import { newStreamId } from '../../src/core/uuid.ts';
import { LoadChild } from './child.ts';
import { framesPerBatch, slotStart } from './fleet-data.ts';
import { Histogram } from './histogram.ts';
import { FLEET_HELP, type FleetOptions, FleetUsageError, parseFleetOptions } from './options.ts';
import { cpuMsOf, memoryOf } from './proc-stats.ts';
import type { FromReader, FromWriter, StreamSpec, ToChild } from './protocol.ts';
import { startLoadServer } from './serve.ts';

const WRITER = path.join(import.meta.dirname, 'writer.ts');
const READER = path.join(import.meta.dirname, 'reader.ts');
const MB = 1024 * 1024;

type Writer = LoadChild<FromWriter, ToChild>;
type Reader = LoadChild<FromReader, ToChild>;

export interface IntervalRow {
  /** Seconds since the start, at the end of the interval. */
  readonly tS: number;
  readonly ptsPerS: number;
  readonly insertsPerS: number;
  /** Realtime: worst lag (ms) of a slot in the interval (finished late, or still open); max: -1. */
  readonly lagMs: number;
  readonly ackP50Ms: number;
  readonly ackP99Ms: number;
  readonly windowsP50Ms: number;
  readonly windowsP99Ms: number;
  readonly rawP50Ms: number;
  readonly rawP99Ms: number;
  readonly readsPerS: number;
  readonly serverRssMB: number;
  /** Server V8 heap in use (MB) and engine commits per second, from /metrics (NaN without it). */
  readonly serverHeapMB: number;
  readonly commitsPerS: number;
  /** Cores' worth of CPU the server used in the interval. */
  readonly serverCpu: number;
  /** …and the generator (coordinator, writers, readers). */
  readonly genCpu: number;
  readonly pushbacks: number;
  readonly errors: number;
  readonly loadAvg1: number;
}

export interface RunResult {
  readonly label: string;
  readonly streams: number;
  readonly pmus: number;
  readonly channels: number;
  readonly hz: number;
  readonly batchMs: number;
  readonly pacing: string;
  readonly durationS: number;
  readonly targetPtsPerS: number;
  readonly createMs: number;
  readonly rows: readonly IntervalRow[];
  readonly summary: {
    readonly ptsPerS: number;
    readonly points: number;
    readonly failedInserts: number;
    readonly firstError: string | null;
    readonly pushbacks: number;
    readonly ackP50Ms: number;
    readonly ackP99Ms: number;
    readonly windowsP50Ms: number;
    readonly windowsP99Ms: number;
    readonly windowsQueries: number;
    readonly windowsPerQuery: number;
    readonly rawP50Ms: number;
    readonly rawP99Ms: number;
    readonly rawQueries: number;
    readonly rawPointsPerQuery: number;
    readonly readErrors: number;
    readonly firstReadError: string | null;
    /** Worst lag in the second half of the run (ms; realtime only). */
    readonly lagSecondHalfMs: number;
    readonly lagEndMs: number;
    readonly serverRssStartMB: number;
    readonly serverRssEndMB: number;
    readonly serverRssMaxMB: number;
    readonly serverCpu: number;
    readonly genCpu: number;
    readonly inserts: number;
    /** CPU time per acknowledged point (µs): the load-independent cost figures. */
    readonly serverCpuUsPerPoint: number;
    readonly genCpuUsPerPoint: number;
    readonly verified: { readonly streams: number; readonly points: number; readonly mismatches: number };
    readonly realtime: boolean;
    readonly why: string;
  };
}

/** The server's V8 heap in use and engine commit count, from its Prometheus /metrics (null if unavailable). */
async function scrape(http: string | null, apiKey: string): Promise<{ heap: number; commits: number } | null> {
  if (http === null) return null;
  try {
    const r = await fetch(`http://${http}/metrics`, {
      headers: { authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!r.ok) return null;
    const text = await r.text();
    const v = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { heap: v('nodejs_heap_used_bytes'), commits: v('arbordb_engine_commits_total') };
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;

/** `arbor serve` on a temp data dir, or the server of --server. */
async function serverFor(opts: FleetOptions): Promise<{
  address: string;
  apiKey: string;
  pid: number | null;
  http: string | null;
  stop: () => Promise<void>;
}> {
  if (opts.server !== null) {
    return { address: opts.server, apiKey: opts.apiKey, pid: null, http: null, stop: async () => undefined };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-load-'));
  const flags =
    opts.profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.profileDir, 'server')}`];
  const proc = await startLoadServer(
    ['--data', dir, '--grpc', '127.0.0.1:0', '--api-key', opts.apiKey, ...opts.serveArgs],
    flags,
  );
  return {
    address: proc.address,
    apiKey: opts.apiKey,
    pid: proc.pid,
    http: proc.http,
    stop: async () => {
      const t = Date.now();
      const code = await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      process.stderr.write(`arbor serve stopped in ${Date.now() - t} ms (exit ${code})\n`);
      if (code !== 0) process.stderr.write(`${proc.stderr().slice(-4000)}\n`);
    },
  };
}

function specs(pmus: number, channels: number): StreamSpec[] {
  const out: StreamSpec[] = [];
  for (let p = 0; p < pmus; p++) for (let c = 0; c < channels; c++) out.push({ id: newStreamId(), pmu: p, channel: c });
  return out;
}

/** One run at a fleet size: the interval table and a summary. */
export async function runFleet(opts: FleetOptions, label: string): Promise<RunResult> {
  const all = specs(opts.pmus, opts.channels);
  const perBatch = framesPerBatch(opts.hz, opts.batchMs);
  const server = await serverFor(opts);
  const writers: Writer[] = [];
  let reader: Reader | null = null;
  const log = (s: string) => process.stderr.write(`[${label}] ${s}\n`);
  try {
    // Whole PMUs per writer (round robin), so a PMU's channels share one times array.
    for (let w = 0; w < opts.writers; w++) {
      const mine = all.filter((s) => s.pmu % opts.writers === w);
      if (mine.length === 0) continue;
      const prof =
        opts.profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.profileDir, 'writers')}`];
      const child: Writer = new LoadChild(WRITER, `writer ${w}`, prof);
      writers.push(child);
      child.send({
        kind: 'init',
        index: w,
        server: server.address,
        apiKey: server.apiKey,
        streams: mine,
        hz: opts.hz,
        batchMs: opts.batchMs,
        pacing: opts.pacing,
        lateFrac: opts.lateFrac,
        lateMaxMs: opts.lateMaxMs,
        oooFrac: opts.oooFrac,
        inflight: opts.inflight,
        values: opts.values,
        seed: 1000 + w,
      });
    }
    if (opts.readers > 0) {
      reader = new LoadChild(READER, 'reader');
      reader.send({
        kind: 'init',
        server: server.address,
        apiKey: server.apiKey,
        ids: all.map((s) => s.id),
        loops: opts.readers,
        pauseMs: opts.readerPauseMs,
        hz: opts.hz,
        seed: 77,
      });
    }
    await Promise.all([...writers.map((w) => w.next('ready', 120_000)), reader?.next('ready', 120_000)]);
    log(`creating ${all.length} streams (${opts.pmus} PMUs × ${opts.channels} channels) on ${server.address}`);
    const created = await Promise.all(
      writers.map((w) => {
        w.send({ kind: 'create' });
        return w.next('created', 1_800_000);
      }),
    );
    const createMs = Math.max(...created.map((c) => c.ms));
    log(`created in ${(createMs / 1000).toFixed(1)} s; load ${os.loadavg()[0]!.toFixed(2)}`);

    // Data time = wall time (ns) in real-time pacing; max pacing starts at the same origin.
    const startAtMs = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const t0 = BigInt(startAtMs) * 1_000_000n;
    const untilMs = startAtMs + opts.durationS * 1000;
    const due = (slot: number) => startAtMs + (slot + 1) * opts.batchMs;

    // Slot completion across writers → the acknowledged head and the lag.
    const done = new Map<number, { n: number; at: number }>();
    let headSlot = -1; // every slot ≤ headSlot is acknowledged
    const slotLag: { slot: number; lagMs: number; at: number }[] = [];
    for (const w of writers) {
      w.on('slot', (m) => {
        if (m.kind !== 'slot') return;
        const d = done.get(m.slot) ?? { n: 0, at: 0 };
        d.n++;
        d.at = Math.max(d.at, m.doneAtMs);
        done.set(m.slot, d);
        if (d.n === writers.length) {
          slotLag.push({ slot: m.slot, lagMs: Math.max(0, d.at - due(m.slot)), at: d.at });
          while (done.get(headSlot + 1)?.n === writers.length) {
            done.delete(headSlot + 1);
            headSlot++;
          }
        }
      });
    }
    const headNs = () => slotStart(t0, opts.hz, headSlot + 1, perBatch);
    const headTimer = setInterval(() => {
      if (headSlot >= 0) reader?.send({ kind: 'head', headNs: String(headNs()) });
    }, 250);

    const rows: IntervalRow[] = [];
    const totals = {
      ack: new Histogram(),
      windows: new Histogram(),
      raw: new Histogram(),
      windowsAnswered: 0,
      rawPoints: 0,
      pushbacks: 0,
      readErrors: 0,
      points: 0,
      inserts: 0,
    };
    let rssMax = 0;
    let rssStart = 0;
    const rssTimer = setInterval(() => {
      const m = server.pid === null ? null : memoryOf(server.pid);
      if (m) rssMax = Math.max(rssMax, m.rss);
    }, 1000);
    const serverCpu0 = server.pid === null ? null : cpuMsOf(server.pid);
    let serverCpuLast = serverCpu0;
    let selfCpuLast = process.cpuUsage();
    let genCpuTotal = 0;
    let lastRowAt = Date.now();
    let lastCommits: number | null = (await scrape(server.http, server.apiKey))?.commits ?? null;

    const sampleRow = async (): Promise<IntervalRow> => {
      for (const w of writers) w.send({ kind: 'sample' });
      reader?.send({ kind: 'sample' });
      const ws = await Promise.all(writers.map((w) => w.next('sample', 60_000)));
      const rs = reader ? await reader.next('sample', 60_000) : null;
      const now = Date.now();
      const secs = (now - lastRowAt) / 1000;
      const ack = Histogram.from(...ws.map((s) => s.ack));
      const win = Histogram.from(...(rs ? [rs.windows] : []));
      const raw = Histogram.from(...(rs ? [rs.raw] : []));
      totals.ack.add(ack.data());
      totals.windows.add(win.data());
      totals.raw.add(raw.data());
      const pts = ws.reduce((a, s) => a + s.points, 0);
      totals.points += pts;
      totals.inserts += ws.reduce((a, s) => a + s.inserts, 0);
      totals.windowsAnswered += rs?.windowsAnswered ?? 0;
      totals.rawPoints += rs?.rawPoints ?? 0;
      const pushbacks = ws.reduce((a, s) => a + s.pushbacks, 0);
      totals.pushbacks += pushbacks;
      totals.readErrors += rs?.errors ?? 0;
      const self = process.cpuUsage(selfCpuLast);
      selfCpuLast = process.cpuUsage();
      const genMs = (self.user + self.system) / 1000 + ws.reduce((a, s) => a + s.cpuMs, 0) + (rs?.cpuMs ?? 0);
      genCpuTotal += genMs;
      const sc = server.pid === null ? null : cpuMsOf(server.pid);
      const serverMs = sc !== null && serverCpuLast !== null ? sc - serverCpuLast : Number.NaN;
      serverCpuLast = sc;
      const mem = server.pid === null ? null : memoryOf(server.pid);
      const met = await scrape(server.http, server.apiKey);
      const commitsPerS = met && lastCommits !== null ? (met.commits - lastCommits) / secs : Number.NaN;
      if (met) lastCommits = met.commits;
      if (mem && rssStart === 0) rssStart = mem.rss;
      let lagMs = -1;
      if (opts.pacing === 'realtime') {
        lagMs = 0;
        for (const s of slotLag) if (s.at > lastRowAt) lagMs = Math.max(lagMs, s.lagMs);
        // The oldest slot still open counts with how late it is now.
        const open = headSlot + 1;
        if (due(open) < Math.min(now, untilMs)) lagMs = Math.max(lagMs, now - due(open));
      }
      lastRowAt = now;
      return {
        tS: r1((now - startAtMs) / 1000),
        ptsPerS: Math.round(pts / secs),
        insertsPerS: Math.round(ws.reduce((a, s) => a + s.inserts, 0) / secs),
        lagMs: Math.round(lagMs),
        ackP50Ms: r2(ack.quantile(0.5)),
        ackP99Ms: r2(ack.quantile(0.99)),
        windowsP50Ms: r2(win.quantile(0.5)),
        windowsP99Ms: r2(win.quantile(0.99)),
        rawP50Ms: r2(raw.quantile(0.5)),
        rawP99Ms: r2(raw.quantile(0.99)),
        readsPerS: r1((win.count + raw.count) / secs),
        serverRssMB: mem ? Math.round(mem.rss / MB) : Number.NaN,
        serverHeapMB: met ? Math.round(met.heap / MB) : Number.NaN,
        commitsPerS: Math.round(commitsPerS),
        serverCpu: r2(serverMs / 1000 / secs),
        genCpu: r2(genMs / 1000 / secs),
        pushbacks,
        errors: ws.reduce((a, s) => a + s.errors, 0) + (rs?.errors ?? 0),
        loadAvg1: r2(os.loadavg()[0]!),
      };
    };

    const header =
      't(s)   pts/s      ins/s   lag(ms)  ack p50/p99 ms   win p50/p99 ms   raw p50/p99 ms  reads/s  RSS MB  heap MB  commits/s  srv cpu  gen cpu  pushb  load';
    log(header);
    const printRow = (r: IntervalRow) =>
      log(
        [
          String(r.tS).padEnd(6),
          String(r.ptsPerS).padStart(9),
          String(r.insertsPerS).padStart(8),
          String(r.lagMs).padStart(9),
          `${r.ackP50Ms}/${r.ackP99Ms}`.padStart(16),
          `${r.windowsP50Ms}/${r.windowsP99Ms}`.padStart(16),
          `${r.rawP50Ms}/${r.rawP99Ms}`.padStart(16),
          String(r.readsPerS).padStart(8),
          String(r.serverRssMB).padStart(7),
          String(r.serverHeapMB).padStart(8),
          String(r.commitsPerS).padStart(10),
          String(r.serverCpu).padStart(8),
          String(r.genCpu).padStart(8),
          String(r.pushbacks).padStart(6),
          String(r.loadAvg1).padStart(5),
        ].join(' '),
      );

    lastRowAt = startAtMs;
    await sleep(startAtMs - Date.now() - 500);
    const go = { kind: 'go', startAtMs, untilMs, t0Ns: String(t0) } as const;
    for (const w of writers) w.send(go);
    reader?.send(go);
    const finals = Promise.all(writers.map((w) => w.next('final', opts.durationS * 1000 + 1_800_000)));
    let finished = false;
    void finals.then(
      () => (finished = true),
      () => (finished = true),
    );
    await sleep(startAtMs - Date.now());
    for (let k = 1; ; k++) {
      const at = startAtMs + k * opts.intervalS * 1000;
      while (Date.now() < at && !finished) await sleep(Math.min(250, at - Date.now()));
      if (finished) break;
      const row = await sampleRow();
      rows.push(row);
      printRow(row);
    }
    const fin = await finals;
    const last = await sampleRow();
    rows.push(last);
    printRow(last);
    clearInterval(headTimer);
    clearInterval(rssTimer);
    reader?.send({ kind: 'stop' });
    const readerFinal = reader ? await reader.next('final', 60_000) : null;
    const elapsedS = (Date.now() - startAtMs) / 1000;

    // Every acknowledged point must read back: count a sample of streams.
    const verify = { streams: 0, points: 0, mismatches: 0 };
    const check = await connectRemote({
      endpoints: server.address,
      apiKey: server.apiKey,
      arrow: false,
      env: {},
      home: '/nonexistent',
    });
    try {
      const step = Math.max(1, Math.floor(all.length / 20));
      for (let i = 0; i < all.length; i += step) {
        const s = all[i]!;
        const w = s.pmu % opts.writers;
        const slots = fin[writers.length === opts.writers ? w : 0]!.slots;
        const expected = slots * perBatch;
        let n = 0;
        for await (const b of check.rawValues(s.id as StreamId, t0, slotStart(t0, opts.hz, slots, perBatch) + 1n, 0))
          n += b.value.times.length;
        verify.streams++;
        verify.points += n;
        if (n !== expected) {
          verify.mismatches++;
          log(`verify: stream ${s.id} has ${n} points, expected ${expected}`);
        }
      }
    } finally {
      await check.close();
    }

    const failed = fin.reduce((a, f) => a + f.failed, 0);
    const firstError = fin.find((f) => f.firstError !== null)?.firstError ?? null;
    const half = opts.durationS / 2;
    const lagSecondHalf =
      opts.pacing === 'realtime' ? Math.max(0, ...rows.filter((r) => r.tS > half).map((r) => r.lagMs)) : -1;
    const lagEnd = rows.at(-2)?.lagMs ?? rows.at(-1)?.lagMs ?? -1;
    const wP99 = totals.windows.quantile(0.99);
    const rP99 = totals.raw.quantile(0.99);
    const reasons: string[] = [];
    if (opts.pacing === 'realtime' && lagSecondHalf > opts.maxLagMs)
      reasons.push(`lag ${lagSecondHalf} ms > ${opts.maxLagMs} ms`);
    if (opts.readers > 0 && !(wP99 < opts.maxReadP99Ms))
      reasons.push(`window p99 ${r2(wP99)} ms ≥ ${opts.maxReadP99Ms}`);
    if (opts.readers > 0 && !(rP99 < opts.maxReadP99Ms)) reasons.push(`raw p99 ${r2(rP99)} ms ≥ ${opts.maxReadP99Ms}`);
    if (failed > 0) reasons.push(`${failed} inserts failed: ${firstError}`);
    if (verify.mismatches > 0) reasons.push(`${verify.mismatches} streams read back wrong`);
    const serverCpuMs = server.pid !== null && serverCpu0 !== null ? cpuMsOf(server.pid)! - serverCpu0 : Number.NaN;
    const summary = {
      ptsPerS: Math.round(totals.points / elapsedS),
      points: totals.points,
      failedInserts: failed,
      firstError,
      pushbacks: totals.pushbacks,
      ackP50Ms: r2(totals.ack.quantile(0.5)),
      ackP99Ms: r2(totals.ack.quantile(0.99)),
      windowsP50Ms: r2(totals.windows.quantile(0.5)),
      windowsP99Ms: r2(wP99),
      windowsQueries: totals.windows.count,
      windowsPerQuery: totals.windows.count ? r1(totals.windowsAnswered / totals.windows.count) : 0,
      rawP50Ms: r2(totals.raw.quantile(0.5)),
      rawP99Ms: r2(rP99),
      rawQueries: totals.raw.count,
      rawPointsPerQuery: totals.raw.count ? r1(totals.rawPoints / totals.raw.count) : 0,
      readErrors: totals.readErrors,
      firstReadError: readerFinal?.firstError ?? null,
      lagSecondHalfMs: lagSecondHalf,
      lagEndMs: lagEnd,
      serverRssStartMB: Math.round(rssStart / MB),
      serverRssEndMB: rows.at(-1)?.serverRssMB ?? Number.NaN,
      serverRssMaxMB: Math.round(rssMax / MB),
      serverCpu: r2(serverCpuMs / 1000 / elapsedS),
      genCpu: r2(genCpuTotal / 1000 / elapsedS),
      inserts: totals.inserts,
      serverCpuUsPerPoint: r2((serverCpuMs * 1000) / totals.points),
      genCpuUsPerPoint: r2((genCpuTotal * 1000) / totals.points),
      verified: verify,
      realtime: reasons.length === 0,
      why:
        reasons.length > 0
          ? reasons.join('; ')
          : opts.pacing === 'realtime'
            ? 'real-time'
            : 'no failures (max pacing: no real-time criterion)',
    };
    log(
      `summary: ${summary.ptsPerS} pts/s, ack p99 ${summary.ackP99Ms} ms, windows p99 ${summary.windowsP99Ms} ms, ` +
        `raw p99 ${summary.rawP99Ms} ms, RSS ${summary.serverRssStartMB}→${summary.serverRssEndMB} MB ` +
        `(max ${summary.serverRssMaxMB}), server ${summary.serverCpu} cores (${summary.serverCpuUsPerPoint} µs/pt), ` +
        `generator ${summary.genCpu} cores (${summary.genCpuUsPerPoint} µs/pt), ` +
        `verified ${verify.streams} streams / ${verify.points} points (${verify.mismatches} wrong): ${summary.why}`,
    );
    return {
      label,
      streams: all.length,
      pmus: opts.pmus,
      channels: opts.channels,
      hz: opts.hz,
      batchMs: opts.batchMs,
      pacing: opts.pacing,
      durationS: opts.durationS,
      targetPtsPerS: all.length * opts.hz,
      createMs: Math.round(createMs),
      rows,
      summary,
    };
  } finally {
    for (const w of writers) w.send({ kind: 'stop' });
    reader?.send({ kind: 'stop' });
    await Promise.all([...writers.map((w) => w.exited()), reader?.exited()]);
    await server.stop();
  }
}

async function main(): Promise<void> {
  let opts: FleetOptions;
  try {
    opts = parseFleetOptions(process.argv.slice(2));
  } catch (e) {
    if (e instanceof FleetUsageError) {
      process.stderr.write(`${e.message}\n\n${FLEET_HELP}`);
      process.exit(2);
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(FLEET_HELP);
    return;
  }
  const machine = {
    cpus: os.cpus().length,
    loadAtStart: os.loadavg(),
    node: process.version,
    date: new Date().toISOString(),
  };
  process.stderr.write(
    `load generator: ${machine.cpus} CPUs, load ${machine.loadAtStart.map((x) => x.toFixed(2)).join(' ')}\n`,
  );
  const runs: RunResult[] = [];
  let best: RunResult | null = null;
  /** The largest run whose ingest kept up (lag bounded, nothing lost), whatever its read p99s. */
  let keptUp: RunResult | null = null;
  const keepsUp = (r: RunResult) =>
    r.summary.lagSecondHalfMs <= opts.maxLagMs && r.summary.failedInserts === 0 && r.summary.verified.mismatches === 0;
  if (opts.findMax) {
    // Step up while the ingest keeps up; a step that misses only the read p99 goes on.
    for (const streams of opts.steps) {
      const pmus = Math.max(1, Math.round(streams / opts.channels));
      const r = await runFleet(
        { ...opts, pmus, durationS: opts.stepDurationS, pacing: 'realtime' },
        `find-max ${pmus * opts.channels} streams`,
      );
      runs.push(r);
      if (!keepsUp(r)) break;
      keptUp = r;
      if (r.summary.realtime) best = r;
    }
    process.stderr.write(
      `${
        best
          ? `largest real-time fleet: ${best.streams} streams at ${best.hz} Hz = ${best.targetPtsPerS} pts/s`
          : 'no step was real-time (lag and read p99s)'
      }; largest whose ingest kept up: ${keptUp ? `${keptUp.streams} streams = ${keptUp.targetPtsPerS} pts/s` : 'none'}\n`,
    );
  } else {
    const r = await runFleet(opts, `${opts.pmus * opts.channels} streams ${opts.pacing}`);
    runs.push(r);
    best = r.summary.realtime ? r : null;
    keptUp = opts.pacing === 'realtime' && keepsUp(r) ? r : null;
  }
  const out = {
    bench: 'load',
    machine: { ...machine, loadAtEnd: os.loadavg() },
    options: opts,
    largestRealtimeStreams: best?.streams ?? 0,
    largestKeepingUpStreams: keptUp?.streams ?? 0,
    runs,
  };
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  fs.writeFileSync(opts.out, `${JSON.stringify(out, null, 2)}\n`);
  process.stderr.write(
    `wrote ${opts.out}; load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}\n`,
  );
  // Correctness, not speed, decides the exit code: a lost or failed insert, a wrong read-back.
  for (const r of runs) {
    const s = r.summary;
    if (s.failedInserts > 0 || s.verified.mismatches > 0 || s.readErrors > 0) {
      process.stderr.write(`[${r.label}] FAILED: ${s.why}; read errors ${s.readErrors} (${s.firstReadError})\n`);
      process.exitCode = 1;
    }
  }
  // Print one line a wrapper can parse.
  console.log(
    JSON.stringify({
      bench: 'load',
      largestRealtimeStreams: out.largestRealtimeStreams,
      largestKeepingUpStreams: out.largestKeepingUpStreams,
      runs: runs.map((r) => ({ streams: r.streams, ...r.summary, verified: undefined })),
    }),
  );
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) await main();

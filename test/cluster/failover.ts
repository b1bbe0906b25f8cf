/**
 * The cluster failover scenario (issue 10): three `arbor serve --cluster` nodes over PostgreSQL,
 * etcd and Ceph RGW; two TS clients and the official Python client, each connected to a different
 * node, insert concurrently; meanwhile one fault is injected and healed:
 *
 *   owner     kill -9 of a node (it owns shards), restarted later
 *   pause     SIGSTOP of a node for longer than its lease, then SIGCONT (a stale owner comes back)
 *   etcd      kill -9 of one etcd member, restarted later
 *   osd       kill -9 of Ceph's only OSD (S3 requests hang) for a while, then restarted
 *   postgres  kill -9 of the PostgreSQL server for a while, then restarted
 *
 * Then every node is read and checked against what the clients were told: every acknowledged
 * point present exactly once with its value, every failed ("in doubt") insert present entirely or
 * not at all, nothing else present, no version acknowledged twice, and the same answer from every
 * node. Run as a program for many runs: `npm run cluster:failover -- --runs 20`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { RemoteBackend } from '../../src/client/remote-backend.ts';
import type { StreamId } from '../../src/core/types.ts';
import { type ClusterRun, httpOf, type Infra, logOf, startInfra, startNodes } from './cluster-harness.ts';

export const FAULTS = ['owner', 'pause', 'etcd', 'osd', 'postgres'] as const;
export type Fault = (typeof FAULTS)[number];

const STEP = 1_000_000n; // 1 kHz
const BATCH = 500;
const T0 = 1_700_000_000_000_000_000n;
const LEASE_SECONDS = 2;

/** The value every writer stores at time t (so a read can be checked point by point). */
const valueAt = (t: bigint): number => Number((t / STEP) % 1000n) / 7;

interface Attempt {
  readonly stream: StreamId;
  readonly t0: bigint;
  readonly n: number;
  /** Acknowledged version, or null when the call failed. */
  readonly version: number | null;
  /** ms since the writers started. */
  readonly at: number;
  readonly error?: string;
}

export interface RunReport {
  readonly fault: Fault;
  readonly ok: boolean;
  readonly problems: string[];
  readonly acked: number;
  readonly ackedPoints: number;
  readonly inDoubt: number;
  readonly inDoubtApplied: number;
  /** Longest time (ms) a stream went without an acknowledged insert around the fault. */
  readonly longestOutageMs: number;
  readonly pythonAcked: number;
  readonly durationMs: number;
}

/** A TS writer: round-robin inserts into its streams, moving to the next node when a call fails. */
async function tsWriter(
  endpoints: readonly string[],
  streams: readonly StreamId[],
  until: number,
  started: number,
  out: Attempt[],
): Promise<void> {
  let at = 0;
  let backend: RemoteBackend | null = null;
  for (let k = 0; Date.now() < until; k++) {
    for (const stream of streams) {
      if (Date.now() >= until) break;
      const t0 = T0 + BigInt(k * BATCH) * STEP;
      const times = new BigInt64Array(BATCH);
      const values = new Float64Array(BATCH);
      for (let i = 0; i < BATCH; i++) {
        times[i] = t0 + BigInt(i) * STEP;
        values[i] = valueAt(times[i]!);
      }
      try {
        backend ??= await RemoteBackend.connect(endpoints[at % endpoints.length]!, undefined, { retries: 1 });
        const version = await backend.insert(stream, { times, values }, 'never');
        out.push({ stream, t0, n: BATCH, version, at: Date.now() - started });
      } catch (e) {
        out.push({ stream, t0, n: BATCH, version: null, at: Date.now() - started, error: String(e).slice(0, 200) });
        // Try the next node (this one may be down) after a short pause.
        await backend?.close().catch(() => undefined);
        backend = null;
        at++;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
  await backend?.close().catch(() => undefined);
}

/** Prepares btrdb-python (test/compat/btrdb-python/setup.sh) and returns its PYTHONPATH and python. */
export function pythonClient(): { python: string; pythonpath: string } {
  const repo = path.resolve(import.meta.dirname, '..', '..');
  const work = process.env.ARBOR_COMPAT_DIR ?? path.join(process.env.TMPDIR ?? '/tmp', 'arbordb-compat-btrdb-python');
  const setup = spawnSyncChecked('bash', [path.join(repo, 'test/compat/btrdb-python/setup.sh')], {
    ARBOR_COMPAT_DIR: work,
  });
  if (setup !== 0)
    throw new Error(`test/compat/btrdb-python/setup.sh failed (exit ${setup}); the Python client is needed`);
  const env = Object.fromEntries(
    fs
      .readFileSync(path.join(work, 'env.sh'), 'utf8')
      .split('\n')
      .map((l) => /^([A-Z_]+)='(.*)'$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  const site = env.REAL_PYARROW_SITE || env.PYARROW_STUB;
  return { python: env.COMPAT_PYTHON || 'python3', pythonpath: `${site}:${env.BTRDB_PYTHON_SRC}` };
}

function spawnSyncChecked(cmd: string, args: string[], env: Record<string, string>): number {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return r.status ?? 1;
}

/**
 * The Python writer (py_writer.py), connected to the first of `endpoints` (the next ones when a
 * call fails). `ready` resolves once it is connected (importing btrdb and pandas takes seconds on a
 * loaded machine); `done` when it has written for `seconds` after that.
 */
function pythonWriter(
  py: { python: string; pythonpath: string },
  endpoints: readonly string[],
  streams: readonly StreamId[],
  seconds: number,
  clock: { started: number },
  out: Attempt[],
): { ready: Promise<void>; done: Promise<void> } {
  let onReady!: () => void;
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  const done = new Promise<void>((resolve, reject) => {
    const child = spawn(
      py.python,
      [
        path.join(import.meta.dirname, 'py_writer.py'),
        endpoints.join(','),
        String(seconds),
        String(BATCH),
        String(T0),
        String(STEP),
        ...streams,
      ],
      {
        env: { ...process.env, PYTHONPATH: py.pythonpath, PYTHONDONTWRITEBYTECODE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    createInterface({ input: child.stdout }).on('line', (text) => {
      const line = JSON.parse(text) as { ready?: boolean; s: string; t0: string; n: number; v?: number; err?: string };
      if (line.ready) {
        onReady();
        return;
      }
      out.push({
        stream: line.s as StreamId,
        t0: BigInt(line.t0),
        n: line.n,
        version: line.v ?? null,
        at: Date.now() - clock.started,
        ...(line.err ? { error: line.err } : {}),
      });
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // 'close', not 'exit': every line it printed has been read by then.
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`py_writer.py exited ${code}: ${err.slice(-2000)}`)),
    );
  });
  // A writer that dies before it is ready must not leave the scenario waiting.
  return { ready: Promise.race([ready, done]), done };
}

async function inject(
  fault: Fault,
  run: ClusterRun,
  infra: Infra,
  victim: number,
  log: (s: string) => void,
): Promise<() => Promise<void>> {
  switch (fault) {
    case 'owner':
      log(`kill -9 ${run.nodes[victim]!.id}`);
      await run.kill(victim);
      return async () => {
        log(`restart ${run.nodes[victim]!.id}`);
        await run.start(victim);
      };
    case 'pause':
      log(`SIGSTOP ${run.nodes[victim]!.id}`);
      run.pause(victim);
      return async () => {
        log(`SIGCONT ${run.nodes[victim]!.id}`);
        run.resume(victim);
      };
    case 'etcd':
      log(`kill -9 etcd member ${victim}`);
      await infra.etcd.kill(victim);
      return async () => {
        log(`restart etcd member ${victim}`);
        await infra.etcd.restart(victim);
      };
    case 'osd':
      log('kill -9 the OSD');
      await infra.ceph.killOsd();
      return async () => {
        log('restart the OSD');
        await infra.ceph.startOsd();
      };
    case 'postgres':
      log('kill -9 PostgreSQL');
      await infra.pg.kill();
      return async () => {
        log('restart PostgreSQL');
        await infra.pg.restart();
      };
  }
}

async function readAll(b: RemoteBackend, id: StreamId): Promise<{ times: BigInt64Array; values: Float64Array }> {
  const times: bigint[] = [];
  const values: number[] = [];
  for await (const c of b.rawValues(id, 0n, 3n << 60n, 0)) {
    for (const t of c.value.times) times.push(t);
    for (const v of c.value.values) values.push(v);
  }
  return { times: BigInt64Array.from(times), values: Float64Array.from(values) };
}

/**
 * Every commit record in the shards' manifests (PostgreSQL): a (stream, version) committed twice —
 * by two owners, or twice by one — is a problem. (Records are JSON: docs/format/manifest.md.)
 */
async function versionsCommittedTwice(catalogUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: catalogUrl });
  await client.connect();
  try {
    const r = await client.query<{ shard: number; payload: Buffer }>(
      'select shard, payload from arbor_manifest order by shard, lsn',
    );
    const seen = new Set<string>();
    const problems: string[] = [];
    let commits = 0;
    for (const row of r.rows) {
      const rec = JSON.parse(row.payload.toString('utf8')) as { k: string; id: string; v?: number };
      if (rec.k !== 'commit') continue;
      commits++;
      const key = `${rec.id} v${rec.v}`;
      if (seen.has(key)) problems.push(`stream ${rec.id}: version ${rec.v} committed twice (shard ${row.shard})`);
      seen.add(key);
    }
    if (commits === 0) problems.push('the manifests hold no commit record at all');
    return problems;
  } finally {
    await client.end();
  }
}

const jsonBig = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);

/** One run: fresh nodes, writers, one fault healed, then the checks. */
export async function runFailover(
  infra: Infra,
  fault: Fault,
  opts: {
    runIndex?: number;
    writeSeconds?: number;
    log?: (s: string) => void;
    python?: { python: string; pythonpath: string };
  },
): Promise<RunReport> {
  const log = opts.log ?? (() => undefined);
  const started0 = Date.now();
  const run = await startNodes(infra, { nodes: 3, shards: 16, leaseSeconds: LEASE_SECONDS });
  const problems: string[] = [];
  try {
    const [n1, n2, n3] = run.nodes.map((n) => n.grpc) as [string, string, string];
    const admin = await RemoteBackend.connect(n1, undefined);
    const streams = Array.from({ length: 12 }, () => randomUUID() as StreamId);
    for (const [i, id] of streams.entries()) {
      await admin.create({ id, collection: `failover/${fault}`, tags: { name: `s${i}` }, annotations: {} });
    }
    const attempts: Attempt[] = [];
    const writeMs = (opts.writeSeconds ?? 14) * 1000;
    const clock = { started: Date.now() };
    const py = opts.python
      ? pythonWriter(opts.python, [n3, n1, n2], streams.slice(8), writeMs / 1000, clock, attempts)
      : null;
    await py?.ready;
    const started = Date.now();
    clock.started = started;
    const until = started + writeMs;
    const victim = (opts.runIndex ?? 0) % 3;
    const writers = [
      tsWriter([n1, n2, n3], streams.slice(0, 4), until, started, attempts),
      tsWriter([n2, n3, n1], streams.slice(4, 8), until, started, attempts),
      py ? py.done : tsWriter([n3, n1, n2], streams.slice(8), until, started, attempts),
    ];
    const faults = (async () => {
      await new Promise((r) => setTimeout(r, 3000));
      const heal = await inject(fault, run, infra, victim, log);
      const outage = fault === 'pause' ? (LEASE_SECONDS + 3) * 1000 : fault === 'postgres' ? 3000 : 5000;
      await new Promise((r) => setTimeout(r, outage));
      await heal();
    })();
    await Promise.all([...writers, faults]);
    // Let the cluster settle (restarted node takes its shards back), then read from every node.
    await new Promise((r) => setTimeout(r, (LEASE_SECONDS + 2) * 1000));
    const acked = attempts.filter((a) => a.version !== null);
    const doubt = attempts.filter((a) => a.version === null);
    if (acked.length === 0) problems.push('no insert was acknowledged');
    const readers = await Promise.all(run.nodes.map((n) => RemoteBackend.connect(n.grpc, undefined)));
    let doubtApplied = 0;
    for (const id of streams) {
      const views = await Promise.all(readers.map((r) => readAll(r, id)));
      const [first] = views;
      for (const [i, v] of views.entries()) {
        if (
          v.times.length !== first!.times.length ||
          v.times.some((t, j) => t !== first!.times[j]) ||
          v.values.some((x, j) => x !== first!.values[j])
        ) {
          problems.push(`stream ${id}: node ${run.nodes[i]!.id} answers differently from ${run.nodes[0]!.id}`);
        }
      }
      const got = first!;
      // Exactly once: strictly increasing times, each with its value.
      const count = new Map<bigint, number>();
      for (const [j, t] of got.times.entries()) {
        if (j > 0 && t <= got.times[j - 1]!) problems.push(`stream ${id}: time ${t} stored more than once`);
        if (got.values[j] !== valueAt(t)) problems.push(`stream ${id}: wrong value at ${t}`);
        count.set(t, (count.get(t) ?? 0) + 1);
      }
      let expected = 0;
      const versions = new Set<number>();
      for (const a of acked.filter((x) => x.stream === id)) {
        if (versions.has(a.version!)) problems.push(`stream ${id}: version ${a.version} acknowledged twice`);
        versions.add(a.version!);
        for (let i = 0; i < a.n; i++) {
          if (count.get(a.t0 + BigInt(i) * STEP) !== 1) {
            problems.push(
              `stream ${id}: acknowledged point ${a.t0 + BigInt(i) * STEP} (batch at ${a.at} ms) is missing`,
            );
            break;
          }
        }
        expected += a.n;
      }
      for (const d of doubt.filter((x) => x.stream === id)) {
        let present = 0;
        for (let i = 0; i < d.n; i++) if (count.has(d.t0 + BigInt(i) * STEP)) present++;
        if (present !== 0 && present !== d.n)
          problems.push(`stream ${id}: failed insert at ${d.t0} is partly stored (${present}/${d.n})`);
        if (present === d.n) {
          doubtApplied++;
          expected += d.n;
        }
      }
      if (got.times.length !== expected) {
        problems.push(
          `stream ${id}: ${got.times.length} points stored, ${expected} expected (acknowledged + applied in-doubt)`,
        );
      }
      // A pinned version: every node answers it (non-owners from their read-only views) the same.
      const pinned = (await readers[0]!.streamInfo(id)).version;
      const stats = await Promise.all(readers.map((r) => r.alignedWindows(id, 0n, 3n << 60n, 50, pinned)));
      for (const [i, w] of stats.entries()) {
        const n = w.value.reduce((acc, x) => acc + Number(x.count), 0);
        if (
          w.version !== pinned ||
          n !== got.times.length ||
          JSON.stringify(w.value, jsonBig) !== JSON.stringify(stats[0]!.value, jsonBig)
        ) {
          problems.push(`stream ${id}: node ${run.nodes[i]!.id} answers version ${pinned} differently (${n} points)`);
        }
      }
      // The HTTP API of every node gives the same count.
      for (const node of run.nodes) {
        const res = await fetch(`http://${httpOf(node)}/api/streams/${id}/count?precise=true`);
        const body = (await res.json()) as { count?: number | string };
        if (!res.ok || Number(body.count) !== got.times.length) {
          problems.push(
            `stream ${id}: HTTP count on ${node.id} is ${JSON.stringify(body)}, ${got.times.length} expected`,
          );
        }
      }
    }
    await Promise.all([admin, ...readers].map((r) => r.close()));
    problems.push(...(await versionsCommittedTwice(run.catalog)));
    // Longest gap between acknowledged inserts of one stream.
    let longest = 0;
    for (const id of streams) {
      const ats = acked
        .filter((a) => a.stream === id)
        .map((a) => a.at)
        .sort((x, y) => x - y);
      for (let i = 1; i < ats.length; i++) longest = Math.max(longest, ats[i]! - ats[i - 1]!);
    }
    if (fault === 'pause' && !/lease lost|fenced|released shard/.test(logOf(run.nodes[victim]!))) {
      problems.push(`the paused node ${run.nodes[victim]!.id} never reported losing its shards`);
    }
    return {
      fault,
      ok: problems.length === 0,
      problems: problems.slice(0, 20),
      acked: acked.length,
      ackedPoints: acked.reduce((n, a) => n + a.n, 0),
      inDoubt: doubt.length,
      inDoubtApplied: doubtApplied,
      longestOutageMs: longest,
      pythonAcked: opts.python ? acked.filter((a) => streams.slice(8).includes(a.stream)).length : 0,
      durationMs: Date.now() - started0,
    };
  } catch (e) {
    const logs = run.nodes.map((n) => `--- ${n.id}\n${logOf(n).split('\n').slice(-15).join('\n')}`).join('\n');
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs}`);
  } finally {
    await run.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '20' },
      faults: { type: 'string', default: FAULTS.join(',') },
      out: { type: 'string', default: '.bench/cluster-failover.json' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'npm run cluster:failover -- [--runs N] [--faults owner,pause,etcd,osd,postgres] [--out FILE]\n\n' +
        'Start PostgreSQL, 3 etcd members, Ceph RGW, then for each run 3 arbor serve --cluster nodes;\n' +
        'write with 2 TS clients and btrdb-python, inject one fault (cycling through --faults), heal it\n' +
        'and check every acknowledged point is present exactly once on every node. Exit 1 on any problem.\n',
    );
    return;
  }
  const runs = Number(values.runs);
  const faults = values.faults.split(',') as Fault[];
  for (const f of faults) if (!FAULTS.includes(f)) throw new Error(`unknown fault ${f} (one of ${FAULTS.join(', ')})`);
  const log = (s: string) => process.stderr.write(`cluster-failover: ${s}\n`);
  const python = pythonClient();
  const infra = await startInfra(log);
  const reports: RunReport[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const fault = faults[i % faults.length]!;
      let r: RunReport;
      try {
        r = await runFailover(infra, fault, { runIndex: i, log, python });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        r = {
          fault,
          ok: false,
          problems: [`the run itself failed: ${msg.slice(0, 3000)}`],
          acked: 0,
          ackedPoints: 0,
          inDoubt: 0,
          inDoubtApplied: 0,
          longestOutageMs: 0,
          pythonAcked: 0,
          durationMs: 0,
        };
      }
      reports.push(r);
      log(
        `run ${i + 1}/${runs} ${fault}: ${r.ok ? 'OK' : 'FAILED'} — ${r.acked} inserts acknowledged (${r.ackedPoints} points, ${r.pythonAcked} by Python), ` +
          `${r.inDoubt} in doubt (${r.inDoubtApplied} applied), longest write outage ${r.longestOutageMs} ms, ${(r.durationMs / 1000).toFixed(1)} s` +
          (r.ok ? '' : `\n  ${r.problems.join('\n  ')}`),
      );
    }
  } finally {
    await infra.stop();
  }
  fs.mkdirSync(path.dirname(values.out), { recursive: true });
  fs.writeFileSync(values.out, JSON.stringify({ at: new Date().toISOString(), reports }, null, 2));
  const failed = reports.filter((r) => !r.ok).length;
  log(`${reports.length} runs, ${failed} failed; report in ${values.out}`);
  process.exitCode = failed === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    process.stderr.write(`cluster-failover: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}

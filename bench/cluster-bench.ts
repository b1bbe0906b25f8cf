/**
 * Cluster benchmark (issue 10): aggregate ingest and window-query throughput of 1, 2 and 3
 * `arbor serve --cluster` nodes on this machine (PostgreSQL + 3 etcd + Ceph RGW, started here),
 * the per-operation costs a node pays (S3 create-only PUT and ranged GET, a fenced manifest
 * commit in PostgreSQL), and a paper estimate for 10 and 100 machines built from those costs.
 *
 *   node --import tsx bench/cluster-bench.ts [--seconds S] [--nodes 1,2,3] [--out FILE] [--smoke]
 *
 * All processes share this machine's 2 cores, so more nodes here add coordination, not CPU: the
 * 1 → 3 node figures show the cost of forwarding and sharding, and the estimate shows what
 * separate machines would add.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { RemoteBackend } from '../src/client/remote-backend.ts';
import { ensureClusterSchema, PgRecordLog, takeShard } from '../src/cluster/pg-shards.ts';
import type { StreamId } from '../src/core/types.ts';
import { S3ObjectStore } from '../src/storage/s3-object-store.ts';
import { type Infra, startInfra, startNodes } from '../test/cluster/cluster-harness.ts';
import { quantile, timed } from '../test/cluster/timing.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    nodes: { type: 'string', default: '1,2,3' },
    out: { type: 'string', default: '.bench/cluster.json' },
    smoke: { type: 'boolean', default: false },
  },
});
const smoke = values.smoke;
const seconds = smoke ? 4 : Number(values.seconds);
const nodeCounts = values.nodes.split(',').map(Number);
const STREAMS = smoke ? 12 : 48;
const WRITERS = smoke ? 3 : 12;
const BATCH = 5000;
const STEP = 8_333_333n; // 120 Hz
const log = (s: string) => process.stderr.write(`cluster-bench: ${s}\n`);
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

async function perOpCosts(infra: Infra): Promise<Record<string, { p50: number; p90: number }>> {
  const { ceph } = infra;
  const store = new S3ObjectStore({
    endpoint: ceph.endpoint,
    accessKey: ceph.accessKey,
    secretKey: ceph.secretKey,
    bucket: ceph.bucket,
    prefix: `bench-${Date.now()}/`,
  });
  const n = smoke ? 10 : 50;
  const small = new Uint8Array(4096).fill(7);
  const big = new Uint8Array(1 << 20).fill(9);
  const costs: Record<string, { p50: number; p90: number }> = {
    's3 create 4 KiB': await timed(n, (i) => store.create(`s/${i}`, small)),
    's3 create 1 MiB': await timed(n, (i) => store.create(`b/${i}`, big)),
    's3 ranged get 4 KiB': await timed(n, (i) => store.get(`b/${i}`, { offset: 4096, length: 4096 })),
    's3 list (50 keys)': await timed(Math.min(n, 20), () => store.list('s/')),
  };
  await store.close();
  const pool = new pg.Pool({ connectionString: infra.pg.url });
  pool.on('error', () => undefined); // idle connections cut when the server stops at the end
  await ensureClusterSchema(pool);
  const shard = 1_000_000 + Math.floor(Math.random() * 1000);
  const manifest = await PgRecordLog.open(pool, shard, await takeShard(pool, shard, 'bench'));
  const rec = new Uint8Array(200).fill(3);
  costs['pg fenced manifest commit'] = await timed(n, async () => {
    manifest.append(rec);
    await manifest.sync();
  });
  await pool.end();
  return costs;
}

/** Fenced manifest commits per second one PostgreSQL server takes from 16 shards at once. */
async function pgCommitCapacity(infra: Infra): Promise<number> {
  const pool = new pg.Pool({ connectionString: infra.pg.url, max: 16 });
  pool.on('error', () => undefined); // idle connections cut when the server stops at the end
  await ensureClusterSchema(pool);
  const base = 2_000_000 + Math.floor(Math.random() * 100_000);
  const logs = await Promise.all(
    Array.from({ length: 16 }, async (_, i) =>
      PgRecordLog.open(pool, base + i, await takeShard(pool, base + i, 'bench')),
    ),
  );
  const rec = new Uint8Array(300).fill(5);
  let commits = 0;
  const until = Date.now() + (smoke ? 1000 : 5000);
  const t0 = Date.now();
  await Promise.all(
    logs.map(async (l) => {
      while (Date.now() < until) {
        l.append(rec);
        await l.sync();
        commits++;
      }
    }),
  );
  const perSec = commits / ((Date.now() - t0) / 1000);
  await pool.end();
  return perSec;
}

interface Phase {
  readonly nodes: number;
  readonly ingestPointsPerSec: number;
  readonly ingestCallsPerSec: number;
  readonly insertP50ms: number;
  readonly windowQueriesPerSec: number;
  readonly windowP50ms: number;
  readonly load: string;
}

async function phase(infra: Infra, nodes: number): Promise<Phase> {
  const run = await startNodes(infra, { nodes, shards: 16 });
  try {
    const endpoints = run.nodes.map((n) => n.grpc);
    const clients = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => RemoteBackend.connect(endpoints[i % endpoints.length]!, undefined)),
    );
    const streams = Array.from({ length: STREAMS }, () => randomUUID() as StreamId);
    for (const [i, id] of streams.entries()) {
      await clients[i % clients.length]!.create({
        id,
        collection: 'bench/cluster',
        tags: { name: `s${i}` },
        annotations: {},
      });
    }
    // Ingest: each writer round-robins over its streams with BATCH-point inserts.
    let points = 0;
    let calls = 0;
    const lat: number[] = [];
    const until = Date.now() + seconds * 1000;
    await Promise.all(
      clients.map(async (c, w) => {
        const mine = streams.filter((_, i) => i % WRITERS === w);
        for (let k = 0; Date.now() < until; k++) {
          const id = mine[k % mine.length]!;
          const t0 = BigInt(Math.floor(k / mine.length) * BATCH) * STEP;
          const times = new BigInt64Array(BATCH);
          const vals = new Float64Array(BATCH);
          for (let i = 0; i < BATCH; i++) {
            times[i] = t0 + BigInt(i) * STEP;
            vals[i] = Math.sin(i / 50) * 100;
          }
          const t = performance.now();
          await c.insert(id, { times, values: vals }, 'never');
          lat.push(performance.now() - t);
          points += BATCH;
          calls++;
        }
      }),
    );
    const ingestSecs = seconds;
    // Window queries: 120 windows of 2^36 ns (~69 s) over each stream's data, round-robin.
    let queries = 0;
    const wlat: number[] = [];
    const qUntil = Date.now() + seconds * 1000;
    await Promise.all(
      clients.map(async (c, w) => {
        for (let k = w; Date.now() < qUntil; k += WRITERS) {
          const id = streams[k % streams.length]!;
          const t = performance.now();
          await c.alignedWindows(id, 0n, 120n << 36n, 36, 0);
          wlat.push(performance.now() - t);
          queries++;
        }
      }),
    );
    await Promise.all(clients.map((c) => c.close()));
    return {
      nodes,
      ingestPointsPerSec: points / ingestSecs,
      ingestCallsPerSec: calls / ingestSecs,
      insertP50ms: quantile(lat, 0.5),
      windowQueriesPerSec: queries / seconds,
      windowP50ms: quantile(wlat, 0.5),
      load: load(),
    };
  } finally {
    await run.stop();
  }
}

async function main(): Promise<void> {
  const infra = await startInfra(log);
  try {
    const costs = await perOpCosts(infra);
    log(`per-operation costs (load ${load()}):`);
    for (const [k, v] of Object.entries(costs))
      log(`  ${k.padEnd(28)} p50 ${v.p50.toFixed(1)} ms  p90 ${v.p90.toFixed(1)} ms`);
    const phases: Phase[] = [];
    for (const n of nodeCounts) {
      const p = await phase(infra, n);
      phases.push(p);
      log(
        `${n} node(s): ingest ${(p.ingestPointsPerSec / 1e6).toFixed(2)}M pts/s (${p.ingestCallsPerSec.toFixed(0)} inserts/s of ${BATCH}, p50 ${p.insertP50ms.toFixed(1)} ms), ` +
          `windows ${p.windowQueriesPerSec.toFixed(0)} queries/s (p50 ${p.windowP50ms.toFixed(1)} ms), load ${p.load}`,
      );
    }
    // Paper estimate. Each machine runs a node plus its share of the object store (OSDs and a
    // radosgw scale out with it), so the 1-node figure of this machine — where node, Ceph,
    // PostgreSQL and etcd share 2 cores — is the per-machine rate. What does not scale out is the
    // one PostgreSQL server: every commit of a stream buffer is one fenced transaction there. A
    // stream buffer is committed at 32768 points or after 10 s, so a 120 Hz stream commits every
    // 1200 points (the engine's defaults; raising them moves the bound).
    const one = phases.find((p) => p.nodes === 1) ?? phases[0]!;
    const pgCommitsPerSec = await pgCommitCapacity(infra);
    const pointsPerCommit = 1200;
    const pgBound = pgCommitsPerSec * pointsPerCommit;
    log(`PostgreSQL takes ${pgCommitsPerSec.toFixed(0)} fenced commits/s from 16 shards at once (load ${load()})`);
    const estimate = [10, 100].map((machines) => {
      const nodeBound = machines * one.ingestPointsPerSec;
      return {
        machines,
        nodeBoundPointsPerSec: nodeBound,
        postgresBoundPointsPerSec: pgBound,
        estimate: Math.min(nodeBound, pgBound),
      };
    });
    for (const e of estimate) {
      log(
        `estimate ${e.machines} machines: ${(e.estimate / 1e6).toFixed(1)}M pts/s ` +
          `(nodes ${(e.nodeBoundPointsPerSec / 1e6).toFixed(1)}M; one PostgreSQL, one ${pointsPerCommit}-point stream commit per transaction ${(e.postgresBoundPointsPerSec / 1e6).toFixed(1)}M)`,
      );
    }
    fs.mkdirSync(path.dirname(values.out), { recursive: true });
    fs.writeFileSync(
      values.out,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          smoke,
          seconds,
          streams: STREAMS,
          writers: WRITERS,
          batch: BATCH,
          costs,
          phases,
          pgCommitsPerSec,
          estimate,
        },
        null,
        2,
      ),
    );
    log(`wrote ${values.out}`);
  } finally {
    await infra.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`cluster-bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

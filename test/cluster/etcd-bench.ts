// Measures failure detection and failover on the test etcd cluster (test/cluster/etcd.ts) with the
// cluster-mode membership and election (src/cluster): how long until the others see a SIGKILLed
// node gone, how soon a paused node knows its lease is gone after SIGCONT, how long a new GC
// leader takes after the leader's SIGKILL, and whether killing etcd's raft leader disturbs
// membership. A program, not a test: prints a table with the load average and writes JSON
// (default .bench/cluster-etcd.json).
// Usage: node --import tsx test/cluster/etcd-bench.ts [--n 5] [--ttl 3] [--out FILE]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EtcdClient } from '../../src/cluster/etcd-client.ts';
import { Membership } from '../../src/cluster/membership.ts';
import { startEtcd } from './etcd.ts';
import { startChild } from './etcd-children.ts';

const argv = process.argv.slice(2);
const argOf = (name: string, fallback: string) =>
  argv.includes(name) ? (argv[argv.indexOf(name) + 1] ?? fallback) : fallback;
const N = Number(argOf('--n', '5'));
const TTL = Number(argOf('--ttl', '3'));
const OUT = argOf('--out', '.bench/cluster-etcd.json');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const loadBefore = os.loadavg();
const etcd = await startEtcd({ members: 3 });
const rows: { what: string; n: number; minMs: number; p50Ms: number; maxMs: number; note: string }[] = [];
const add = (what: string, xs: number[], note: string): void => {
  const s = [...xs].sort((a, b) => a - b);
  rows.push({
    what,
    n: s.length,
    minMs: Math.round(s[0] ?? Number.NaN),
    p50Ms: Math.round(s[Math.floor(s.length / 2)] ?? Number.NaN),
    maxMs: Math.round(s.at(-1) ?? Number.NaN),
    note,
  });
};

try {
  const observer = new Membership({
    client: new EtcdClient({ endpoints: etcd.endpoints }),
    cluster: 'bench',
    ttlSeconds: TTL,
  });
  await observer.start();
  const removal: number[] = [];
  const selfDetect: number[] = [];
  const rejoin: number[] = [];
  for (let i = 0; i < N; i++) {
    const id = `node${i}`;
    const c = startChild({ mode: 'member', endpoints: etcd.endpoints, cluster: 'bench', nodeId: id, ttlSeconds: TTL });
    await c.waitFor('joined', 30_000);
    await until('seen', () => observer.memberIds().includes(id), 5000);
    await sleep(300 + 250 * i); // vary the phase against the keepalive period
    let seenGoneAt = 0;
    const onChange = (ids: readonly string[]) => {
      if (!ids.includes(id) && seenGoneAt === 0) seenGoneAt = Date.now();
    };
    observer.on('change', onChange);
    if (i % 2 === 0) {
      const t0 = Date.now();
      await c.kill();
      await until('removed', () => seenGoneAt !== 0, TTL * 1000 + 10_000);
      removal.push(seenGoneAt - t0);
    } else {
      const t0 = Date.now();
      c.pause();
      await until('removed', () => seenGoneAt !== 0, TTL * 1000 + 10_000);
      removal.push(seenGoneAt - t0);
      c.resume();
      const resumed = Date.now();
      const lost = await c.waitFor('lease-lost', 10_000);
      const back = await c.waitFor('rejoined', 10_000);
      selfDetect.push(lost.t - resumed);
      rejoin.push(back.t - resumed);
      await c.kill();
    }
    observer.off('change', onChange);
  }
  add(
    'node SIGKILL/SIGSTOP → others see it gone',
    removal,
    `TTL ${TTL} s, keepalive every ${(TTL / 6).toFixed(2)} s, poll 250 ms`,
  );
  add('paused node: SIGCONT → own lease-lost event', selfDetect, 'paused until the others saw it gone');
  add('paused node: SIGCONT → rejoined', rejoin, 'includes a 300 ms drop-shards hook');

  const failover: number[] = [];
  for (let i = 0; i < N; i++) {
    const cs = ['a', 'b', 'c'].map((id) =>
      startChild({ mode: 'elect', endpoints: etcd.endpoints, cluster: `bench-e${i}`, nodeId: id, ttlSeconds: TTL }),
    );
    await Promise.all(cs.map((c) => c.waitFor('campaigning', 30_000)));
    const leads = (c: (typeof cs)[number]) =>
      c.events.filter((e) => e.ev === 'elected' || e.ev === 'leadership-lost').at(-1)?.ev === 'elected';
    await until('a leader', () => cs.some(leads), 10_000);
    await sleep(250 * i);
    const leader = cs.find(leads)!;
    const t0 = Date.now();
    await leader.kill();
    const rest = cs.filter((c) => c !== leader);
    await until('a new leader', () => rest.some(leads), TTL * 1000 + 10_000);
    failover.push(rest.find(leads)!.events.find((e) => e.ev === 'elected')!.t - t0);
    await Promise.all(cs.map((c) => c.kill()));
  }
  add('GC leader SIGKILL → new leader elected', failover, `TTL ${TTL} s`);

  // etcd raft leader SIGKILL: raft re-election time, and membership changes seen meanwhile.
  const raftElect: number[] = [];
  const gaps: number[] = [];
  let disturbances = 0;
  for (let i = 0; i < Math.min(N, 5); i++) {
    const ms = [0, 1, 2].map(
      () =>
        new Membership({
          client: new EtcdClient({ endpoints: etcd.endpoints }),
          cluster: `bench-r${i}`,
          ttlSeconds: TTL,
        }),
    );
    await Promise.all(ms.map((m, j) => m.join(`n${j}`, { grpc: `h${j}:1` })));
    await until('three', () => ms.every((m) => m.memberIds().length === 3), 5000);
    let counting = true; // until the members leave (their leaving is a change, not a disturbance)
    for (const m of ms) {
      m.on('change', () => counting && disturbances++);
      m.on('lease-lost', () => counting && disturbances++);
    }
    const leaderIndex = async (): Promise<number> => {
      const st = await Promise.all(
        etcd.endpoints.map((e) =>
          fetch(`${e}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(500) })
            .then((r) => r.json() as Promise<{ header?: { member_id?: string }; leader?: string }>)
            .catch(() => ({}) as { header?: { member_id?: string }; leader?: string }),
        ),
      );
      const l = st.find((s) => s.leader !== undefined)?.leader;
      return st.findIndex((s) => s.header?.member_id === l);
    };
    let li = -1;
    while (li < 0) {
      li = await leaderIndex();
      if (li < 0) await sleep(20);
    }
    const t0 = performance.now();
    await etcd.kill(li);
    let ni = -1;
    while (ni < 0 || ni === li) {
      ni = await leaderIndex();
      if (ni < 0 || ni === li) await sleep(20);
    }
    raftElect.push(performance.now() - t0);
    let gap = 0;
    const end = performance.now() + TTL * 1000;
    while (performance.now() < end) {
      for (const m of ms) gap = Math.max(gap, m.sinceRenewalMs() ?? 0);
      await sleep(20);
    }
    gaps.push(gap);
    await etcd.restart(li);
    counting = false;
    await Promise.all(ms.map((m) => m.leave()));
  }
  add('etcd raft leader SIGKILL → new raft leader', raftElect, `membership changes meanwhile: ${disturbances}`);
  add('etcd raft leader SIGKILL → longest renewal gap', gaps, `must stay below the TTL (${TTL} s)`);
  observer.close();
} finally {
  await etcd.stop();
}

const loadAfter = os.loadavg();
console.log(
  `etcd failure detection (load avg before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}, ${os.cpus().length} cores)`,
);
console.log(
  `${'what'.padEnd(46)} ${'n'.padStart(3)} ${'min'.padStart(6)} ${'p50'.padStart(6)} ${'max'.padStart(6)}  note`,
);
for (const r of rows) {
  console.log(
    `${r.what.padEnd(46)} ${String(r.n).padStart(3)} ${String(r.minMs).padStart(6)} ${String(r.p50Ms).padStart(6)} ${String(r.maxMs).padStart(6)}  ${r.note}`,
  );
}
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, `${JSON.stringify({ ttlSeconds: TTL, loadBefore, loadAfter, rows }, null, 2)}\n`);
console.log(`wrote ${OUT}`);

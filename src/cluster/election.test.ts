// Leader election on a real 3-member etcd, candidates as child processes (SIGKILL, SIGSTOP).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type EtcdCluster, startEtcd } from '../../test/cluster/etcd.ts';
import { type EtcdChild, startChild } from '../../test/cluster/etcd-children.ts';
import { Election, electionKey } from './election.ts';
import { EtcdClient } from './etcd-client.ts';

const TTL = 3;
let etcd: EtcdCluster;
let client: EtcdClient;
const cleanup: (() => Promise<void>)[] = [];
before(async () => {
  etcd = await startEtcd({ members: 3 });
  client = new EtcdClient({ endpoints: etcd.endpoints });
});
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
  await etcd?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether `c` currently believes it leads: its last elected/lost event says so. */
function leads(c: EtcdChild): boolean {
  const last = c.events.filter((e) => e.ev === 'elected' || e.ev === 'leadership-lost').at(-1);
  return last?.ev === 'elected';
}

async function holder(cluster: string): Promise<string | null> {
  return (await client.get(electionKey(cluster, 'gc')))?.value ?? null;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await cond())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(20);
  }
  return performance.now() - t0;
}

function candidates(cluster: string): EtcdChild[] {
  const cs = ['a', 'b', 'c'].map((id) =>
    startChild({ mode: 'elect', endpoints: etcd.endpoints, cluster, nodeId: id, ttlSeconds: TTL }),
  );
  for (const c of cs) cleanup.push(() => c.kill());
  return cs;
}

test('exactly one of three candidates leads, and a new one leads after the leader is SIGKILLed', async (t) => {
  const cs = candidates('e1');
  await Promise.all(cs.map((c) => c.waitFor('campaigning', 30_000)));
  await until('one leader', () => cs.some(leads), 5000);
  await sleep(1500); // let every candidate settle: still exactly one
  const leaders = cs.filter(leads);
  assert.equal(leaders.length, 1, JSON.stringify(cs.map((c) => c.events)));
  const first = leaders[0]!;
  assert.equal(await holder('e1'), first.config.nodeId);

  const killedAt = Date.now();
  await first.kill();
  const rest = cs.filter((c) => c !== first);
  await until('a new leader', () => rest.some(leads), TTL * 1000 + 5000);
  const next = rest.find(leads)!;
  const electedAt = next.events.find((e) => e.ev === 'elected')!.t;
  t.diagnostic(
    `new leader ${next.config.nodeId} elected ${electedAt - killedAt} ms after the leader's SIGKILL (TTL ${TTL} s)`,
  );
  assert.ok(electedAt - killedAt <= TTL * 1000 + 1500, `took ${electedAt - killedAt} ms`);
  await sleep(1000);
  assert.equal(rest.filter(leads).length, 1);
  assert.equal(await holder('e1'), next.config.nodeId);
});

test('a paused leader is replaced, and on waking knows at once that it no longer leads', async (t) => {
  const cs = candidates('e2');
  await Promise.all(cs.map((c) => c.waitFor('campaigning', 30_000)));
  await until('one leader', () => cs.some(leads), 5000);
  const first = cs.find(leads)!;
  const rest = cs.filter((c) => c !== first);
  const pausedAt = Date.now();
  first.pause();
  try {
    await until('another leader while the first is paused', () => rest.some(leads), TTL * 1000 + 5000);
    t.diagnostic(`a new leader was elected ${Date.now() - pausedAt} ms after the leader was paused`);
    await sleep(500);
  } finally {
    first.resume();
  }
  const resumedAt = Date.now();
  const from = first.events.length;
  const cont = await first.waitFor('cont', 5000, from);
  const lost = await first.waitFor('leadership-lost', 5000, from);
  assert.equal(cont.leader, false, 'the woken leader still believed it led');
  assert.equal(lost.leader, false);
  t.diagnostic(`the old leader reported leadership-lost ${lost.t - resumedAt} ms after SIGCONT: ${lost.reason}`);
  await sleep(1500);
  const leaders = cs.filter(leads);
  assert.equal(leaders.length, 1, JSON.stringify(cs.map((c) => c.events)));
  assert.notEqual(leaders[0], first);
  assert.equal(await holder('e2'), leaders[0]!.config.nodeId);
});

test('resigning hands leadership to a waiting candidate within a poll period or so', async (t) => {
  const a = new Election({ client: new EtcdClient({ endpoints: etcd.endpoints }), cluster: 'e3', ttlSeconds: TTL });
  const b = new Election({ client: new EtcdClient({ endpoints: etcd.endpoints }), cluster: 'e3', ttlSeconds: TTL });
  cleanup.push(
    () => a.resign(),
    () => b.resign(),
  );
  await a.campaign('gc', 'a');
  assert.equal(a.isLeader(), true);
  await b.campaign('gc', 'b');
  assert.equal(b.isLeader(), false);
  assert.equal(await b.leader(), 'a');
  await assert.rejects(
    a.campaign('gc', 'a'),
    (e: unknown) => e instanceof Error && /already campaigning/.test(e.message),
  );
  const t0 = performance.now();
  await a.resign();
  assert.equal(a.isLeader(), false);
  const ms = await until('b leads', () => b.isLeader(), 3000);
  t.diagnostic(
    `b led ${(performance.now() - t0).toFixed(0)} ms after a resigned (${ms.toFixed(0)} ms after resign returned)`,
  );
  assert.equal(await b.leader(), 'b');
});

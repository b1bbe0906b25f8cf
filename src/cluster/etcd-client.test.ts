// The etcd JSON-gateway client against a real 3-member etcd, checked with etcdctl as the
// independent reference client.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { type EtcdCluster, startEtcd } from '../../test/cluster/etcd.ts';
import { freePort } from '../../test/cluster/ports.ts';
import { isDbError } from '../core/errors.ts';
import { EtcdClient, prefixEnd } from './etcd-client.ts';

let etcd: EtcdCluster;
before(async () => {
  etcd = await startEtcd({ members: 3 });
});
after(async () => {
  await etcd?.stop();
});

function etcdctl(...args: string[]): string {
  const r = spawnSync('etcdctl', ['--endpoints', etcd.endpoints.join(','), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
    timeout: 15_000,
  });
  if (r.error !== undefined) throw new Error(`etcdctl: ${r.error.message}; run bash scripts/cluster/install-deps.sh`);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('prefixEnd is the prefix with its last byte raised, skipping 0xff bytes', () => {
  assert.equal(Buffer.from(prefixEnd('/a/'), 'base64').toString(), '/a0');
  assert.deepEqual([...Buffer.from(prefixEnd('a\u00ff'), 'base64')], [0x61, 0xc3, 0xc0]);
});

test('put, get, prefix range and delete agree with etcdctl', async () => {
  const c = new EtcdClient({ endpoints: etcd.endpoints });
  await c.put('/t1/a', 'alpha');
  await c.put('/t1/b', 'bété ✓');
  await c.put('/t10', 'outside the prefix');
  assert.equal(etcdctl('get', '--print-value-only', '/t1/b').trim(), 'bété ✓');
  etcdctl('put', '/t1/c', 'from-etcdctl');
  const r = await c.range('/t1/', { prefix: true });
  assert.deepEqual(
    r.kvs.map((kv) => [kv.key, kv.value]),
    [
      ['/t1/a', 'alpha'],
      ['/t1/b', 'bété ✓'],
      ['/t1/c', 'from-etcdctl'],
    ],
  );
  assert.ok(r.revision > 0n);
  assert.equal((await c.get('/t1/a'))?.version, 1n);
  assert.equal(await c.get('/t1/missing'), null);
  assert.equal(await c.delete('/t1/', { prefix: true }), 3);
  assert.equal(etcdctl('get', '--prefix', '/t1/').trim(), '');
  assert.equal((await c.get('/t10'))?.value, 'outside the prefix');
});

test('a transaction runs the success branch only when its comparison holds', async () => {
  const c = new EtcdClient({ endpoints: etcd.endpoints });
  const create = () =>
    c.txn(
      [{ key: '/t2/k', target: 'CREATE', result: 'EQUAL', revision: 0n }],
      [{ put: { key: '/t2/k', value: 'first' } }],
      [{ range: { key: '/t2/k' } }],
    );
  const a = await create();
  assert.equal(a.succeeded, true);
  assert.deepEqual(a.responses, [{ kind: 'put' }]);
  const b = await create();
  assert.equal(b.succeeded, false);
  const first = b.responses[0];
  assert.ok(first?.kind === 'range');
  assert.equal(first.kvs[0]?.value, 'first');
  const d = await c.txn(
    [{ key: '/t2/k', target: 'VALUE', result: 'EQUAL', value: 'first' }],
    [{ delete: { key: '/t2/k' } }],
  );
  assert.equal(d.succeeded, true);
  assert.deepEqual(d.responses, [{ kind: 'delete', deleted: 1 }]);
  assert.equal(etcdctl('get', '/t2/k').trim(), '');
});

test('a leased key lives while kept alive and goes with its lease', async () => {
  const c = new EtcdClient({ endpoints: etcd.endpoints });
  const { id, ttlSeconds } = await c.leaseGrant(3);
  assert.equal(ttlSeconds, 3);
  await c.put('/t3/leased', 'x', { lease: id });
  assert.equal((await c.get('/t3/leased'))?.lease, id);
  // etcdctl shows the same lease id (hex) and a positive remaining TTL.
  const ttl = etcdctl('lease', 'timetolive', id.toString(16));
  assert.match(ttl, new RegExp(`lease ${id.toString(16)} granted with TTL\\(3s\\), remaining\\([1-3]s\\)`));
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await c.leaseKeepAlive(id), 3, `keepalive ${i}`);
  }
  assert.equal((await c.get('/t3/leased'))?.value, 'x', 'the key expired though its lease was kept alive');
  assert.equal(await c.leaseRevoke(id), true);
  assert.equal(await c.get('/t3/leased'), null);
  assert.equal(await c.leaseKeepAlive(id), 0, 'a revoked lease was renewed');
  assert.equal(await c.leaseRevoke(id), false);
});

test('a lease that is not renewed expires and its keepalive then answers 0', async () => {
  const c = new EtcdClient({ endpoints: etcd.endpoints });
  const { id } = await c.leaseGrant(1);
  await c.put('/t4/short', 'y', { lease: id });
  const deadline = Date.now() + 10_000;
  while ((await c.get('/t4/short')) !== null) {
    assert.ok(Date.now() < deadline, 'a 1 s lease did not expire within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await c.leaseKeepAlive(id), 0);
});

test('a dead first endpoint is skipped and the next one answers', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const c = new EtcdClient({ endpoints: [dead, ...etcd.endpoints] });
  await c.put('/t5/k', 'v');
  assert.equal((await c.get('/t5/k'))?.value, 'v');
  assert.equal(c.currentEndpoint, etcd.endpoints[0]);
});

test('when no endpoint answers the call fails with 434 naming every endpoint, within its deadlines', async () => {
  const ports = [await freePort(), await freePort()];
  const endpoints = ports.map((p) => `http://127.0.0.1:${p}`);
  const c = new EtcdClient({ endpoints, timeoutMs: 500 });
  const t0 = performance.now();
  await assert.rejects(c.get('/x'), (e: unknown) => {
    assert.ok(isDbError(e, 434), String(e));
    for (const ep of endpoints) assert.ok(e.message.includes(ep), e.message);
    return true;
  });
  assert.ok(performance.now() - t0 < 2 * 500 + 1000);
});

/** The index of a member that is not the raft leader, as etcdctl reports it. */
function aFollower(): number {
  const status = JSON.parse(etcdctl('endpoint', 'status', '--write-out=json')) as {
    Endpoint: string;
    Status: { header: { member_id: number | string }; leader: number | string };
  }[];
  const follower = status.find((s) => String(s.Status.header.member_id) !== String(s.Status.leader));
  assert.ok(follower !== undefined, 'etcdctl reports no follower');
  const i = etcd.endpoints.indexOf(follower.Endpoint);
  assert.ok(i >= 0, `${follower.Endpoint} is not one of ${etcd.endpoints.join(', ')}`);
  return i;
}

test('a paused (hung) member costs one deadline, then the next member answers', async (t) => {
  // A follower is paused: pausing the leader would leave no member able to write until the
  // other two elect a new one (etcd's election timeout exceeds this deadline), which is
  // etcd's availability, not the client's failover, and is covered by the failover runs.
  const paused = aFollower();
  const endpoints = [etcd.endpoints[paused]!, ...etcd.endpoints.filter((_, i) => i !== paused)];
  const c = new EtcdClient({ endpoints, timeoutMs: 700 });
  etcd.pause(paused);
  try {
    const t0 = performance.now();
    await c.put('/t6/k', 'while-paused');
    const ms = performance.now() - t0;
    t.diagnostic(`put with member ${paused} paused took ${ms.toFixed(0)} ms (deadline 700 ms)`);
    assert.ok(ms >= 650, `answered in ${ms} ms: the paused member was not tried first`);
    assert.equal(c.currentEndpoint, endpoints[1]);
    // The next call goes straight to the member that answered.
    const t1 = performance.now();
    assert.equal((await c.get('/t6/k'))?.value, 'while-paused');
    t.diagnostic(`next get took ${(performance.now() - t1).toFixed(0)} ms`);
  } finally {
    etcd.resume(paused);
  }
});

test('an etcd error answer is a DbError 500 naming the endpoint, not retried elsewhere', async () => {
  const c = new EtcdClient({ endpoints: etcd.endpoints });
  await assert.rejects(c.put('/t7/k', 'v', { lease: 12345n }), (e: unknown) => {
    assert.ok(isDbError(e, 500), String(e));
    assert.match(e.message, /lease not found/);
    assert.ok(e.message.includes(etcd.endpoints[0]!), e.message);
    return true;
  });
  await assert.rejects(c.leaseGrant(0), (e: unknown) => isDbError(e, 438));
});

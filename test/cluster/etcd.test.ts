// The etcd test harness itself, checked with etcd's own CLI (etcdctl) as the independent client.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { type EtcdCluster, startEtcd } from './etcd.ts';

function etcdctl(endpoints: readonly string[], ...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('etcdctl', ['--endpoints', endpoints.join(','), '--command-timeout=3s', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
    timeout: 15_000,
  });
  if (r.error !== undefined) {
    throw new Error(`etcdctl not runnable (${r.error.message}); install it with bash scripts/cluster/install-deps.sh`);
  }
  // etcdctl logs retries (e.g. "leader changed") on stderr: only stdout is the answer.
  return { ok: r.status === 0, out: r.status === 0 ? r.stdout : `${r.stdout}${r.stderr}` };
}

let etcd: EtcdCluster;
before(async () => {
  etcd = await startEtcd({ members: 3 });
});
after(async () => {
  await etcd?.stop();
});

test('three members start on distinct loopback ports and form one cluster', () => {
  assert.equal(etcd.endpoints.length, 3);
  assert.equal(new Set(etcd.endpoints).size, 3);
  const list = etcdctl([etcd.endpoints[0]!], 'member', 'list');
  assert.ok(list.ok, list.out);
  assert.equal(list.out.trim().split('\n').length, 3, list.out);
  for (const e of etcd.endpoints) assert.ok(list.out.includes(e), `${e} missing from\n${list.out}`);
});

test('a value written through one member is read through every other member', () => {
  assert.ok(etcdctl([etcd.endpoints[0]!], 'put', 'harness/a', 'one').ok);
  for (const e of etcd.endpoints) {
    const r = etcdctl([e], 'get', '--print-value-only', 'harness/a');
    assert.ok(r.ok, r.out);
    assert.equal(r.out.trim(), 'one');
  }
});

test('a killed member stops answering while the other two keep a quorum, and a restarted one catches up', async () => {
  await etcd.kill(1);
  const down = etcdctl([etcd.endpoints[1]!], 'get', 'harness/a');
  assert.equal(down.ok, false, 'the killed member still answered');
  const w = etcdctl([etcd.endpoints[2]!], 'put', 'harness/b', 'written-while-down');
  assert.ok(w.ok, w.out);
  await etcd.restart(1);
  const r = etcdctl([etcd.endpoints[1]!], 'get', '--print-value-only', 'harness/b');
  assert.ok(r.ok, r.out);
  assert.equal(r.out.trim(), 'written-while-down');
});

test('a paused member times out and answers again once resumed', () => {
  etcd.pause(2);
  try {
    const r = etcdctl([etcd.endpoints[2]!], '--dial-timeout=1s', '--command-timeout=1s', 'get', 'harness/a');
    assert.equal(r.ok, false, 'a SIGSTOPped member answered');
  } finally {
    etcd.resume(2);
  }
  const r = etcdctl([etcd.endpoints[2]!], 'get', '--print-value-only', 'harness/a');
  assert.ok(r.ok, r.out);
  assert.equal(r.out.trim(), 'one');
});

test('a member index outside the cluster is refused', async () => {
  await assert.rejects(etcd.kill(7), RangeError);
});

test('a missing etcd binary fails loudly and names the install script', async () => {
  await assert.rejects(startEtcd({ bin: '/nonexistent/etcd' }), /install-deps\.sh/);
});

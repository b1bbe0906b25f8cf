// The lease keeper against an in-memory etcd lease API whose answers can be delayed, withheld or
// negative. The safety property: the keeper never calls the lease live beyond what an answered
// keepalive proves (its send time + TTL).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import type { LeaseId } from './etcd-client.ts';
import { type LeaseApi, LeaseKeeper } from './lease-keeper.ts';

const TTL_S = 1;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A fake lease service. `provenUntil` is the latest (send time + TTL) of any answered renewal. */
class FakeLeases implements LeaseApi {
  readonly timeoutMs = 2000;
  mode: { kind: 'answer'; delayMs: () => number } | { kind: 'hang' } | { kind: 'gone' } = {
    kind: 'answer',
    delayMs: () => 0,
  };
  provenUntil = 0;
  keepalives = 0;
  revoked: LeaseId[] = [];

  async leaseGrant(ttlSeconds: number): Promise<{ id: LeaseId; ttlSeconds: number }> {
    const sentAt = performance.now();
    this.provenUntil = Math.max(this.provenUntil, sentAt + ttlSeconds * 1000);
    return { id: 7n, ttlSeconds };
  }

  async leaseKeepAlive(_lease: LeaseId): Promise<number> {
    const sentAt = performance.now();
    this.keepalives++;
    const mode = this.mode;
    if (mode.kind === 'hang') return new Promise<number>(() => undefined);
    if (mode.kind === 'gone') return 0;
    await sleep(mode.delayMs());
    this.provenUntil = Math.max(this.provenUntil, sentAt + TTL_S * 1000);
    return TTL_S;
  }

  async leaseRevoke(lease: LeaseId): Promise<boolean> {
    this.revoked.push(lease);
    return true;
  }
}

test('the keeper never calls its lease live beyond the last answered send time plus TTL', async () => {
  const fake = new FakeLeases();
  const delays = [0, 50, 400, 20, 700, 0, 900, 100, 300, 1200, 0, 0];
  let k = 0;
  fake.mode = { kind: 'answer', delayMs: () => delays[k++ % delays.length]! };
  const losses: string[] = [];
  let provenAtLoss = 0;
  const keeper = await LeaseKeeper.grant({
    client: fake,
    ttlSeconds: TTL_S,
    onLost: (r) => {
      losses.push(r);
      provenAtLoss = fake.provenUntil; // renewals answered later (slow ones in flight) prove nothing now
    },
  });
  let samples = 0;
  let liveSamples = 0;
  const end = performance.now() + 4000;
  while (performance.now() < end && losses.length === 0) {
    const now = performance.now();
    if (keeper.isLive()) {
      liveSamples++;
      assert.ok(
        now < fake.provenUntil,
        `live at ${now.toFixed(1)} though proven only until ${fake.provenUntil.toFixed(1)}`,
      );
    }
    samples++;
    await sleep(3);
  }
  // Now etcd stops answering: the loss must come once the proof runs out, not before.
  fake.mode = { kind: 'hang' };
  const hangAt = performance.now();
  while (losses.length === 0) {
    const now = performance.now();
    if (keeper.isLive())
      assert.ok(now < fake.provenUntil, `live at ${now.toFixed(1)}, proven until ${fake.provenUntil}`);
    assert.ok(now - hangAt < 3000, 'no loss reported 3 s after etcd stopped answering (TTL 1 s)');
    await sleep(3);
  }
  assert.ok(performance.now() >= provenAtLoss - 1, 'loss reported while the lease was still proven');
  assert.equal(keeper.isLive(), false);
  assert.equal(losses.length, 1);
  assert.match(losses[0]!, /no keepalive acknowledged/);
  assert.ok(samples > 100 && liveSamples > 0 && fake.keepalives >= 4, `${samples} ${liveSamples} ${fake.keepalives}`);
  await sleep(1500);
  assert.equal(losses.length, 1, 'the loss was reported twice');
});

test('a keepalive answered with TTL 0 reports the loss once and stops renewing', async () => {
  const fake = new FakeLeases();
  const losses: string[] = [];
  const keeper = await LeaseKeeper.grant({ client: fake, ttlSeconds: TTL_S, onLost: (r) => losses.push(r) });
  fake.mode = { kind: 'gone' };
  const t0 = performance.now();
  while (losses.length === 0) {
    assert.ok(performance.now() - t0 < 3000, 'no loss reported');
    await sleep(5);
  }
  assert.deepEqual(losses, ['etcd reports the lease expired']);
  assert.equal(keeper.isLive(), false);
  assert.equal(keeper.lostReason, 'etcd reports the lease expired');
  const sent = fake.keepalives;
  await sleep(800);
  assert.equal(fake.keepalives, sent, 'a lost lease was still renewed');
});

test('a stopped keeper reports nothing and revoke() revokes the lease', async () => {
  const fake = new FakeLeases();
  const losses: string[] = [];
  const keeper = await LeaseKeeper.grant({ client: fake, ttlSeconds: TTL_S, onLost: (r) => losses.push(r) });
  assert.equal(keeper.isLive(), true);
  await keeper.revoke();
  assert.deepEqual(fake.revoked, [7n]);
  assert.equal(keeper.isLive(), false);
  await sleep(1500);
  assert.deepEqual(losses, []);
});

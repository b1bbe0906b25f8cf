import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockStoreConformance } from './block-store.conformance.ts';
import { envConformance } from './env.conformance.ts';
import { errnoOf } from './errno.ts';
import { FaultyEnv } from './faulty-env.ts';
import { MemoryEnv } from './memory-env.ts';
import { recordLogConformance } from './record-log.conformance.ts';
import { seededRng } from './seeded-rng.ts';
import { makeFaultyTestEnv } from './test-envs.ts';

envConformance('faulty', makeFaultyTestEnv);
blockStoreConformance('faulty', makeFaultyTestEnv);
recordLogConformance('faulty', makeFaultyTestEnv);

describe('FaultyEnv failpoints', () => {
  const b = (...v: number[]): Uint8Array => new Uint8Array(v);
  async function setup(): Promise<{ mem: MemoryEnv; env: FaultyEnv }> {
    const mem = new MemoryEnv();
    const env = new FaultyEnv(mem);
    await env.mkdirp('/d');
    return { mem, env };
  }

  it('failOn fails the nth matching call, the given number of times, with the given errno', async () => {
    const { env } = await setup();
    const f = await env.openAppend('/d/f');
    env.failOn('write', { nth: 2, times: 2, errno: 'ENOSPC' });
    await f.write([b(1)]);
    await assert.rejects(f.write([b(2)]), (e) => errnoOf(e) === 'ENOSPC');
    await assert.rejects(f.write([b(2)]), (e) => errnoOf(e) === 'ENOSPC');
    await f.write([b(3)]);
    assert.equal(f.size(), 2);
    assert.equal(env.counts().write, 4);
  });

  it('a path filter limits a failpoint to matching files', async () => {
    const { env } = await setup();
    const a = await env.openAppend('/d/a.log');
    const s = await env.openAppend('/d/b.seg');
    env.failOn('sync', { path: /\.seg$/, times: Number.POSITIVE_INFINITY });
    await a.sync();
    await assert.rejects(s.sync(), (e) => errnoOf(e) === 'EIO');
    await assert.rejects(s.sync(), (e) => errnoOf(e) === 'EIO');
    env.disarm();
    await s.sync();
  });

  it('a torn write stores a prefix and then fails', async () => {
    const { env, mem } = await setup();
    const f = await env.openAppend('/d/f');
    env.tornWrite({ keep: 3 });
    await assert.rejects(f.write([b(1, 2), b(3, 4, 5)]), (e) => errnoOf(e) === 'EIO');
    assert.deepEqual(mem.fileBytes('/d/f'), b(1, 2, 3));
  });

  it('flipBitOnRead corrupts one read; flipStoredBit corrupts every read of that byte', async () => {
    const { env } = await setup();
    await env.writeFileAtomic('/d/f', b(0, 0, 0, 0));
    const f = await env.openRead('/d/f');
    const dst = new Uint8Array(4);
    env.flipBitOnRead({ index: 2, bit: 3 });
    f.read(dst, 0);
    assert.deepEqual(dst, b(0, 0, 8, 0));
    f.read(dst, 0);
    assert.deepEqual(dst, b(0, 0, 0, 0));
    env.flipStoredBit('/d/f', 1, 0);
    f.read(dst, 0);
    assert.deepEqual(dst, b(0, 1, 0, 0));
    assert.deepEqual(await env.readFile('/d/f'), b(0, 1, 0, 0));
    env.reset();
    assert.deepEqual(await env.readFile('/d/f'), b(0, 0, 0, 0));
  });

  it('crashAtStep skips the nth durability step and fails every later call', async () => {
    const { env, mem } = await setup();
    const f = await env.openAppend('/d/f');
    await f.write([b(1)]);
    await f.sync();
    env.crashAtStep(3);
    await env.syncDir('/d');
    await f.write([b(2)]);
    await assert.rejects(f.sync(), /simulated crash at durability step 3/);
    assert.ok(env.crashed);
    assert.equal(env.steps, 3);
    await assert.rejects(f.write([b(3)]), (e) => errnoOf(e) === 'EIO');
    assert.throws(
      () => f.read(new Uint8Array(1), 0),
      (e) => errnoOf(e) === 'EIO',
    );
    mem.crash();
    assert.deepEqual(await mem.readFile('/d/f'), b(1));
  });

  it('writeFileAtomic leaves the old or the new content at every crash point', async () => {
    const { env: probe } = await setup();
    await probe.writeFileAtomic('/d/m', b(1));
    const before = probe.steps;
    await probe.writeFileAtomic('/d/m', b(2, 2));
    const total = probe.steps - before;
    for (let n = 1; n <= total + 1; n++) {
      const { env, mem } = await setup();
      await env.writeFileAtomic('/d/m', b(1));
      env.crashAtStep(env.steps + n);
      await env.writeFileAtomic('/d/m', b(2, 2)).catch(() => {});
      mem.crash({ torn: true, rng: seededRng(n) });
      const got = await mem.readFile('/d/m');
      assert.ok(
        got.length === 1 ? got[0] === 1 : got.length === 2 && got[0] === 2 && got[1] === 2,
        `step ${n}: ${got}`,
      );
    }
  });
});

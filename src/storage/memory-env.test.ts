import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockStoreConformance } from './block-store.conformance.ts';
import { envConformance } from './env.conformance.ts';
import { errnoOf } from './errno.ts';
import { MemoryEnv } from './memory-env.ts';
import { recordLogConformance } from './record-log.conformance.ts';
import { seededRng } from './seeded-rng.ts';
import { makeMemoryTestEnv } from './test-envs.ts';

envConformance('memory', makeMemoryTestEnv);
blockStoreConformance('memory', makeMemoryTestEnv);
recordLogConformance('memory', makeMemoryTestEnv);

describe('MemoryEnv crash model', () => {
  const b = (...v: number[]): Uint8Array => new Uint8Array(v);

  async function fileWith(env: MemoryEnv, path: string, synced: Uint8Array, unsynced: Uint8Array): Promise<void> {
    await env.mkdirp('/d');
    const f = await env.openAppend(path);
    await f.write([synced]);
    await f.sync();
    await env.syncDir('/d');
    await f.write([unsynced]);
  }

  it('a crash keeps synced bytes and drops unsynced ones', async () => {
    const env = new MemoryEnv();
    await fileWith(env, '/d/f', b(1, 2), b(3, 4));
    assert.deepEqual(env.durableBytes('/d/f'), b(1, 2));
    env.crash();
    assert.deepEqual(await env.readFile('/d/f'), b(1, 2));
  });

  it('a file whose directory was not fsynced vanishes, even with synced data', async () => {
    const env = new MemoryEnv();
    await env.mkdirp('/d');
    const f = await env.openAppend('/d/new');
    await f.write([b(1)]);
    await f.sync();
    env.crash();
    assert.deepEqual(await env.list('/d'), []);
  });

  it('renames and removals are durable only after the directory fsync', async () => {
    const env = new MemoryEnv();
    await fileWith(env, '/d/a', b(1), b());
    await env.rename('/d/a', '/d/b');
    env.crash();
    assert.deepEqual(await env.list('/d'), ['a']);
    await env.rename('/d/a', '/d/b');
    await env.syncDir('/d');
    await env.remove('/d/b');
    env.crash();
    assert.deepEqual(await env.list('/d'), ['b']);
    await env.remove('/d/b');
    await env.syncDir('/d');
    env.crash();
    assert.deepEqual(await env.list('/d'), []);
  });

  it('a truncate below the synced size is undone by a crash unless synced', async () => {
    const env = new MemoryEnv();
    await fileWith(env, '/d/f', b(1, 2, 3), b());
    const f = await env.openAppend('/d/f');
    await f.truncate(1);
    await f.write([b(9)]);
    env.crash();
    assert.deepEqual(await env.readFile('/d/f'), b(1, 2, 3));
    const g = await env.openAppend('/d/f');
    await g.truncate(1);
    await g.sync();
    env.crash();
    assert.deepEqual(await env.readFile('/d/f'), b(1));
  });

  it('torn crashes keep part of the unsynced tail: a prefix, garbage or zeros', async () => {
    const tail = new Uint8Array(1000).fill(7);
    for (const torn of ['prefix', 'garbage', 'zeros'] as const) {
      let longest = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const env = new MemoryEnv();
        await fileWith(env, '/d/f', b(1, 2), tail);
        env.crash({ torn, rng: seededRng(seed) });
        const got = await env.readFile('/d/f');
        assert.deepEqual(got.subarray(0, 2), b(1, 2));
        assert.ok(got.length <= 1002);
        longest = Math.max(longest, got.length);
        if (torn === 'prefix') assert.ok(got.subarray(2).every((x) => x === 7));
        if (torn === 'zeros') assert.ok(got.subarray(2).every((x) => x === 7 || x === 0));
      }
      assert.ok(longest > 2, `${torn}: some tail survives`);
    }
  });

  it('handles opened before a crash fail with EBADF', async () => {
    const env = new MemoryEnv();
    await fileWith(env, '/d/f', b(1), b());
    const f = await env.openAppend('/d/f');
    env.crash();
    assert.throws(
      () => f.read(new Uint8Array(1), 0),
      (e) => errnoOf(e) === 'EBADF',
    );
    await assert.rejects(f.write([b(1)]), (e) => errnoOf(e) === 'EBADF');
  });

  it('a write past capacity stores what fits and fails with ENOSPC until space is freed', async () => {
    const env = new MemoryEnv({ capacity: 10 });
    await env.mkdirp('/d');
    const f = await env.openAppend('/d/f');
    await f.write([b(1, 2, 3, 4, 5, 6)]);
    await assert.rejects(f.write([b(1, 2, 3, 4, 5, 6)]), (e) => errnoOf(e) === 'ENOSPC');
    assert.equal(f.size(), 10);
    await f.truncate(6);
    env.capacity = undefined;
    await f.write([b(7, 8, 9, 10, 11, 12)]);
    assert.equal(env.usedBytes(), 12);
  });

  it('corrupt flips stored bits that survive a crash', async () => {
    const env = new MemoryEnv();
    await fileWith(env, '/d/f', b(0, 0), b());
    env.corrupt('/d/f', 1, 0x80);
    env.crash();
    assert.deepEqual(await env.readFile('/d/f'), b(0, 0x80));
  });
});

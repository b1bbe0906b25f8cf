import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DbError, isDbError } from '../core/errors.ts';
import { block } from './block-store.conformance.ts';
import { openBlockStore } from './block-store-open.ts';
import type { Env } from './env.ts';
import { FaultyEnv } from './faulty-env.ts';
import { MemoryEnv } from './memory-env.ts';
import type { BlockRef } from './types.ts';

const DIR = '/db/blocks';
const SEG1 = '/db/blocks/0000000001.seg';
const SEG2 = '/db/blocks/0000000002.seg';

/** A store with `n` synced 3000-byte blocks. */
async function withBlocks<E extends Env>(n: number, env: E) {
  const store = await openBlockStore(env, DIR);
  const refs = Array.from({ length: n }, (_, i) => store.put(block(i)));
  await store.sync();
  return { env, store, refs };
}

const isCorruption = (file: string, offset: number) => (e: unknown) =>
  isDbError(e, 500) && e.location?.file === file && e.location.offset === offset;

describe('BlockStore recovery at open', () => {
  it('a partial record at the end of the last segment is cut off and its addresses are never reused', async () => {
    const { env, store, refs } = await withBlocks(3, new MemoryEnv());
    const tail = store.put(block(3));
    await store.close();
    const f = await env.openAppend(SEG1);
    await f.truncate(tail.addr - 2 ** 32 + 100);
    await f.close();
    const again = await openBlockStore(env, DIR);
    assert.deepEqual(again.recovery.truncated, [{ file: SEG1, from: 16 + 3 * 3008, to: 16 + 3 * 3008 + 100 }]);
    assert.deepEqual(await again.getMany(refs), [block(0), block(1), block(2)]);
    const next = again.put(block(7));
    assert.equal(next.addr, 2 * 2 ** 32 + 16, 'new blocks go to a new segment');
    await again.sync();
    await assert.rejects(again.get(tail), isCorruption(SEG1, tail.addr - 2 ** 32));
    await again.close();
  });

  it('garbage and zeros after the last record are cut off', async () => {
    for (const fill of [0, 0xa5]) {
      const { env, store, refs } = await withBlocks(2, new MemoryEnv());
      await store.close();
      const f = await env.openAppend(SEG1);
      await f.write([new Uint8Array(5000).fill(fill)]);
      await f.close();
      const again = await openBlockStore(env, DIR);
      assert.equal(again.recovery.truncated.length, 1);
      assert.equal(again.segments()[0]?.bytes, 16 + 2 * 3008);
      assert.deepEqual(await again.get(refs[1] as BlockRef), block(1));
      await again.close();
    }
  });

  it('a damaged record with valid records after it is kept, listed, and reported when read', async () => {
    const { env, store, refs } = await withBlocks(3, new MemoryEnv());
    await store.close();
    const victim = refs[1] as BlockRef;
    const offset = victim.addr - 2 ** 32;
    env.corrupt(SEG1, offset + 500);
    const again = await openBlockStore(env, DIR);
    assert.deepEqual(again.recovery.truncated, []);
    assert.equal(again.recovery.damaged[0]?.offset, offset);
    await assert.rejects(again.get(victim), isCorruption(SEG1, offset));
    assert.deepEqual(await again.get(refs[2] as BlockRef), block(2));
    await again.close();
  });

  it('a torn header on a new last segment empties it for reuse', async () => {
    const { env, store, refs } = await withBlocks(1, new MemoryEnv());
    store.rollSegment();
    await store.close();
    const f = await env.openAppend(SEG2);
    await f.truncate(7);
    await f.close();
    const again = await openBlockStore(env, DIR);
    assert.deepEqual(again.recovery.truncated, [{ file: SEG2, from: 0, to: 7 }]);
    const ref = again.put(block(5));
    assert.equal(ref.addr, 2 * 2 ** 32 + 16);
    await again.sync();
    assert.deepEqual(await again.getMany([refs[0] as BlockRef, ref]), [block(0), block(5)]);
    await again.close();
  });

  it('a bad header in an earlier segment fails the open with its location', async () => {
    const { env, store } = await withBlocks(1, new MemoryEnv());
    store.rollSegment();
    await store.close();
    env.corrupt(SEG1, 2);
    await assert.rejects(openBlockStore(env, DIR), isCorruption(SEG1, 0));
  });
});

describe('BlockStore checksums', () => {
  it('a bit flipped on disk is reported by get and getMany with file and offset', async () => {
    const { env, store, refs } = await withBlocks(4, new MemoryEnv());
    const victim = refs[2] as BlockRef;
    const offset = victim.addr - 2 ** 32;
    env.corrupt(SEG1, offset + 8 + 1234, 0x10);
    await assert.rejects(store.get(victim), isCorruption(SEG1, offset));
    await assert.rejects(store.getMany(refs), isCorruption(SEG1, offset));
    await assert.rejects(store.get(victim), /checksum mismatch/);
    assert.deepEqual(await store.get(refs[3] as BlockRef), block(3));
    const problems = await store.verify();
    assert.deepEqual(
      problems.map((p) => [p.file, p.offset]),
      [[SEG1, offset]],
    );
    await store.close();
  });

  it('verify finds nothing wrong in a healthy store', async () => {
    const { store } = await withBlocks(5, new MemoryEnv());
    store.rollSegment();
    store.put(block(9));
    await store.sync();
    assert.deepEqual(await store.verify(), []);
    await store.close();
  });

  it('a bit flipped in the length field is reported, not believed', async () => {
    const { env, store, refs } = await withBlocks(2, new MemoryEnv());
    const victim = refs[1] as BlockRef;
    env.corrupt(SEG1, victim.addr - 2 ** 32 + 1);
    await assert.rejects(store.get(victim), /record length/);
    await store.close();
  });

  it('a bit flipped during a read is caught and the next read succeeds', async () => {
    const faults = new FaultyEnv(new MemoryEnv());
    const { store, refs } = await withBlocks(2, faults);
    faults.flipBitOnRead({ bit: 5 });
    await assert.rejects(store.get(refs[0] as BlockRef), isCorruption(SEG1, 16));
    assert.deepEqual(await store.get(refs[0] as BlockRef), block(0));
    await store.close();
  });

  it('a read error becomes DbError 500 naming the file', async () => {
    const faults = new FaultyEnv(new MemoryEnv());
    const store = await openBlockStore(faults, DIR);
    const ref = store.put(block(1));
    await store.sync();
    faults.failOn('read');
    await assert.rejects(store.get(ref), (e) => isDbError(e, 500) && e.message.includes(SEG1));
    await store.close();
  });
});

describe('BlockStore under write failures', () => {
  it('a full disk surfaces as 426, reads keep working, and sync succeeds once space is freed', async () => {
    const env = new MemoryEnv();
    const { store, refs } = await withBlocks(2, env);
    env.capacity = env.usedBytes() + 4000;
    const more = [2, 3, 4].map((i) => store.put(block(i)));
    await assert.rejects(store.sync(), (e) => isDbError(e, 426) && /out of disk space/.test(e.message));
    assert.equal(env.fileBytes(SEG1).length, 16 + 2 * 3008, 'no half-written record is left');
    assert.deepEqual(
      await store.getMany([...refs, ...more]),
      [0, 1, 2, 3, 4].map((i) => block(i)),
    );
    await assert.rejects(store.sync(), (e) => isDbError(e, 426));
    env.capacity = undefined;
    await store.sync();
    env.crash();
    const again = await openBlockStore(env, DIR);
    assert.deepEqual(
      await again.getMany([...refs, ...more]),
      [0, 1, 2, 3, 4].map((i) => block(i)),
    );
    await again.close();
  });

  it('a torn ENOSPC write and a failed fsync are cut back and rewritten by the next sync', async () => {
    const cases = [
      { arm: (f: FaultyEnv) => f.tornWrite({ errno: 'ENOSPC' }), roll: false },
      { arm: (f: FaultyEnv) => f.failOn('sync'), roll: false },
      { arm: (f: FaultyEnv) => f.failOn('syncDir'), roll: true },
    ];
    for (const { arm, roll } of cases) {
      const mem = new MemoryEnv();
      const faults = new FaultyEnv(mem);
      const store = await openBlockStore(faults, DIR);
      const first = store.put(block(1));
      await store.sync();
      if (roll) store.rollSegment();
      const second = store.put(block(2));
      arm(faults);
      await assert.rejects(store.sync(), (e) => e instanceof DbError && (e.code === 426 || e.code === 500));
      assert.equal(mem.fileBytes(roll ? SEG2 : SEG1).length, roll ? 0 : 16 + 3008, 'cut back to the durable size');
      assert.deepEqual(await store.get(second), block(2));
      await store.sync();
      mem.crash();
      const again = await openBlockStore(mem, DIR);
      assert.deepEqual(await again.getMany([first, second]), [block(1), block(2)]);
      await again.close();
    }
  });

  it('every caller waiting on a failed flush gets its error', async () => {
    const faults = new FaultyEnv(new MemoryEnv());
    const store = await openBlockStore(faults, DIR);
    store.put(block(1));
    faults.failOn('sync', { errno: 'ENOSPC' });
    const results = await Promise.allSettled([store.sync(), store.sync(), store.sync()]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    await store.close();
  });
});

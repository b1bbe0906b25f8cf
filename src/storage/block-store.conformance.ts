/**
 * The BlockStore contract, written once and run against every Env (hono's `runTest` habit).
 * Test support only.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import type { BlockStoreOptions } from './block-store.ts';
import { openBlockStore } from './block-store-open.ts';
import type { MakeTestEnv, TestEnv } from './test-envs.ts';
import type { BlockRef } from './types.ts';

/** A block of `n` bytes whose content depends on `seed`. */
export function block(seed: number, n = 3000): Uint8Array {
  const b = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const SEG = 2 ** 32;

export function blockStoreConformance(kind: string, make: MakeTestEnv): void {
  describe(`BlockStore contract (${kind})`, () => {
    let t: TestEnv;
    const open = (o: BlockStoreOptions = {}) => openBlockStore(t.env, t.dir, o);
    beforeEach(async () => {
      t = await make();
    });
    after(async () => {
      await t.cleanup();
    });

    it('the first block lives in segment 1 just after the header', async () => {
      const s = await open();
      const ref = s.put(block(1, 100));
      assert.deepEqual(ref, { addr: SEG + 16, len: 108 });
      assert.deepEqual(s.put(block(2, 10)), { addr: SEG + 124, len: 18 });
      await s.close();
    });

    it('get serves staged blocks before sync and durable blocks after', async () => {
      const s = await open();
      const ref = s.put(block(3));
      assert.deepEqual(await s.get(ref), block(3));
      await s.sync();
      assert.deepEqual(await s.get(ref), block(3));
      await s.close();
    });

    it('put copies the block so the caller may reuse its buffer', async () => {
      const s = await open();
      const b = block(4, 64);
      const ref = s.put(b);
      b.fill(0);
      assert.deepEqual(await s.get(ref), block(4, 64));
      await s.sync();
      assert.deepEqual(await s.get(ref), block(4, 64));
      await s.close();
    });

    it('blocks survive close and reopen, and new puts go after them', async () => {
      let s = await open();
      const refs = [1, 2, 3].map((i) => s.put(block(i)));
      await s.close();
      s = await open();
      assert.deepEqual(await s.getMany(refs), [block(1), block(2), block(3)]);
      const next = s.put(block(9));
      assert.equal(next.addr, (refs.at(-1)?.addr ?? 0) + 3008);
      await s.sync();
      assert.deepEqual(await s.get(next), block(9));
      assert.deepEqual(s.recovery, { truncated: [], damaged: [], skipped: [] });
      await s.close();
    });

    it('getMany returns blocks in request order with one read per contiguous run', async () => {
      const s = await open();
      const refs: BlockRef[] = [];
      for (let i = 0; i < 2000; i++) refs.push(s.put(block(i)));
      await s.sync();
      const before = s.stats().reads;
      const got = await s.getMany(refs);
      assert.equal(s.stats().reads - before, 2, '6 MB in runs capped at 4 MiB');
      for (let i = 0; i < 2000; i += 97) assert.deepEqual(got[i], block(i));
      const picked = [1500, 3, 3, 999, 0];
      assert.deepEqual(
        await s.getMany(picked.map((i) => refs[i] as BlockRef)),
        picked.map((i) => block(i)),
      );
      await s.close();
    });

    it('getMany mixes staged blocks, durable blocks and several segments', async () => {
      const s = await open({ segmentBytes: 10_000 });
      const refs: BlockRef[] = [];
      for (let i = 0; i < 7; i++) refs.push(s.put(block(i)));
      await s.sync();
      for (let i = 7; i < 10; i++) refs.push(s.put(block(i)));
      const order = [9, 0, 4, 8, 2, 6, 1, 5, 3, 7];
      const got = await s.getMany(order.map((i) => refs[i] as BlockRef));
      assert.deepEqual(
        got,
        order.map((i) => block(i)),
      );
      await s.close();
    });

    it('a segment rolls when the next block would pass segmentBytes', async () => {
      let s = await open({ segmentBytes: 10_000 });
      const refs = [0, 1, 2, 3].map((i) => s.put(block(i)));
      assert.deepEqual(
        refs.map((r) => Math.floor(r.addr / SEG)),
        [1, 1, 1, 2],
      );
      assert.deepEqual(s.segments(), [
        { id: 1, bytes: 16 + 3 * 3008 },
        { id: 2, bytes: 16 + 3008 },
      ]);
      assert.equal(s.bytes(), 32 + 4 * 3008);
      await s.close();
      s = await open({ segmentBytes: 10_000 });
      assert.deepEqual(
        await s.getMany(refs),
        [0, 1, 2, 3].map((i) => block(i)),
      );
      assert.equal(s.bytes(), 32 + 4 * 3008);
      await s.close();
    });

    it('rollSegment starts a new segment and deleteSegments removes old ones', async () => {
      const s = await open();
      const old = s.put(block(1));
      const id = s.rollSegment();
      assert.equal(id, 2);
      const kept = s.put(block(2));
      assert.equal(Math.floor(kept.addr / SEG), 2);
      await s.sync();
      await assert.rejects(s.deleteSegments([2]), (e) => isDbError(e, 500));
      await s.deleteSegments([1, 77]);
      assert.deepEqual(
        s.segments().map((x) => x.id),
        [2],
      );
      await assert.rejects(s.get(old), (e) => isDbError(e, 500) && e.location?.offset === 16);
      assert.deepEqual(await s.get(kept), block(2));
      await s.close();
      const again = await open();
      assert.deepEqual(
        again.segments().map((x) => x.id),
        [2],
      );
      assert.equal(Math.floor(again.put(block(3)).addr / SEG), 2);
      await again.close();
    });

    it('concurrent syncs share fsyncs', async () => {
      const s = await open();
      const before = s.stats().syncs;
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          s.put(block(i, 100));
          return s.sync();
        }),
      );
      assert.ok(s.stats().syncs - before <= 2, `fsyncs: ${s.stats().syncs - before}`);
      await s.sync();
      assert.ok(s.stats().syncs - before <= 2, 'a sync with nothing staged does no I/O');
      await s.close();
    });

    it('refs that cannot name a block are reported as corruption with their location', async () => {
      const s = await open();
      const ref = s.put(block(1, 50));
      await s.sync();
      for (const bad of [
        { addr: ref.addr, len: ref.len + 8 },
        { addr: ref.addr, len: ref.len - 1 },
        { addr: 9 * SEG + 16, len: 58 },
        { addr: ref.addr + 1000, len: 58 },
        { addr: ref.addr, len: 3 },
      ]) {
        await assert.rejects(s.get(bad), (e) => isDbError(e, 500) && e.location !== undefined, JSON.stringify(bad));
      }
      await s.close();
    });

    it('empty and oversized blocks are refused', async () => {
      const s = await open({ maxBlockBytes: 1000 });
      assert.throws(
        () => s.put(new Uint8Array(0)),
        (e) => isDbError(e, 421),
      );
      assert.throws(
        () => s.put(new Uint8Array(1001)),
        (e) => isDbError(e, 414),
      );
      await s.close();
      assert.throws(
        () => s.put(block(1)),
        (e) => isDbError(e, 500),
      );
    });
  });
}

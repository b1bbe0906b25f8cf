import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { block } from './block-store.conformance.ts';
import { MemoryObjectStore } from './memory-object-store.ts';
import {
  encodePartHeader,
  ObjectBlockStore,
  type ObjectBlockStoreOptions,
  PART_HEADER_BYTES,
  partKey,
} from './object-block-store.ts';

const SEG = 2 ** 32;

/** A segment id allocator like the cluster's: a counter shared by every store over one bucket. */
function counter(start = 1): { alloc: (n: number) => Promise<number[]>; calls: number[] } {
  let next = start;
  const calls: number[] = [];
  return {
    calls,
    alloc: async (n) => {
      calls.push(n);
      return Array.from({ length: n }, () => next++);
    },
  };
}

async function open(
  store: MemoryObjectStore,
  o: Partial<ObjectBlockStoreOptions> = {},
  ids = counter(),
): Promise<ObjectBlockStore> {
  return ObjectBlockStore.open(store, { prefix: 'shard/blocks', allocateSegmentIds: ids.alloc, ...o });
}

describe('ObjectBlockStore', () => {
  it('a part header has the golden bytes of docs/format/cluster-objects.md', () => {
    assert.equal(
      Buffer.from(encodePartHeader(7, 0x100, 36)).toString('hex'),
      '417262426c6b5031070000000001000024000000cd69a73a',
    );
    assert.equal(partKey('p', 7, 0x100), 'p/00000007/0000000100');
  });

  it('the first block lives at offset 0 of the first allocated segment, the next right after it', async () => {
    const s = await open(new MemoryObjectStore());
    assert.deepEqual(s.put(block(1, 100)), { addr: SEG, len: 108 });
    assert.deepEqual(s.put(block(2, 10)), { addr: SEG + 108, len: 18 });
    await s.close();
  });

  it('each sync writes the blocks staged since the last one as one part object named by segment and offset', async () => {
    const mem = new MemoryObjectStore();
    const s = await open(mem);
    s.put(block(1, 100));
    s.put(block(2, 50));
    await s.sync();
    s.put(block(3, 20));
    await s.sync();
    await s.sync(); // nothing staged: no object
    assert.deepEqual([...mem.objects.keys()].sort(), [
      'shard/blocks/00000001/0000000000',
      'shard/blocks/00000001/00000000a6',
    ]);
    assert.equal(mem.objects.get(partKey('shard/blocks', 1, 0))?.length, PART_HEADER_BYTES + 108 + 58);
    assert.deepEqual(s.segments(), [{ id: 1, bytes: 108 + 58 + 28 }]);
    await s.close();
  });

  it('get serves staged blocks before sync and durable blocks after', async () => {
    const s = await open(new MemoryObjectStore());
    const ref = s.put(block(3));
    assert.deepEqual(await s.get(ref), block(3));
    await s.sync();
    assert.deepEqual(await s.get(ref), block(3));
    await s.close();
  });

  it('put copies the block so the caller may reuse its buffer', async () => {
    const s = await open(new MemoryObjectStore());
    const b = block(4, 64);
    const ref = s.put(b);
    b.fill(0);
    await s.sync();
    assert.deepEqual(await s.get(ref), block(4, 64));
    await s.close();
  });

  it('blocks survive close and reopen, and new puts go to a fresh segment', async () => {
    const mem = new MemoryObjectStore();
    const ids = counter();
    const a = await open(mem, {}, ids);
    const refs = [a.put(block(1)), a.put(block(2))];
    await a.sync();
    const more = a.put(block(3));
    await a.close();
    const b = await open(mem, {}, ids);
    assert.deepEqual(await b.getMany([...refs, more]), [block(1), block(2), block(3)]);
    const next = b.put(block(4));
    assert.ok(Math.floor(next.addr / SEG) > 1, 'a reopened store never appends to an old segment');
    await b.sync();
    assert.deepEqual(await b.get(next), block(4));
    await b.close();
  });

  it('getMany returns blocks in request order with one GET per run of nearby blocks in one part', async () => {
    const mem = new MemoryObjectStore();
    const s = await open(mem, { readGapBytes: 0 });
    const refs = Array.from({ length: 6 }, (_, i) => s.put(block(i, 100 + i)));
    await s.sync();
    const gets = mem.stats.gets;
    const picked = [refs[4], refs[0], refs[1], refs[5], refs[2]].filter((r) => r !== undefined);
    const got = await s.getMany(picked);
    assert.deepEqual(got, [block(4, 104), block(0, 100), block(1, 101), block(5, 105), block(2, 102)]);
    assert.equal(mem.stats.gets - gets, 2, 'runs 0–2 and 4–5');
    await s.close();
  });

  it('getMany mixes staged blocks, durable blocks, several parts and several segments', async () => {
    const mem = new MemoryObjectStore();
    const s = await open(mem);
    const a = s.put(block(1));
    await s.sync();
    const b = s.put(block(2));
    await s.sync();
    s.rollSegment();
    const c = s.put(block(3));
    await s.sync();
    const d = s.put(block(4));
    assert.deepEqual(await s.getMany([d, c, b, a]), [block(4), block(3), block(2), block(1)]);
    assert.deepEqual(
      s.segments().map((x) => x.id),
      [1, 2],
    );
    await s.close();
  });

  it('a segment rolls when the next block would pass segmentBytes', async () => {
    const s = await open(new MemoryObjectStore(), { segmentBytes: 250 });
    const a = s.put(block(1, 100));
    const b = s.put(block(2, 100));
    const c = s.put(block(3, 100));
    assert.equal(Math.floor(a.addr / SEG), 1);
    assert.equal(Math.floor(b.addr / SEG), 1);
    assert.equal(c.addr, 2 * SEG);
    await s.sync();
    assert.deepEqual(await s.getMany([a, b, c]), [block(1, 100), block(2, 100), block(3, 100)]);
    await s.close();
  });

  it('rollIfUsed keeps an empty active segment and rolls a used one', async () => {
    const s = await open(new MemoryObjectStore());
    const first = s.rollIfUsed();
    assert.equal(s.rollIfUsed(), first);
    s.put(block(1));
    const second = s.rollIfUsed();
    assert.notEqual(second, first);
    assert.equal(s.put(block(2)).addr, second * SEG);
    await s.close();
  });

  it('deleteSegments hands every part key of the segments to retire and forgets them', async () => {
    const mem = new MemoryObjectStore();
    const retired: string[] = [];
    const s = await open(mem, {
      retire: async (keys) => {
        retired.push(...keys);
      },
    });
    const a = s.put(block(1));
    await s.sync();
    s.put(block(2));
    await s.sync();
    s.rollSegment();
    s.put(block(3));
    await s.sync();
    await assert.rejects(s.deleteSegments([2]), (e: unknown) => isDbError(e, 500));
    await s.deleteSegments([1, 99]);
    assert.deepEqual(retired, [partKey('shard/blocks', 1, 0), partKey('shard/blocks', 1, 3008)]);
    assert.equal(mem.objects.size, 3, 'retire decides when objects go');
    assert.deepEqual(
      s.segments().map((x) => x.id),
      [2],
    );
    await assert.rejects(s.get(a), (e: unknown) => isDbError(e, 500));
    await s.close();
  });

  it('deleteSegments deletes the objects at once without a retire hook', async () => {
    const mem = new MemoryObjectStore();
    const s = await open(mem);
    s.put(block(1));
    await s.sync();
    s.rollSegment();
    await s.deleteSegments([1]);
    assert.equal(mem.objects.size, 0);
    await s.close();
  });

  it('concurrent syncs share part objects', async () => {
    const mem = new MemoryObjectStore();
    const s = await open(mem);
    const refs = [];
    const syncs = [];
    for (let i = 0; i < 10; i++) {
      refs.push(s.put(block(i, 50)));
      syncs.push(s.sync());
    }
    await Promise.all(syncs);
    assert.ok(mem.stats.creates <= 2, `${mem.stats.creates} creates for 10 concurrent syncs`);
    assert.deepEqual(
      await s.getMany(refs),
      refs.map((_, i) => block(i, 50)),
    );
    await s.close();
  });

  it('a failed sync keeps the blocks staged and readable, and the next sync writes them', async () => {
    const mem = new MemoryObjectStore();
    const s = await open(mem);
    const ref = s.put(block(1));
    mem.failNext(1, 'throw', ['create']);
    await assert.rejects(s.sync(), (e: unknown) => isDbError(e, 500));
    assert.deepEqual(await s.get(ref), block(1));
    await s.sync();
    const b = await open(mem.peer(), {}, counter(100));
    assert.deepEqual(await b.get(ref), block(1));
    await s.close();
  });

  it('a retried part whose first attempt landed after a timeout is accepted as written', async () => {
    const mem = new MemoryObjectStore();
    const s = await open(mem);
    const ref = s.put(block(1));
    mem.failNext(1, 'land-then-throw', ['create']);
    await assert.rejects(s.sync(), (e: unknown) => isDbError(e, 434));
    await s.sync();
    assert.equal(mem.objects.size, 1);
    assert.deepEqual(await s.get(ref), block(1));
    await s.close();
  });

  it('a part key written by another node fences this store with 453', async () => {
    const mem = new MemoryObjectStore();
    const ids = counter();
    const s = await open(mem, {}, ids);
    s.put(block(1));
    // Another node was (wrongly) given segment 1 too and wrote its first part.
    const other = await open(mem.peer(), {}, counter(1));
    other.put(block(2));
    await other.sync();
    await assert.rejects(s.sync(), (e: unknown) => {
      assert.ok(isDbError(e, 453));
      assert.match(e.message, /already exists: another node wrote this segment; this node no longer owns the shard/);
      assert.match(e.message, /shard\/blocks\/00000001\/0000000000/);
      return true;
    });
  });

  it('a flipped byte in a part is reported as corruption naming the object key and offset', async () => {
    const mem = new MemoryObjectStore();
    const s = await open(mem);
    s.put(block(1, 100));
    const ref = s.put(block(2, 100));
    await s.sync();
    const key = partKey('shard/blocks', 1, 0);
    const obj = mem.objects.get(key);
    assert.ok(obj);
    obj[PART_HEADER_BYTES + 108 + 8 + 50] = (obj[PART_HEADER_BYTES + 108 + 8 + 50] ?? 0) ^ 0x40;
    await assert.rejects(s.get(ref), (e: unknown) => {
      assert.ok(isDbError(e, 500));
      assert.deepEqual(e.location, { file: key, offset: PART_HEADER_BYTES + 108 });
      assert.match(e.message, /checksum mismatch/);
      return true;
    });
    await s.close();
  });

  it('a part object stored under the wrong key is detected by its header', async () => {
    const mem = new MemoryObjectStore();
    const s = await open(mem);
    s.put(block(1, 100));
    await s.sync();
    s.rollSegment();
    const ref = s.put(block(2, 100));
    await s.sync();
    // Swap the two parts' bytes: same sizes, valid records, wrong places.
    const k1 = partKey('shard/blocks', 1, 0);
    const k2 = partKey('shard/blocks', 2, 0);
    const b1 = mem.objects.get(k1);
    const b2 = mem.objects.get(k2);
    assert.ok(b1 && b2);
    mem.objects.set(k1, b2);
    mem.objects.set(k2, b1);
    await assert.rejects(s.get(ref), (e: unknown) => isDbError(e, 500) && /misplaced object/.test(e.message));
    await s.close();
  });

  it('refs that cannot name a block are reported as corruption with their location', async () => {
    const s = await open(new MemoryObjectStore());
    const ref = s.put(block(1, 100));
    await s.sync();
    for (const bad of [
      { addr: 77 * SEG, len: 108 },
      { addr: ref.addr, len: 4 },
      { addr: ref.addr + 4000, len: 108 },
      { addr: ref.addr, len: 109 },
      { addr: 1.5, len: 108 },
    ]) {
      await assert.rejects(
        s.get(bad),
        (e: unknown) => isDbError(e, 500) && e.location !== undefined,
        JSON.stringify(bad),
      );
    }
    await s.close();
  });

  it('empty and oversized blocks are refused', async () => {
    const s = await open(new MemoryObjectStore(), { maxBlockBytes: 100 });
    assert.throws(
      () => s.put(new Uint8Array(0)),
      (e: unknown) => isDbError(e, 421),
    );
    assert.throws(
      () => s.put(new Uint8Array(101)),
      (e: unknown) => isDbError(e, 414),
    );
    await s.close();
  });

  it('a reader opened before the writer wrote finds later parts by listing the segment again', async () => {
    const mem = new MemoryObjectStore();
    const reader = await ObjectBlockStore.open(mem.peer(), { prefix: 'shard/blocks' });
    const w = await open(mem);
    const a = w.put(block(1));
    await w.sync();
    const b = w.put(block(2));
    await w.sync();
    const lists = reader.store instanceof MemoryObjectStore ? reader.store.stats.lists : -1;
    assert.deepEqual(await reader.getMany([b, a]), [block(2), block(1)]);
    assert.equal((reader.store as MemoryObjectStore).stats.lists - lists, 1, 'one listing of the segment');
    assert.throws(
      () => reader.put(block(3)),
      (e: unknown) => isDbError(e, 434),
    );
    await w.close();
  });

  it('ids come from a pool that is refilled in the background; an allocator that fails makes a roll fail with 434', async () => {
    const mem = new MemoryObjectStore();
    const ids = counter();
    const s = await open(mem, { idPool: 2 }, ids);
    assert.deepEqual(ids.calls, [2]);
    s.rollSegment(); // uses id 1, leaving 1: refill
    await s.sync();
    assert.ok(ids.calls.length >= 2);
    let failing = true;
    const flaky = await open(
      mem,
      { prefix: 'other', idPool: 1 },
      {
        calls: [],
        alloc: async (n) => {
          if (failing && n > 0 && mem.objects.size >= 0) {
            failing = false;
            return [500];
          }
          throw new Error('database is down');
        },
      },
    );
    flaky.rollSegment();
    await new Promise((r) => setTimeout(r, 10));
    assert.throws(
      () => flaky.rollSegment(),
      (e: unknown) => isDbError(e, 434) && /database is down/.test(e.message),
    );
    await flaky.close();
    await s.close();
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { MemoryObjectStore } from './memory-object-store.ts';
import {
  encodeWalHeader,
  ObjectRecordLog,
  type ObjectRecordLogOptions,
  WAL_HEADER_BYTES,
  walKey,
} from './object-record-log.ts';
import { rec } from './record-log.conformance.ts';
import type { Lsn } from './types.ts';

const P = 'shard/wal';

function open(
  store: MemoryObjectStore,
  epoch: number,
  o: Partial<ObjectRecordLogOptions> = {},
): Promise<ObjectRecordLog> {
  return ObjectRecordLog.open(store, { prefix: P, epoch, ...o });
}

async function collect(log: ObjectRecordLog, from?: Lsn): Promise<{ lsn: Lsn; payload: Uint8Array }[]> {
  const out: { lsn: Lsn; payload: Uint8Array }[] = [];
  for await (const r of log.replay(from)) out.push({ lsn: r.lsn, payload: r.payload.slice() });
  return out;
}

const keys = (m: MemoryObjectStore): string[] => [...m.objects.keys()].sort();

describe('ObjectRecordLog', () => {
  it('object headers have the golden bytes of docs/format/cluster-objects.md', () => {
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    assert.equal(
      hex(encodeWalHeader({ kind: 1, epoch: 3, seq: 5, start: 4096, floor: 1024 })),
      '41726257616c4f3101000000000000000300000000000000050000000000000000100000000000000004000000000000947cf12a',
    );
    assert.equal(
      hex(encodeWalHeader({ kind: 2, epoch: 3, seq: 6, start: 0, floor: 0 })),
      '41726257616c4f310200000000000000030000000000000006000000000000000000000000000000000000000000000068de7ee8',
    );
    assert.equal(walKey('p', 3, 5), 'p/0000000003/0000000005');
  });

  it('a new log starts at LSN 0 and writes nothing at open', async () => {
    const mem = new MemoryObjectStore();
    const log = await open(mem, 1);
    assert.equal(log.nextLsn, 0);
    assert.equal(log.durableLsn, 0);
    assert.equal(mem.objects.size, 0);
    await log.close();
  });

  it('append returns LSNs at once and one sync writes them all as one object', async () => {
    const mem = new MemoryObjectStore();
    const log = await open(mem, 1);
    const a = log.append(rec(1));
    const b = log.append(rec(2, 10));
    assert.deepEqual([a, b], [0, 72]);
    assert.equal(log.nextLsn, 90);
    assert.equal(log.durableLsn, 0);
    assert.deepEqual(await collect(log), []);
    await log.sync();
    assert.equal(log.durableLsn, 90);
    assert.deepEqual(keys(mem), [walKey(P, 1, 0)]);
    assert.equal(mem.objects.get(walKey(P, 1, 0))?.length, WAL_HEADER_BYTES + 90);
    assert.deepEqual(await collect(log), [
      { lsn: 0, payload: rec(1) },
      { lsn: 72, payload: rec(2, 10) },
    ]);
    await log.close();
  });

  it('replay starts at the first record at or after from', async () => {
    const mem = new MemoryObjectStore();
    const log = await open(mem, 1);
    const lsns = [];
    for (let i = 0; i < 5; i++) {
      lsns.push(log.append(rec(i)));
      await log.sync();
    }
    const from = lsns[2] ?? 0;
    assert.deepEqual(
      (await collect(log, from)).map((r) => r.lsn),
      lsns.slice(2),
    );
    assert.deepEqual(
      (await collect(log, from + 1)).map((r) => r.lsn),
      lsns.slice(3),
    );
    await log.close();
  });

  it('records and LSNs survive close and reopen under a higher epoch, and the LSN stream continues', async () => {
    const mem = new MemoryObjectStore();
    const a = await open(mem, 1);
    a.append(rec(1));
    a.append(rec(2));
    await a.sync();
    a.append(rec(3));
    await a.close();
    const b = await open(mem, 2);
    assert.equal(b.nextLsn, 216);
    assert.deepEqual(
      (await collect(b)).map((r) => r.payload),
      [rec(1), rec(2), rec(3)],
    );
    assert.equal(b.append(rec(4)), 216);
    await b.sync();
    // The takeover sealed epoch 1 at its next four sequence numbers (see sealEpoch).
    assert.deepEqual(keys(mem), [0, 1, 2, 3, 4, 5].map((q) => walKey(P, 1, q)).concat([walKey(P, 2, 0)]));
    assert.deepEqual(
      b.listObjects().map((o) => o.seal),
      [false, false, true, true, true, true, false],
    );
    const c = await open(mem, 3);
    assert.deepEqual(
      (await collect(c)).map((r) => r.lsn),
      [0, 72, 144, 216],
    );
    await b.close();
    await c.close();
  });

  it('reopening in the same epoch continues at the next sequence number', async () => {
    const mem = new MemoryObjectStore();
    const a = await open(mem, 4);
    a.append(rec(1));
    await a.close();
    const b = await open(mem, 4);
    b.append(rec(2));
    await b.sync();
    assert.deepEqual(keys(mem).slice(-2), [walKey(P, 4, 0), walKey(P, 4, 1)]);
    assert.equal((await collect(b)).length, 2);
    await b.close();
  });

  it('concurrent callers share one object (group commit)', async () => {
    const mem = new MemoryObjectStore();
    const log = await open(mem, 1);
    const syncs = [];
    for (let i = 0; i < 20; i++) {
      log.append(rec(i));
      syncs.push(log.sync());
    }
    await Promise.all(syncs);
    assert.ok(mem.stats.creates <= 2, `${mem.stats.creates} objects for 20 concurrent syncs`);
    assert.equal((await collect(log)).length, 20);
    await log.close();
  });

  it('the old owner is fenced after a takeover: its next sync fails with 453 and resume does not clear it', async () => {
    const mem = new MemoryObjectStore();
    const old = await open(mem, 1);
    old.append(rec(1));
    await old.sync();
    const neu = await open(mem.peer(), 2);
    old.append(rec(2));
    await assert.rejects(old.sync(), (e: unknown) => isDbError(e, 453) && /fenced/.test(e.message));
    assert.ok(isDbError(old.failure, 453));
    old.resume();
    assert.ok(isDbError(old.failure, 453));
    assert.throws(
      () => old.append(rec(3)),
      (e: unknown) => isDbError(e, 453),
    );
    assert.deepEqual(
      (await collect(neu)).map((r) => r.payload),
      [rec(1)],
    );
    await neu.close();
    await old.close();
  });

  it('an owner that opened but never wrote is sealed too, so it cannot acknowledge anything later', async () => {
    const mem = new MemoryObjectStore();
    const first = await open(mem, 1);
    first.append(rec(1));
    await first.sync();
    const silent = await open(mem.peer(), 2); // seals epoch 1, writes nothing yet
    const third = await open(mem.peer(), 3); // must seal epoch 2 although it holds no object
    silent.append(rec(2));
    await assert.rejects(silent.sync(), (e: unknown) => isDbError(e, 453));
    assert.deepEqual(
      (await collect(third)).map((r) => r.payload),
      [rec(1)],
    );
    third.append(rec(3));
    await third.sync();
    const fourth = await open(mem.peer(), 9); // epochs 4–8 never existed: sealed as well
    assert.deepEqual(
      (await collect(fourth)).map((r) => r.payload),
      [rec(1), rec(3)],
    );
    assert.ok(keys(mem).includes(walKey(P, 8, 0)));
    for (const l of [first, silent, third, fourth]) await l.close();
  });

  it('an open fails with 453 when a newer epoch already wrote, or when our own epoch was sealed', async () => {
    const mem = new MemoryObjectStore();
    const newer = await open(mem, 5);
    newer.append(rec(1));
    await newer.sync();
    await assert.rejects(open(mem.peer(), 4), (e: unknown) => isDbError(e, 453) && /newer than 4/.test(e.message));
    const mem2 = new MemoryObjectStore();
    await (await open(mem2, 1)).close();
    await (await open(mem2, 2)).close(); // seals epoch 1 (empty) at seq 0
    await assert.rejects(open(mem2.peer(), 1), (e: unknown) => isDbError(e, 453) && /sealed/.test(e.message));
    await newer.close();
  });

  it('takeover race: every record the old owner got an ack for is replayed by the new one, and none after', async () => {
    let ackedDuringOpen = 0;
    for (let round = 0; round < 20; round++) {
      const mem = new MemoryObjectStore();
      const old = await open(mem, 1);
      const acked: number[] = [];
      let fenced: unknown;
      let stop = false;
      const writer = (async () => {
        for (let i = 0; !stop && i < 500; i++) {
          old.append(rec(i, 16));
          try {
            await old.sync();
            acked.push(i);
          } catch (e) {
            fenced = e;
            return;
          }
        }
      })();
      // Let the old owner write a few objects, then take over while it keeps writing.
      for (let k = 0; k < round; k++) await new Promise((r) => setImmediate(r));
      const ackedBeforeOpen = acked.length;
      const neu = await open(mem.peer(), 2);
      ackedDuringOpen += acked.length - ackedBeforeOpen;
      const replayed = (await collect(neu)).map((r) => r.payload);
      const ackedAfterOpen = acked.length;
      await new Promise((r) => setTimeout(r, 5));
      stop = true;
      await writer;
      assert.equal(acked.length, ackedAfterOpen, 'the old owner acknowledged nothing after the new owner opened');
      assert.ok(isDbError(fenced, 453) || acked.length === 500, `round ${round}: the old owner was fenced`);
      assert.deepEqual(
        replayed,
        acked.map((i) => rec(i, 16)),
        `round ${round}`,
      );
      await neu.close();
      await old.close();
    }
    assert.ok(ackedDuringOpen > 0, 'the old owner kept acknowledging while the new one opened (the race happened)');
  });

  it('a failed write discards the staged records; resume reuses their LSNs; an unknown outcome found later fences', async () => {
    const mem = new MemoryObjectStore();
    const log = await open(mem, 1);
    log.append(rec(1));
    await log.sync();
    const lost = log.append(rec(2));
    mem.failNext(1, 'throw', ['create']);
    await assert.rejects(log.sync(), (e: unknown) => isDbError(e, 500));
    assert.ok(isDbError(log.failure, 500));
    assert.throws(
      () => log.append(rec(3)),
      (e: unknown) => isDbError(e, 500),
    );
    assert.equal(log.nextLsn, lost);
    log.resume();
    assert.equal(log.append(rec(4)), lost);
    await log.sync();
    assert.deepEqual(
      (await collect(log)).map((r) => r.payload),
      [rec(1), rec(4)],
    );
    // A write that times out after it landed: the retry of that sequence number finds it taken.
    log.append(rec(5));
    mem.failNext(1, 'land-then-throw', ['create']);
    await assert.rejects(log.sync(), (e: unknown) => isDbError(e, 434));
    log.resume();
    log.append(rec(6));
    await assert.rejects(log.sync(), (e: unknown) => isDbError(e, 453));
    log.resume();
    assert.ok(isDbError(log.failure, 453));
    await log.close();
    // The next owner replays what did land (rec 5): it was never acknowledged, which is allowed.
    const next = await open(mem, 2);
    assert.deepEqual(
      (await collect(next)).map((r) => r.payload),
      [rec(1), rec(4), rec(5)],
    );
    await next.close();
  });

  it('a hanging store makes sync fail with 434 at the deadline', async () => {
    const mem = new MemoryObjectStore(new Map(), { timeoutMs: 20 });
    const log = await open(mem, 1);
    log.append(rec(1));
    mem.failNext(1, 'hang', ['create']);
    await assert.rejects(log.sync(), (e: unknown) => isDbError(e, 434));
    log.resume();
    log.append(rec(2));
    await log.sync();
    assert.equal((await collect(log)).length, 1);
    await log.close();
  });

  it('truncateBefore retires old objects only once a newer object records the floor, and never the newest', async () => {
    const mem = new MemoryObjectStore();
    const retired: string[] = [];
    const log = await open(mem, 1, {
      retire: async (k) => {
        retired.push(...k);
      },
    });
    const lsns = [];
    for (let i = 0; i < 4; i++) {
      lsns.push(log.append(rec(i)));
      await log.sync();
    }
    await log.truncateBefore(lsns[2] ?? 0);
    assert.deepEqual(retired, [], 'the floor is not durable yet');
    log.append(rec(4));
    await log.sync();
    await log.truncateBefore(lsns[2] ?? 0);
    assert.deepEqual(retired, [walKey(P, 1, 0), walKey(P, 1, 1)]);
    await log.truncateBefore(log.durableLsn);
    log.append(rec(5));
    await log.sync();
    await log.truncateBefore(log.durableLsn);
    assert.deepEqual(
      log.listObjects().map((o) => o.key),
      [walKey(P, 1, 5)],
    );
    // Retired objects still exist (a collector deletes them later, in any order): open skips them.
    mem.objects.delete(walKey(P, 1, 3));
    const again = await open(mem.peer(), 2);
    assert.deepEqual(
      (await collect(again)).map((r) => r.payload),
      [rec(5)],
    );
    assert.equal(again.nextLsn, log.durableLsn);
    await again.close();
    await log.close();
  });

  it('a fully truncated log keeps its next LSN across a takeover', async () => {
    const mem = new MemoryObjectStore();
    const a = await open(mem, 1);
    a.append(rec(1));
    await a.sync();
    await a.truncateBefore(a.durableLsn);
    await a.close();
    const b = await open(mem, 2);
    assert.equal(b.nextLsn, 72);
    assert.deepEqual(await collect(b, 72), []);
    await b.close();
  });

  it('a missing object in the needed range is corruption naming the key after the gap', async () => {
    const mem = new MemoryObjectStore();
    const a = await open(mem, 1);
    for (let i = 0; i < 3; i++) {
      a.append(rec(i));
      await a.sync();
    }
    await a.close();
    mem.objects.delete(walKey(P, 1, 1));
    await assert.rejects(open(mem, 2), (e: unknown) => {
      assert.ok(isDbError(e, 500));
      assert.equal(e.location?.file, walKey(P, 1, 2));
      assert.match(e.message, /WAL records are missing/);
      return true;
    });
  });

  it('a flipped byte in a stored object is reported with its key and offset', async () => {
    const mem = new MemoryObjectStore();
    const a = await open(mem, 1);
    a.append(rec(1));
    a.append(rec(2));
    await a.sync();
    await a.close();
    const obj = mem.objects.get(walKey(P, 1, 0));
    assert.ok(obj);
    obj[WAL_HEADER_BYTES + 72 + 8 + 3] = (obj[WAL_HEADER_BYTES + 72 + 8 + 3] ?? 0) ^ 1;
    const b = await open(mem, 2);
    await assert.rejects(collect(b), (e: unknown) => {
      assert.ok(isDbError(e, 500));
      assert.deepEqual(e.location, { file: walKey(P, 1, 0), offset: WAL_HEADER_BYTES + 72 });
      assert.match(e.message, /checksum mismatch/);
      return true;
    });
    obj[5] = (obj[5] ?? 0) ^ 1; // now the header too
    await assert.rejects(open(mem, 3), (e: unknown) => isDbError(e, 500) && e.location?.file === walKey(P, 1, 0));
    await b.close();
  });

  it('locate names the object and the byte offset in it', async () => {
    const mem = new MemoryObjectStore();
    const log = await open(mem, 1);
    log.append(rec(1));
    await log.sync();
    const l = log.append(rec(2));
    await log.sync();
    assert.deepEqual(log.locate(l), { file: walKey(P, 1, 1), offset: WAL_HEADER_BYTES });
    assert.deepEqual(log.locate(l + 10), { file: walKey(P, 1, 1), offset: WAL_HEADER_BYTES + 10 });
    await log.close();
  });

  it('roll makes the staged records durable; empty and oversized records are refused', async () => {
    const mem = new MemoryObjectStore();
    const log = await open(mem, 1, { maxRecordBytes: 100 });
    log.append(rec(1));
    await log.roll();
    assert.equal(log.durableLsn, 72);
    await log.roll();
    assert.equal(mem.objects.size, 1);
    assert.throws(
      () => log.append(new Uint8Array(0)),
      (e: unknown) => isDbError(e, 421),
    );
    assert.throws(
      () => log.append(new Uint8Array(101)),
      (e: unknown) => isDbError(e, 414),
    );
    await log.close();
  });
});

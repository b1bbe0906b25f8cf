import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { FaultyEnv } from './faulty-env.ts';
import { MemoryEnv } from './memory-env.ts';
import { collect, rec } from './record-log.conformance.ts';
import { openRecordLog } from './record-log-open.ts';

const DIR = '/db/wal';
const SEG0 = '/db/wal/0000000000000000.log';

/** A log over `env` with `n` synced 64-byte records; returns their LSNs. */
async function withRecords(n: number, env: MemoryEnv | FaultyEnv = new MemoryEnv(), segmentBytes?: number) {
  const log = await openRecordLog(env, DIR, segmentBytes ? { segmentBytes } : {});
  const lsns = Array.from({ length: n }, (_, i) => log.append(rec(i)));
  await log.sync();
  return { log, lsns };
}

const isCorruption = (file: string, offset: number) => (e: unknown) =>
  isDbError(e, 500) && e.location?.file === file && e.location.offset === offset;

describe('RecordLog recovery at open', () => {
  it('a torn last record (partial, garbage or zeros) is cut off and the next append reuses its LSN', async () => {
    for (const tail of ['partial', 'garbage', 'zeros'] as const) {
      const env = new MemoryEnv();
      const { log, lsns } = await withRecords(3, env);
      const torn = log.append(rec(3));
      await log.close();
      const f = await env.openAppend(SEG0);
      if (tail === 'partial') await f.truncate(torn + 30);
      else {
        await f.truncate(torn);
        await f.write([new Uint8Array(100).map((_, i) => (tail === 'zeros' ? 0 : (i * 37 + 11) & 0xff))]);
      }
      await f.close();
      const again = await openRecordLog(env, DIR);
      assert.equal(again.recovery.truncated[0]?.from, torn, tail);
      assert.deepEqual(
        (await collect(again)).map((r) => r.lsn),
        lsns,
      );
      assert.equal(again.append(rec(9)), torn);
      await again.close();
    }
  });

  it('a damaged record followed by valid ones is corruption, not a torn tail', async () => {
    for (const at of [4, 8 + 20]) {
      const env = new MemoryEnv();
      const { log, lsns } = await withRecords(4, env);
      await log.close();
      const victim = lsns[1] ?? 0;
      env.corrupt(SEG0, victim + at);
      await assert.rejects(openRecordLog(env, DIR), isCorruption(SEG0, victim));
      await assert.rejects(openRecordLog(env, DIR), /a valid record follows/);
    }
  });

  it('a flipped length bit is found by searching for the next valid record', async () => {
    const env = new MemoryEnv();
    const { log, lsns } = await withRecords(4, env);
    await log.close();
    env.corrupt(SEG0, (lsns[1] ?? 0) + 1, 0x01);
    await assert.rejects(openRecordLog(env, DIR), isCorruption(SEG0, lsns[1] ?? 0));
  });

  it('any bad record in an earlier segment is corruption', async () => {
    const env = new MemoryEnv();
    const { log, lsns } = await withRecords(6, env, 300);
    await log.close();
    const last = lsns[2] ?? 0;
    env.corrupt(SEG0, last + 20);
    await assert.rejects(openRecordLog(env, DIR, { segmentBytes: 300 }), isCorruption(SEG0, last));
  });

  it('a damaged final record cannot be told from a torn write and is cut off', async () => {
    const env = new MemoryEnv();
    const { log, lsns } = await withRecords(3, env);
    await log.close();
    env.corrupt(SEG0, (lsns[2] ?? 0) + 20);
    const again = await openRecordLog(env, DIR);
    assert.equal((await collect(again)).length, 2);
    await again.close();
  });

  it('repairTail cuts at the first bad record even when valid ones follow', async () => {
    const env = new MemoryEnv();
    const { log, lsns } = await withRecords(4, env);
    await log.close();
    env.corrupt(SEG0, (lsns[1] ?? 0) + 20);
    const again = await openRecordLog(env, DIR, { repairTail: true });
    assert.deepEqual(
      (await collect(again)).map((r) => r.lsn),
      lsns.slice(0, 1),
    );
    await again.close();
  });

  it('a gap between segments is corruption', async () => {
    const env = new MemoryEnv();
    const { log } = await withRecords(6, env, 300);
    await log.close();
    await env.rename('/db/wal/0000000000000240.log', '/db/wal/0000000000000250.log');
    await assert.rejects(openRecordLog(env, DIR, { segmentBytes: 300 }), /starts at LSN 250/);
  });

  it('a torn header on the last segment empties it and keeps its start LSN', async () => {
    const env = new MemoryEnv();
    const { log, lsns } = await withRecords(2, env);
    await log.roll();
    await log.close();
    const second = `/db/wal/${String(24 + 2 * 72).padStart(16, '0')}.log`;
    const f = await env.openAppend(second);
    await f.truncate(10);
    await f.close();
    const again = await openRecordLog(env, DIR);
    assert.deepEqual(again.recovery.truncated, [{ file: second, from: 0, to: 10 }]);
    assert.equal(again.durableLsn, 24 + 2 * 72 + 24);
    assert.deepEqual(
      (await collect(again)).map((r) => r.lsn),
      lsns,
    );
    await again.close();
  });

  it('a length above maxRecordBytes is not believed', async () => {
    const env = new MemoryEnv();
    const { log, lsns } = await withRecords(3, env);
    await log.close();
    env.corrupt(SEG0, (lsns[1] ?? 0) + 3, 0x40);
    await assert.rejects(openRecordLog(env, DIR, { maxRecordBytes: 1024 }), isCorruption(SEG0, lsns[1] ?? 0));
  });
});

describe('RecordLog under faults', () => {
  it('replay reports a bit that rots after open, with file and offset', async () => {
    const faults = new FaultyEnv(new MemoryEnv());
    const { log, lsns } = await withRecords(3, faults);
    faults.flipStoredBit(SEG0, (lsns[1] ?? 0) + 30);
    await assert.rejects(collect(log), isCorruption(SEG0, lsns[1] ?? 0));
    await log.close();
  });

  it('a full disk is 426, the log stays readable, and a retry after freeing space writes no duplicate', async () => {
    const mem = new MemoryEnv();
    const faults = new FaultyEnv(mem);
    const { log, lsns } = await withRecords(2, faults);
    const pending = [2, 3, 4].map((i) => log.append(rec(i)));
    faults.tornWrite({ errno: 'ENOSPC', times: 2 });
    await assert.rejects(log.sync(), (e) => isDbError(e, 426) && e.message.includes(SEG0));
    await assert.rejects(log.sync(), (e) => isDbError(e, 426));
    assert.equal(mem.fileBytes(SEG0).length, 24 + 2 * 72, 'no half-written record');
    assert.deepEqual(
      (await collect(log)).map((r) => r.lsn),
      lsns,
    );
    await log.sync();
    mem.crash({ torn: true });
    const again = await openRecordLog(mem, DIR);
    assert.deepEqual(
      (await collect(again)).map((r) => r.lsn),
      [...lsns, ...pending],
    );
    await again.close();
  });

  it('a failed fsync is 434 JournalError naming the file, and the next sync rewrites the bytes', async () => {
    const mem = new MemoryEnv();
    const faults = new FaultyEnv(mem);
    const { log } = await withRecords(1, faults);
    const lsn = log.append(rec(7));
    faults.failOn('sync');
    await assert.rejects(log.sync(), (e) => isDbError(e, 434) && e.message.includes(SEG0) && e.cause !== undefined);
    assert.ok(log.durableLsn <= lsn);
    await log.sync();
    mem.crash();
    const again = await openRecordLog(mem, DIR);
    assert.deepEqual((await collect(again)).at(-1), { lsn, payload: rec(7) });
    await again.close();
  });

  it('callers whose records a failed flush covered all get the error', async () => {
    const faults = new FaultyEnv(new MemoryEnv());
    const { log } = await withRecords(0, faults);
    log.append(rec(1));
    faults.failOn('sync', { errno: 'EIO' });
    const results = await Promise.allSettled([log.sync(), log.sync()]);
    assert.ok(results.every((r) => r.status === 'rejected' && isDbError(r.reason, 434)));
    await log.close();
  });
});

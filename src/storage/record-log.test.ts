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

  it('a full disk is 426, the unsynced records are discarded for good, and appends resume after resume()', async () => {
    const mem = new MemoryEnv();
    const faults = new FaultyEnv(mem);
    const { log, lsns } = await withRecords(2, faults);
    const pending = [2, 3, 4].map((i) => log.append(rec(i)));
    faults.tornWrite({ errno: 'ENOSPC' });
    await assert.rejects(log.sync(), (e) => isDbError(e, 426) && e.message.includes(SEG0));
    assert.equal(mem.fileBytes(SEG0).length, 24 + 2 * 72, 'no half-written record');
    assert.ok(isDbError(log.failure, 426), 'the log remembers why it stopped');
    assert.throws(
      () => log.append(rec(9)),
      (e) => isDbError(e, 426) && e.message.includes('refuses appends'),
    );
    assert.equal(log.nextLsn, log.durableLsn, 'nothing staged is left to be written later');
    assert.deepEqual(
      (await collect(log)).map((r) => r.lsn),
      lsns,
    );
    await log.sync(); // nothing to write: the discarded records stay discarded
    log.resume();
    const next = log.append(rec(5));
    assert.equal(next, pending[0], 'the first discarded LSN is reused');
    await log.sync();
    mem.crash({ torn: true });
    const again = await openRecordLog(mem, DIR);
    assert.deepEqual(await collect(again), [
      ...lsns.map((lsn, i) => ({ lsn, payload: rec(i) })),
      { lsn: next, payload: rec(5) },
    ]);
    await again.close();
  });

  it('a failed fsync is 434 JournalError naming the file, and the record it covered is never written', async () => {
    const mem = new MemoryEnv();
    const faults = new FaultyEnv(mem);
    const { log, lsns } = await withRecords(1, faults);
    log.append(rec(7));
    faults.failOn('sync');
    await assert.rejects(log.sync(), (e) => isDbError(e, 434) && e.message.includes(SEG0) && e.cause !== undefined);
    assert.equal(log.durableLsn, log.nextLsn);
    log.resume();
    await log.sync();
    mem.crash();
    const again = await openRecordLog(mem, DIR);
    assert.deepEqual(
      (await collect(again)).map((r) => r.lsn),
      lsns,
    );
    await again.close();
  });

  it('a sync waiting behind a failed flush is rejected too, even if the failed flush did not cover it', async () => {
    const mem = new MemoryEnv();
    const faults = new FaultyEnv(mem);
    const { log, lsns } = await withRecords(1, faults);
    log.append(rec(1));
    faults.failOn('sync', { errno: 'ENOSPC' });
    const first = log.sync();
    log.append(rec(2)); // staged while the first flush runs: not covered by it
    const second = log.sync();
    await assert.rejects(first, (e) => isDbError(e, 426));
    await assert.rejects(second, (e) => isDbError(e, 426));
    log.resume();
    await log.close();
    const again = await openRecordLog(mem, DIR);
    assert.deepEqual(
      (await collect(again)).map((r) => r.lsn),
      lsns,
    );
    await again.close();
  });

  it('a roll whose new segment cannot be written is undone, and a crash before its removal is harmless', async () => {
    for (const crashEarly of [false, true]) {
      const mem = new MemoryEnv();
      const faults = new FaultyEnv(mem);
      const { log, lsns } = await withRecords(2, faults, 200);
      log.append(rec(2)); // rolls: the new segment's file does not exist yet
      assert.equal(log.segments().length, 2);
      const rolledAt = lsns.at(-1)! + 72;
      faults.failOn('sync', { errno: 'ENOSPC', path: `${String(rolledAt).padStart(16, '0')}.log` });
      await assert.rejects(log.sync(), (e) => isDbError(e, 426));
      assert.equal(log.segments().length, 1, 'the unwritten segment is forgotten');
      if (crashEarly) {
        // The empty file's removal was never made durable: it comes back after the crash.
        mem.crash();
        // (Named for a later LSN, as if the roll had happened elsewhere.)
        await mem.openAppend(`${DIR}/${String(rolledAt + 72).padStart(16, '0')}.log`).then((f) => f.close());
      } else {
        log.resume();
        const lsn = log.append(rec(3));
        await log.sync();
        assert.equal(lsn, rolledAt + 24, 'the roll is redone at the same LSN');
        await log.close();
      }
      const again = await openRecordLog(mem, DIR, { segmentBytes: 200 });
      const got = (await collect(again)).map((r) => r.lsn);
      assert.deepEqual(got, crashEarly ? lsns : [...lsns, rolledAt + 24]);
      const more = again.append(rec(4));
      await again.sync();
      assert.deepEqual((await collect(again)).at(-1)?.lsn, more);
      await again.close();
    }
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

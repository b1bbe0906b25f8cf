/** The RecordLog contract, written once and run against every Env. Test support only. */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import type { RecordLogOptions, SegmentedRecordLog } from './record-log.ts';
import { openRecordLog } from './record-log-open.ts';
import type { MakeTestEnv, TestEnv } from './test-envs.ts';
import type { Lsn } from './types.ts';

/** A payload of `n` bytes (default 64) that depends on `i`. */
export const rec = (i: number, n = 64): Uint8Array => new Uint8Array(n).map((_, k) => (i * 31 + k * 7) & 0xff);

export async function collect(
  log: SegmentedRecordLog,
  from?: Lsn,
): Promise<{ readonly lsn: Lsn; readonly payload: Uint8Array }[]> {
  const out: { lsn: Lsn; payload: Uint8Array }[] = [];
  for await (const r of log.replay(from)) out.push({ lsn: r.lsn, payload: r.payload.slice() });
  return out;
}

export function recordLogConformance(kind: string, make: MakeTestEnv): void {
  describe(`RecordLog contract (${kind})`, () => {
    let t: TestEnv;
    const open = (o: RecordLogOptions = {}) => openRecordLog(t.env, t.dir, o);
    beforeEach(async () => {
      t = await make();
    });
    after(async () => {
      await t.cleanup();
    });

    it('a new log starts after its segment header and syncs it at open', async () => {
      const log = await open();
      assert.equal(log.nextLsn, 24);
      assert.equal(log.durableLsn, 24);
      assert.deepEqual(log.segments(), [{ startLsn: 0, bytes: 24 }]);
      await log.close();
    });

    it('append returns LSNs at once and sync makes them durable', async () => {
      const log = await open();
      const a = log.append(rec(1));
      const b = log.append(rec(2, 10));
      assert.deepEqual([a, b], [24, 24 + 72]);
      assert.equal(log.nextLsn, 24 + 72 + 18);
      assert.equal(log.durableLsn, 24);
      assert.deepEqual(await collect(log), []);
      await log.sync();
      assert.equal(log.durableLsn, log.nextLsn);
      assert.deepEqual(await collect(log), [
        { lsn: a, payload: rec(1) },
        { lsn: b, payload: rec(2, 10) },
      ]);
      await log.close();
    });

    it('replay starts at the first record at or after from', async () => {
      const log = await open();
      const lsns = [0, 1, 2, 3].map((i) => log.append(rec(i)));
      await log.sync();
      assert.deepEqual(
        (await collect(log, lsns[2])).map((r) => r.lsn),
        lsns.slice(2),
      );
      assert.deepEqual(
        (await collect(log, (lsns[2] ?? 0) - 1)).map((r) => r.lsn),
        lsns.slice(2),
      );
      assert.deepEqual(await collect(log, log.nextLsn), []);
      await log.close();
    });

    it('records and LSNs survive close and reopen', async () => {
      let log = await open();
      const lsns = [0, 1, 2].map((i) => log.append(rec(i)));
      await log.close();
      log = await open();
      assert.deepEqual(
        (await collect(log)).map((r) => r.lsn),
        lsns,
      );
      assert.equal(log.append(rec(3)), (lsns[2] ?? 0) + 72);
      await log.close();
    });

    it('concurrent callers share fsyncs (group commit)', async () => {
      const log = await open();
      const before = log.stats().syncs;
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => {
          log.append(rec(i));
          return log.sync();
        }),
      );
      assert.ok(log.stats().syncs - before <= 2, `fsyncs: ${log.stats().syncs - before}`);
      assert.equal((await collect(log)).length, 100);
      await log.sync();
      assert.ok(log.stats().syncs - before <= 2, 'nothing staged: no fsync');
      await log.close();
    });

    it('a sync made during a flush waits and one more flush covers its record', async () => {
      const log = await open();
      log.append(rec(1));
      const first = log.sync();
      const lsn = log.append(rec(2));
      const second = log.sync();
      const third = log.sync();
      await Promise.all([first, second, third]);
      assert.ok(log.durableLsn > lsn);
      await log.close();
    });

    it('segments roll at segmentBytes and truncateBefore drops whole old segments', async () => {
      let log = await open({ segmentBytes: 300 });
      const lsns = Array.from({ length: 10 }, (_, i) => log.append(rec(i)));
      await log.sync();
      const segs = log.segments();
      assert.deepEqual(
        segs.map((s) => s.startLsn),
        [0, 240, 480, 720],
      );
      assert.equal(lsns[3], 264);
      await log.truncateBefore(480);
      assert.deepEqual(
        log.segments().map((s) => s.startLsn),
        [480, 720],
      );
      await log.truncateBefore(10_000);
      assert.deepEqual(
        log.segments().map((s) => s.startLsn),
        [720],
      );
      await log.close();
      log = await open({ segmentBytes: 300 });
      assert.deepEqual(
        (await collect(log)).map((r) => r.lsn),
        lsns.slice(9),
      );
      assert.equal(log.nextLsn, 720 + 24 + 72);
      assert.equal(log.bytes(), 24 + 72);
      await log.close();
    });

    it('roll starts a durable new segment at the next LSN, and is a no-op on an empty one', async () => {
      const log = await open();
      log.append(rec(1));
      await log.roll();
      assert.deepEqual(
        log.segments().map((s) => s.startLsn),
        [0, 96],
      );
      assert.equal(log.durableLsn, 120);
      await log.roll();
      assert.equal(log.segments().length, 2);
      assert.equal(log.append(rec(2)), 120);
      await log.close();
    });

    it('empty and oversized records are refused', async () => {
      const log = await open({ maxRecordBytes: 100 });
      assert.throws(
        () => log.append(new Uint8Array(0)),
        (e) => isDbError(e, 421),
      );
      assert.throws(
        () => log.append(new Uint8Array(101)),
        (e) => isDbError(e, 414),
      );
      await log.close();
      assert.throws(
        () => log.append(rec(1)),
        (e) => isDbError(e, 500),
      );
    });
  });
}

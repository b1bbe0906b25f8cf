/**
 * `RecordLog.syncStats()` against independent counts: the fdatasyncs a wrapping Env saw on the
 * log's segment files (file log), the objects the store was asked to create (object log), and the
 * records the test appended and saw acknowledged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultyEnv } from './faulty-env.ts';
import { MemoryEnv } from './memory-env.ts';
import { MemoryObjectStore } from './memory-object-store.ts';
import { ObjectRecordLog } from './object-record-log.ts';
import { rec } from './record-log.conformance.ts';
import { openRecordLog } from './record-log-open.ts';
import { SyncCountingEnv } from './sync-counting-env.ts';

describe('RecordLog sync stats', () => {
  it('file log: syncs are the fdatasyncs of its segments, shared by concurrent callers; records are the acknowledged appends', async () => {
    const env = new SyncCountingEnv(new MemoryEnv());
    const log = await openRecordLog(env, '/db/wal');
    assert.deepEqual(log.syncStats(), { syncs: env.syncsUnder('/db/wal/'), records: 0 });
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      log.append(rec(i));
      waits.push(log.sync());
    }
    await Promise.all(waits);
    for (let i = 0; i < 4; i++) {
      log.append(rec(100 + i));
      await log.sync();
    }
    const s = log.syncStats();
    assert.equal(s.syncs, env.syncsUnder('/db/wal/'));
    assert.equal(s.records, 34);
    // 30 concurrent callers share at most two fsyncs; each of the 4 sequential ones needs its own.
    assert.ok(s.syncs <= 1 + 2 + 4, `${s.syncs} fsyncs`);
    await log.close();
  });

  it('file log: a sync with nothing staged does no I/O and counts nothing', async () => {
    const env = new SyncCountingEnv(new MemoryEnv());
    const log = await openRecordLog(env, '/db/wal');
    log.append(rec(1));
    await log.sync();
    const before = log.syncStats();
    await log.sync();
    await log.sync();
    assert.deepEqual(log.syncStats(), before);
    assert.equal(before.syncs, env.syncsUnder('/db/wal/'));
    await log.close();
  });

  it('file log: records a failed fsync discarded are never counted', async () => {
    const counting = new SyncCountingEnv(new MemoryEnv());
    const faulty = new FaultyEnv(counting);
    const log = await openRecordLog(faulty, '/db/wal');
    log.append(rec(1));
    await log.sync();
    faulty.failOn('sync');
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) {
      log.append(rec(10 + i));
      waits.push(log.sync());
    }
    const outcomes = await Promise.allSettled(waits);
    assert.ok(outcomes.every((o) => o.status === 'rejected'));
    // The failed fdatasync was issued (and counted by the log) but never reached the wrapper.
    assert.deepEqual(log.syncStats(), { syncs: counting.syncsUnder('/db/wal/') + 1, records: 1 });
    log.resume();
    log.append(rec(20));
    await log.sync();
    assert.deepEqual(log.syncStats(), { syncs: counting.syncsUnder('/db/wal/') + 1, records: 2 });
    await log.close();
  });

  it('object log: syncs are the data objects created, records the appends they hold', async () => {
    const store = new MemoryObjectStore();
    const log = await ObjectRecordLog.open(store, { prefix: 'shard/wal', epoch: 1 });
    assert.deepEqual(log.syncStats(), { syncs: 0, records: 0 });
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      log.append(rec(i));
      waits.push(log.sync());
    }
    await Promise.all(waits);
    log.append(rec(99));
    await log.sync();
    const s = log.syncStats();
    assert.equal(s.syncs, store.stats.creates);
    assert.ok(s.syncs < 20, `${s.syncs} objects for 20 concurrent syncs`);
    assert.equal(s.records, 21);
    await log.close();
  });
});

/**
 * The engine's WAL counters against an independent count: an Env wrapper that counts every
 * `sync()` (fdatasync) issued on a file under the WAL directory. Concurrent inserts share the
 * group commit's fsyncs, so `walSyncs` must equal what the wrapper saw — not the number of
 * inserts — and `walSyncedRecords` the number of inserts whose records became durable.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { FaultyEnv } from '../storage/faulty-env.ts';
import { openBlockStore, openRecordLog } from '../storage/index.ts';
import { MemoryEnv } from '../storage/memory-env.ts';
import { SyncCountingEnv } from '../storage/sync-counting-env.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { openEngineStorage } from './open-dir.ts';

const ID = '00000000-0000-4000-8000-0000000000a1' as StreamId;
const OPTS: EngineOptions = { background: false, commitPoints: 1e9 };

/** `n` points starting at time `t0`, one per ns. */
function batch(t0: number, n: number): { times: BigInt64Array; values: Float64Array } {
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    times[i] = BigInt(t0 + i);
    values[i] = t0 + i;
  }
  return { times, values };
}

describe('engine WAL metrics', () => {
  it('50 concurrent inserts: walSyncs equals the fdatasyncs of WAL files, fewer than 50; 50 records synced', async () => {
    const env = new SyncCountingEnv(new MemoryEnv());
    const engine = await Engine.open(await openEngineStorage(env, '/db'), OPTS);
    try {
      await engine.createStream(ID);
      const before = engine.stats();
      const walBefore = env.syncsUnder('/db/wal/');
      assert.equal(before.walSyncs, walBefore, 'syncs at open (segment header) are counted by both');

      await Promise.all(Array.from({ length: 50 }, (_, i) => engine.insert(ID, batch(i * 10, 10))));

      const after = engine.stats();
      const walSyncs = env.syncsUnder('/db/wal/') - walBefore;
      assert.equal(after.walSyncs, env.syncsUnder('/db/wal/'));
      assert.equal(after.walSyncs - before.walSyncs, walSyncs);
      assert.ok(walSyncs >= 1 && walSyncs < 50, `group commit shares fsyncs: ${walSyncs} for 50 inserts`);
      assert.equal(after.walSyncedRecords - before.walSyncedRecords, 50);
      assert.equal(after.walRecords - before.walRecords, 50);
      assert.equal(after.pointsInserted - before.pointsInserted, 500);
    } finally {
      await engine.close();
    }
  });

  it('sequential inserts need one fsync each', async () => {
    const env = new SyncCountingEnv(new MemoryEnv());
    const engine = await Engine.open(await openEngineStorage(env, '/db'), OPTS);
    try {
      await engine.createStream(ID);
      const before = engine.stats();
      for (let i = 0; i < 7; i++) await engine.insert(ID, batch(i * 10, 10));
      const after = engine.stats();
      assert.equal(after.walSyncs - before.walSyncs, 7);
      assert.equal(after.walSyncs, env.syncsUnder('/db/wal/'));
      assert.equal(after.walSyncedRecords - before.walSyncedRecords, 7);
    } finally {
      await engine.close();
    }
  });

  it('a group commit spanning segment rolls counts every segment it syncs', async () => {
    const env = new SyncCountingEnv(new MemoryEnv());
    const storage = {
      blocks: await openBlockStore(env, '/db/blocks'),
      wal: await openRecordLog(env, '/db/wal', { segmentBytes: 4096 }),
      manifest: await openRecordLog(env, '/db/manifest'),
      dir: '/db',
    };
    const engine = await Engine.open(storage, OPTS);
    try {
      await engine.createStream(ID);
      const before = engine.stats();
      // ~100 points per record (> 1 KiB): 40 records fill about ten 4 KiB segments.
      await Promise.all(Array.from({ length: 40 }, (_, i) => engine.insert(ID, batch(i * 1000, 100))));
      const after = engine.stats();
      const segments = (await env.list('/db/wal')).length;
      assert.ok(segments > 3, `the WAL rolled: ${segments} segments`);
      assert.equal(after.walSyncs, env.syncsUnder('/db/wal/'));
      assert.equal(after.walSyncedRecords - before.walSyncedRecords, 40);
    } finally {
      await engine.close();
    }
  });

  it('records discarded by a failed fsync are not counted as synced; the failed fsync is', async () => {
    const counting = new SyncCountingEnv(new MemoryEnv());
    const faulty = new FaultyEnv(counting);
    const engine = await Engine.open(await openEngineStorage(faulty, '/db'), { ...OPTS, readOnlyRetryMs: 0 });
    try {
      await engine.createStream(ID);
      await engine.insert(ID, batch(0, 10));
      const before = engine.stats();
      // The next WAL fdatasync fails (after the wrapper below it saw nothing: FaultyEnv refuses it).
      faulty.failOn('sync', { path: '/db/wal/' });
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) => engine.insert(ID, batch(100 + i * 10, 10))),
      );
      const rejected = results.filter((r) => r.status === 'rejected');
      assert.ok(rejected.length >= 1, 'the inserts covered by the failed fsync are refused');
      for (const r of rejected) assert.ok(isDbError(r.reason), String(r.reason));
      const mid = engine.stats();
      const acked = results.length - rejected.length;
      assert.equal(mid.walSyncedRecords - before.walSyncedRecords, acked);
      // The log counts the fdatasync it issued even though it failed; the wrapper under the
      // FaultyEnv never saw it.
      assert.equal(mid.walSyncs, counting.syncsUnder('/db/wal/') + 1);

      // The engine recovers (retry at once) and the next insert is counted normally.
      await engine.insert(ID, batch(1000, 10));
      const last = engine.stats();
      assert.equal(last.walSyncedRecords - mid.walSyncedRecords, 1);
    } finally {
      await engine.close().catch(() => undefined);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamId } from '../core/types.ts';
import { MemoryEnv } from '../storage/index.ts';
import { Engine } from './engine.ts';
import { openEngineStorage } from './open-dir.ts';

const A = '00000000-0000-4000-8000-0000000000aa' as StreamId;
const B = '00000000-0000-4000-8000-0000000000bb' as StreamId;

const batch = (t: bigint, v: number) => ({ times: BigInt64Array.of(t), values: Float64Array.of(v) });

async function open(): Promise<Engine> {
  return Engine.open(await openEngineStorage(new MemoryEnv(), '/db'), { background: false });
}

describe('engine snapshot', () => {
  it('includes every acknowledged insert, even one still only in the WAL', async () => {
    const e = await open();
    await e.createStream(A);
    await e.createStream(B);
    const va = await e.insert(A, batch(10n, 1));
    const vb = await e.insert(B, batch(20n, 2));
    const snap = await e.snapshot();
    try {
      const byId = new Map(snap.streams.map((s) => [s.id, s]));
      assert.equal(byId.get(A)?.versions.at(-1)?.version, va);
      assert.equal(byId.get(B)?.versions.at(-1)?.version, vb);
      assert.equal(byId.get(A)?.walBound, 0);
      assert.ok(snap.segments.length >= 1);
    } finally {
      snap.release();
    }
    await e.close();
  });

  it('does not change when writes continue after it', async () => {
    const e = await open();
    await e.createStream(A);
    await e.insert(A, batch(10n, 1));
    const snap = await e.snapshot();
    const captured = snap.streams[0]!.versions.map((v) => v.version);
    await e.insert(A, batch(11n, 1));
    await e.flush(A);
    assert.deepEqual(
      snap.streams[0]!.versions.map((v) => v.version),
      captured,
    );
    assert.ok(e.versionsOf(A).length > captured.length);
    snap.release();
    await e.close();
  });

  it('holds compaction off until it is released, while inserts go on', async () => {
    const e = await open();
    await e.createStream(A);
    await e.insert(A, batch(10n, 1));
    await e.flush(A);
    const snap = await e.snapshot();
    let compacted = false;
    const compaction = e.compact({ keepVersions: 1 }).then(() => {
      compacted = true;
    });
    await e.insert(A, batch(12n, 3));
    await e.flush(A);
    await sleep(50);
    assert.equal(compacted, false, 'compaction ran while a snapshot was held');
    snap.release();
    snap.release(); // idempotent
    await compaction;
    assert.equal(compacted, true);
    await e.close();
  });

  it('waits for a running compaction before capturing', async () => {
    const e = await open();
    await e.createStream(A);
    for (let i = 0; i < 5; i++) {
      await e.insert(A, batch(BigInt(i), i));
      await e.flush(A);
    }
    const compaction = e.compact({ keepVersions: 1 });
    const snap = await e.snapshot();
    await compaction;
    // Pruning finished first: the snapshot sees only the kept version.
    assert.equal(snap.streams[0]!.versions.length, 1);
    snap.release();
    await e.close();
  });
});

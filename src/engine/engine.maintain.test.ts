import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { MemoryEnv } from '../storage/index.ts';
import { Engine } from './engine.ts';
import { openEngineStorage } from './open-dir.ts';

const idOf = (i: number) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}` as StreamId;

describe('background maintenance', () => {
  it('commits every aged buffer of a fleet of slow streams, and the data reads back unchanged', async () => {
    let clock = 0;
    const engine = await Engine.open(await openEngineStorage(new MemoryEnv(), '/db'), {
      maxBufferAgeMs: 10_000,
      now: () => clock,
    });
    try {
      const n = 600; // more than one round of the bounded concurrency
      for (let i = 0; i < n; i++) await engine.createStream(idOf(i));
      for (let i = 0; i < n; i++) {
        await engine.insert(idOf(i), { times: BigInt64Array.of(1n, 2n, 3n), values: Float64Array.of(i, i + 1, i + 2) });
      }
      const before = engine.stats().commits;
      clock = 10_000; // every buffer is now due
      const deadline = Date.now() + 10_000;
      while (engine.stats().commits - before < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(engine.stats().commits - before, n, 'one commit per aged stream');
      assert.equal(engine.stats().lastBackgroundError, null);
      for (let i = 0; i < n; i += 37) {
        const got = await engine.valuesArray(idOf(i), 0n, 10n);
        assert.deepEqual([...got.values], [i, i + 1, i + 2]);
      }
    } finally {
      await engine.close();
    }
  });

  it('bounds the points held in memory: commits the largest buffers early, refuses inserts at the limit with 426', async () => {
    let clock = 0;
    const engine = await Engine.open(await openEngineStorage(new MemoryEnv(), '/db'), {
      background: false,
      maxBufferedPoints: 1000,
      now: () => (clock += 1000), // every insert re-sums the buffers
    });
    try {
      for (let i = 0; i < 4; i++) await engine.createStream(idOf(i));
      const batch = (i: number) => ({
        times: BigInt64Array.from({ length: 400 }, (_, k) => BigInt(k)),
        values: Float64Array.from({ length: 400 }, (_, k) => i * 1000 + k),
      });
      const before = engine.stats().commits;
      // Issued together: 0, 400 and 800 buffered points before each of the first three (the third
      // starts early commits: 800 > 500); the fourth sees 1200 ≥ 1000 and is refused.
      const results = await Promise.allSettled([0, 1, 2, 3].map((i) => engine.insert(idOf(i), batch(i))));
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
      );
      const refused = results[3]!;
      assert.ok(refused.status === 'rejected' && isDbError(refused.reason, 426), String(refused));
      assert.match(String((refused as PromiseRejectedResult).reason), /uncommitted points/);
      // The early commits drain the three accepted buffers without waiting for their age (which
      // never comes: no maintenance timer runs); then the refused insert is accepted on retry.
      const deadline = Date.now() + 5000;
      while (engine.stats().commits - before < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(engine.stats().commits - before, 3, 'the three buffers were committed early');
      await engine.insert(idOf(3), batch(3));
      for (let i = 0; i < 4; i++) {
        const got = await engine.valuesArray(idOf(i), 0n, 1000n);
        assert.deepEqual([...got.values], [...batch(i).values], `stream ${i} holds exactly its batch`);
      }
    } finally {
      await engine.close();
    }
  });
});

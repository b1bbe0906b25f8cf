import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { MemoryEnv } from '../storage/index.ts';
import { checkEngine } from './check.ts';
import { versionsToKeep } from './compaction.ts';
import { Engine } from './engine.ts';
import { openEngineStorage } from './open-dir.ts';

const ID = '00000000-0000-4000-8000-0000000000c1' as StreamId;
const ALL: [bigint, bigint] = [-(1n << 60n), 48n << 56n];

async function churn(engine: Engine, rounds: number): Promise<Map<number, number[]>> {
  // Each round rewrites the same 3000 points with new values: old versions become garbage.
  const byVersion = new Map<number, number[]>();
  for (let r = 0; r < rounds; r++) {
    const values = Float64Array.from({ length: 3000 }, (_, i) => r * 10_000 + i);
    const times = BigInt64Array.from({ length: 3000 }, (_, i) => BigInt(i) * 1_000_000n);
    await engine.insert(ID, { times, values }, 'replace');
    const v = await engine.flush(ID);
    byVersion.set(v, Array.from(values));
  }
  return byVersion;
}

async function open(env: MemoryEnv): Promise<Engine> {
  return Engine.open(await openEngineStorage(env, '/db'), { background: false });
}

describe('retention and compaction', () => {
  it('keeps every version by default, and every version still reads its own data after compaction', async () => {
    const env = new MemoryEnv();
    const engine = await open(env);
    await engine.createStream(ID);
    const byVersion = await churn(engine, 8);
    const report = await engine.compact();
    assert.equal(report.streams, 1);
    for (const [v, values] of byVersion) {
      const got = await engine.valuesArray(ID, ...ALL, v);
      assert.deepEqual(Array.from(got.values), values, `version ${v}`);
    }
    await engine.close();
  });

  it('uses up no segment id when nothing was written since the last compaction (ids are finite: 2^21)', async () => {
    const env = new MemoryEnv();
    const engine = await open(env);
    await engine.createStream(ID);
    await churn(engine, 3);
    await engine.compact();
    const ids = () => engine.tree.blocks.segments().map((s) => s.id);
    const after = ids();
    for (let i = 0; i < 20; i++) await engine.compact();
    assert.deepEqual(ids(), after, 'twenty idle compactions left the segments as they were');
    await churn(engine, 1);
    await engine.compact();
    assert.ok(Math.max(...ids()) > Math.max(...after), 'new blocks are sealed by the next compaction');
    assert.deepEqual(Array.from((await engine.valuesArray(ID, ...ALL)).values).slice(0, 3), [0, 1, 2]); // churn(…, 1) wrote round 0 again
    assert.equal((await checkEngine(engine)).problems.length, 0);
    await engine.close();
  });

  it('prunes old versions (450 afterwards), reclaims their space, and keeps the latest data', async () => {
    const env = new MemoryEnv();
    let engine = await open(env);
    await engine.createStream(ID);
    const byVersion = await churn(engine, 12);
    const versions = [...byVersion.keys()];
    const report = await engine.compact({ keepVersions: 2 });
    assert.ok(report.segmentsReclaimed >= 1, JSON.stringify(report));
    assert.ok(report.bytesAfter < report.bytesBefore, JSON.stringify(report));
    await assert.rejects(engine.valuesArray(ID, ...ALL, versions[0]!), (e) => isDbError(e, 450));
    for (const v of versions.slice(-2)) {
      assert.deepEqual(Array.from((await engine.valuesArray(ID, ...ALL, v)).values), byVersion.get(v), `version ${v}`);
    }
    assert.deepEqual((await checkEngine(engine)).problems, []);
    await engine.close();
    engine = await open(env);
    const last = versions.at(-1)!;
    assert.deepEqual(Array.from((await engine.valuesArray(ID, ...ALL)).values), byVersion.get(last));
    assert.deepEqual((await checkEngine(engine)).problems, []);
    await engine.close();
  });

  it('lets a read that began before a compaction finish: emptied segments are retired, deleted later', async () => {
    const env = new MemoryEnv();
    let clock = 1_000_000;
    const engine = await Engine.open(await openEngineStorage(env, '/db'), {
      background: false,
      leafCacheBytes: 1 << 16, // tiny caches: the read must go to the segments
      coreCacheBytes: 1 << 16,
      retireSegmentsMs: 60_000,
      compactBelow: 0.9, // the one segment is half garbage after the replace
      now: () => clock,
    });
    await engine.createStream(ID);
    const n = 200_000;
    const times = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1000n);
    await engine.insert(ID, { times, values: Float64Array.from({ length: n }, (_, i) => i) });
    await engine.flush(ID);
    const reader = engine.values(ID, ...ALL, 0)[Symbol.asyncIterator]();
    const first = await reader.next();
    let got = first.done ? 0 : first.value.times.length;
    let sum = 0;
    if (!first.done) for (const v of first.value.values) sum += v;
    assert.ok(got > 0 && got < n, 'the read is part-way');
    await engine.insert(ID, { times, values: Float64Array.from({ length: n }, () => -1) }, 'replace');
    await engine.flush(ID);
    const report = await engine.compact({ keepVersions: 1 });
    assert.ok(report.segmentsReclaimed >= 1, JSON.stringify(report));
    for (let r = await reader.next(); !r.done; r = await reader.next()) {
      got += r.value.times.length;
      for (const v of r.value.values) sum += v;
    }
    assert.equal(got, n, 'the old version read to its end');
    assert.equal(sum, (n * (n - 1)) / 2, 'with its own values');
    const held = report.bytesAfter;
    clock += 30_000; // not yet: the retired segments stay
    assert.equal((await engine.compact({ keepVersions: 1 })).bytesAfter, held);
    clock += 30_000; // now they go
    assert.ok((await engine.compact({ keepVersions: 1 })).bytesAfter < held, 'retired segments deleted after 60 s');
    assert.deepEqual((await checkEngine(engine)).problems, []);
    assert.deepEqual(Array.from((await engine.valuesArray(ID, 0n, 5000n)).values), [-1, -1, -1, -1, -1]);
    await engine.close();
  });

  it('chooses versions by count and by age, always keeping the latest', () => {
    const vs = [10, 11, 12, 13].map((v, i) => ({ version: v as never, at: 1000 * i }));
    assert.deepEqual([...versionsToKeep(vs, {}, 5000)], [10, 11, 12, 13]);
    assert.deepEqual([...versionsToKeep(vs, { keepVersions: 2 }, 5000)], [12, 13]);
    assert.deepEqual([...versionsToKeep(vs, { maxAgeMs: 2500 }, 4000)], [12, 13]);
    assert.deepEqual([...versionsToKeep(vs, { maxAgeMs: 1 }, 99_999)], [13]);
  });
});

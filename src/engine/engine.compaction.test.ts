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

  it('chooses versions by count and by age, always keeping the latest', () => {
    const vs = [10, 11, 12, 13].map((v, i) => ({ version: v as never, at: 1000 * i }));
    assert.deepEqual([...versionsToKeep(vs, {}, 5000)], [10, 11, 12, 13]);
    assert.deepEqual([...versionsToKeep(vs, { keepVersions: 2 }, 5000)], [12, 13]);
    assert.deepEqual([...versionsToKeep(vs, { maxAgeMs: 2500 }, 4000)], [12, 13]);
    assert.deepEqual([...versionsToKeep(vs, { maxAgeMs: 1 }, 99_999)], [13]);
  });
});

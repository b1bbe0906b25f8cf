/**
 * Model-based test of the engine (STYLE habit 8): seeded random sequences of inserts (all merge
 * policies, duplicates, out-of-order, clustered), deletes, flushes and every query, each checked
 * against the independent reference model in test/model — at the latest version and at older
 * retained versions — with reopen (recovery) in between and the verifier clean at the end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32, randomOps } from '../../test/model/random-ops.ts';
import { assertPointsEqual, assertStatsEqual, ReferenceStream } from '../../test/model/reference-stream.ts';
import { isDbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { MemoryEnv } from '../storage/index.ts';
import { checkEngine } from './check.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { openEngineStorage } from './open-dir.ts';

const ID = '00000000-0000-4000-8000-000000000001' as StreamId;
const SEEDS = Number(process.env.ARBOR_MODEL_SEEDS ?? 10);
const OPS = Number(process.env.ARBOR_MODEL_OPS ?? 400);

async function openOn(env: MemoryEnv, opts: EngineOptions): Promise<Engine> {
  return Engine.open(await openEngineStorage(env, '/db'), { background: false, ...opts });
}

async function runSeed(seed: number, opts: EngineOptions): Promise<{ checked: number; oldChecked: number }> {
  const env = new MemoryEnv();
  let engine = await openOn(env, opts);
  await engine.createStream(ID);
  const model = new ReferenceStream();
  const snapshots = new Map<number, ReferenceStream>();
  snapshots.set((await engine.info(ID)).version, model.snapshot());
  const rnd = mulberry32(seed * 31 + 7);
  const ops = randomOps(seed, OPS);
  const record = (): void => {
    const v = engine.versionsOf(ID).at(-1)!.version;
    if (!snapshots.has(v)) snapshots.set(v, model.snapshot());
  };
  let checked = 0;
  let oldChecked = 0;
  for (const [n, op] of ops.entries()) {
    const ctx = `seed ${seed} op ${n} (${op.kind})`;
    if (op.kind === 'insert') {
      const v = await engine.insert(
        ID,
        { times: BigInt64Array.from(op.points.map((p) => p.t)), values: Float64Array.from(op.points.map((p) => p.v)) },
        op.policy,
      );
      model.insert(op.points, op.policy);
      // The version an insert hands out must read back exactly this state (or 450 once folded).
      snapshots.set(v, model.snapshot());
      continue;
    }
    if (op.kind === 'delete') {
      await engine.delete(ID, op.start, op.end);
      model.deleteRange(op.start, op.end);
      record();
      continue;
    }
    if (op.kind === 'flush') {
      await engine.flush(ID);
      record();
      if (rnd() < 0.15) {
        await engine.close();
        engine = await openOn(env, opts);
      }
      continue;
    }
    // A query: at the latest version, or at a random older retained version.
    let version = 0;
    let ref = model;
    if (op.version === 'old' && snapshots.size > 1) {
      const keys = [...snapshots.keys()];
      version = keys[Math.floor(rnd() * keys.length)]!;
      ref = snapshots.get(version)!;
    }
    checked++;
    try {
      await engine.resolve(ID, version);
    } catch (e) {
      if (!isDbError(e, 450)) throw e;
      const retained = engine.versionsOf(ID).map((x) => x.version as number);
      assert.ok(!retained.includes(version), `${ctx}: 450 for retained version ${version}`);
      assert.ok(version < Math.max(...retained), `${ctx}: 450 for version ${version} that was never folded`);
      snapshots.delete(version);
      continue;
    }
    if (version !== 0) oldChecked++;
    switch (op.kind) {
      case 'values': {
        const got = await engine.valuesArray(ID, op.start, op.end, version);
        assertPointsEqual(got, ref.values(op.start, op.end), ctx);
        break;
      }
      case 'count':
        assert.equal((await engine.count(ID, op.start, op.end, version)).count, ref.count(op.start, op.end), ctx);
        break;
      case 'aligned': {
        const got = await engine.alignedWindows(ID, op.start, op.end, op.pw, version);
        assertStatsEqual(got.windows, ref.alignedWindows(op.start, op.end, op.pw), `${ctx} pw ${op.pw}`);
        break;
      }
      case 'windows': {
        const got = await engine.windows(ID, op.start, op.end, op.width, 0, version);
        assertStatsEqual(got.windows, ref.windows(op.start, op.end, op.width), `${ctx} width ${op.width}`);
        break;
      }
      case 'nearest': {
        const want = ref.nearest(op.time, op.backward);
        try {
          const got = await engine.nearest(ID, op.time, op.backward, version);
          assert.ok(want, `${ctx}: engine found ${got.time} but the model found nothing`);
          assert.equal(got.time, want.t, ctx);
          assert.ok(Object.is(got.value, want.v), `${ctx}: value ${got.value} ≠ ${want.v}`);
        } catch (e) {
          if (!isDbError(e, 401)) throw e;
          assert.equal(want, undefined, `${ctx}: engine said no point, model has ${want?.t}`);
        }
        break;
      }
    }
    if (version === 0) record();
  }
  await engine.flush(ID);
  const report = await checkEngine(engine);
  assert.deepEqual(report.problems, [], `seed ${seed}: verifier problems`);
  assertPointsEqual(await engine.valuesArray(ID, -(1n << 60n), 48n << 56n), model.all(), `seed ${seed} final`);
  await engine.close();
  return { checked, oldChecked };
}

describe('engine against the reference model', () => {
  it(`agrees on ${SEEDS} random sequences of ${OPS} operations with default commit sizes`, async () => {
    let queries = 0;
    let old = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await runSeed(seed, {});
      queries += r.checked;
      old += r.oldChecked;
    }
    assert.ok(queries > SEEDS * 10, `only ${queries} queries were checked`);
    assert.ok(old > SEEDS * 3, `only ${old} queries at older versions were checked`);
  });

  it('agrees when every insert commits at once and buffers are tiny', async () => {
    for (let seed = 101; seed <= 100 + Math.ceil(SEEDS / 2); seed++) {
      await runSeed(seed, { commitPoints: 7, directInsertPoints: 50 });
    }
  });
});

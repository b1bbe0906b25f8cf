/**
 * Crash and fault tests of the engine on the in-memory file system. The workload is run once per
 * durability step N with a crash injected at step N (and with torn tails of unsynced writes); the
 * engine is then reopened and must hold exactly the acknowledged data — possibly plus the one
 * operation that was in flight — with the verifier clean. Disk-full, failed fsync and bit flips are
 * tested separately.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertPointsEqual, ReferenceStream, type RefPoint } from '../../test/model/reference-stream.ts';
import { isDbError } from '../core/errors.ts';
import type { MergePolicy, StreamId } from '../core/types.ts';
import { FaultyEnv, MemoryEnv, seededRng } from '../storage/index.ts';
import { checkEngine } from './check.ts';
import { Engine } from './engine.ts';
import { openEngineStorage } from './open-dir.ts';

const A = '00000000-0000-4000-8000-00000000000a' as StreamId;
const B = '00000000-0000-4000-8000-00000000000b' as StreamId;
const ALL: [bigint, bigint] = [-(1n << 60n), 48n << 56n];
const OPTS = { background: false, commitPoints: 300, directInsertPoints: 2000, readOnlyRetryMs: 0 } as const;

type Step =
  | { kind: 'create'; id: StreamId }
  | { kind: 'insert'; id: StreamId; points: RefPoint[]; policy: MergePolicy }
  | { kind: 'delete'; id: StreamId; start: bigint; end: bigint }
  | { kind: 'flush'; id: StreamId }
  | { kind: 'obliterate'; id: StreamId };

function workload(seed: number): Step[] {
  const rnd = seededRng(seed);
  const steps: Step[] = [
    { kind: 'create', id: A },
    { kind: 'create', id: B },
  ];
  let t = 1_700_000_000_000_000_000n;
  for (let i = 0; i < 14; i++) {
    const id = rnd() < 0.5 ? A : B;
    const r = rnd();
    if (r < 0.65) {
      const n = rnd() < 0.2 ? 2500 : 1 + Math.floor(rnd() * 400);
      const points: RefPoint[] = [];
      for (let k = 0; k < n; k++) {
        t += BigInt(1 + Math.floor(rnd() * 5_000_000));
        points.push({ t: rnd() < 0.1 ? t - 40_000_000n : t, v: Math.round(rnd() * 1000) / 8 });
      }
      const policy = (['never', 'equal', 'retain', 'replace'] as const)[Math.floor(rnd() * 4)]!;
      steps.push({ kind: 'insert', id, points, policy });
    } else if (r < 0.8) {
      steps.push({ kind: 'delete', id, start: t - 900_000_000n, end: t - 300_000_000n });
    } else steps.push({ kind: 'flush', id });
  }
  steps.push({ kind: 'obliterate', id: B });
  steps.push({ kind: 'insert', id: A, points: [{ t: t + 1n, v: 1 }], policy: 'never' });
  return steps;
}

type Models = Map<StreamId, ReferenceStream>;

function apply(models: Models, s: Step): void {
  if (s.kind === 'create') models.set(s.id, new ReferenceStream());
  else if (s.kind === 'obliterate') models.delete(s.id);
  else if (s.kind === 'insert') models.get(s.id)!.insert(s.points, s.policy);
  else if (s.kind === 'delete') models.get(s.id)!.deleteRange(s.start, s.end);
}

const copy = (m: Models): Models => new Map([...m].map(([k, v]) => [k, v.snapshot()]));

async function run(engine: Engine, s: Step): Promise<void> {
  if (s.kind === 'create') await engine.createStream(s.id);
  else if (s.kind === 'obliterate') await engine.obliterate(s.id);
  else if (s.kind === 'flush') await engine.flush(s.id);
  else if (s.kind === 'delete') await engine.delete(s.id, s.start, s.end);
  else {
    const batch = {
      times: BigInt64Array.from(s.points.map((p) => p.t)),
      values: Float64Array.from(s.points.map((p) => p.v)),
    };
    await engine.insert(s.id, batch, s.policy);
  }
}

async function matches(engine: Engine, m: Models): Promise<string | null> {
  for (const id of [A, B]) {
    const want = m.get(id);
    if (engine.hasStream(id) !== (want !== undefined)) return `stream ${id} exists=${engine.hasStream(id)}`;
    if (!want) continue;
    const got = await engine.valuesArray(id, ...ALL);
    try {
      assertPointsEqual(got, want.all(), id);
    } catch (e) {
      return (e as Error).message.slice(0, 300);
    }
  }
  return null;
}

/** Run the workload with a crash at durability step `crashAt`; return what recovery must show. */
async function crashRun(seed: number, crashAt: number, torn: 'prefix' | 'garbage' | false) {
  const mem = new MemoryEnv();
  const faulty = new FaultyEnv(mem);
  faulty.crashAtStep(crashAt);
  const acked: Models = new Map();
  let inFlight: Models | null = null;
  let crashed = false;
  try {
    const engine = await Engine.open(await openEngineStorage(faulty, '/db'), OPTS);
    for (const s of workload(seed)) {
      inFlight = copy(acked);
      apply(inFlight, s);
      await run(engine, s);
      apply(acked, s);
      inFlight = null;
    }
    await engine.close();
  } catch {
    crashed = true;
  }
  mem.crash({ torn, rng: seededRng(crashAt) });
  const engine = await Engine.open(await openEngineStorage(mem, '/db'), OPTS);
  const a = await matches(engine, acked);
  const b = inFlight ? await matches(engine, inFlight) : 'no op in flight';
  const report = await checkEngine(engine);
  await engine.close();
  return { crashed, ok: a === null || b === null, why: `${a} / ${b}`, problems: report.problems, steps: faulty.steps };
}

describe('engine crash safety', () => {
  it('recovers exactly the acknowledged data after a crash at every durability step', async () => {
    for (const seed of [1, 2]) {
      const probe = await crashRun(seed, Number.MAX_SAFE_INTEGER, false);
      assert.ok(probe.ok, `seed ${seed} without crash: ${probe.why}`);
      const total = probe.steps;
      assert.ok(total > 20, `workload made only ${total} durability steps`);
      let crashes = 0;
      for (let n = 1; n <= total; n++) {
        for (const torn of [false, 'prefix', 'garbage'] as const) {
          const r = await crashRun(seed, n, torn);
          if (r.crashed) crashes++;
          assert.ok(r.ok, `seed ${seed}, crash at step ${n}/${total}, torn=${torn}: ${r.why}`);
          assert.deepEqual(r.problems, [], `seed ${seed}, crash at step ${n}: verifier`);
        }
      }
      assert.ok(crashes >= total * 3 - 3, `only ${crashes} runs actually crashed`);
    }
  });

  it('answers 426 when the disk is full, keeps serving reads, and resumes when space is freed', async () => {
    const mem = new MemoryEnv();
    const engine = await Engine.open(await openEngineStorage(mem, '/db'), OPTS);
    await engine.createStream(A);
    const model = new ReferenceStream();
    const pts = (from: number, n: number): RefPoint[] =>
      Array.from({ length: n }, (_, i) => ({ t: BigInt(from + i) * 1000n, v: from + i }));
    const batch = (p: RefPoint[]) => ({
      times: BigInt64Array.from(p.map((x) => x.t)),
      values: Float64Array.from(p.map((x) => x.v)),
    });
    await engine.insert(A, batch(pts(0, 100)));
    model.insert(pts(0, 100), 'never');
    await engine.flush(A);
    mem.capacity = (await totalBytes(mem)) + 200;
    await assert.rejects(engine.insert(A, batch(pts(100, 100))), (e) => isDbError(e, 426));
    assertPointsEqual(await engine.valuesArray(A, ...ALL), model.all(), 'reads while full');
    mem.capacity = undefined;
    await engine.insert(A, batch(pts(200, 100)));
    model.insert(pts(200, 100), 'never');
    await engine.close();
    const again = await Engine.open(await openEngineStorage(mem, '/db'), OPTS);
    const got = await again.valuesArray(A, ...ALL);
    // The rejected batch was never acknowledged: it may be absent; everything acknowledged is there.
    const ids = new Set(Array.from(got.values));
    for (const p of model.all()) assert.ok(ids.has(p.v), `acknowledged point ${p.v} lost`);
    assert.deepEqual((await checkEngine(again)).problems, []);
    await again.close();
  });

  it('rejects an insert whose WAL fsync fails and accepts the next one', async () => {
    const mem = new MemoryEnv();
    const faulty = new FaultyEnv(mem);
    const engine = await Engine.open(await openEngineStorage(faulty, '/db'), OPTS);
    await engine.createStream(A);
    faulty.failOn('sync', { nth: 1, path: '/db/wal' });
    const one = { times: BigInt64Array.of(5n), values: Float64Array.of(1) };
    await assert.rejects(engine.insert(A, one), (e) => isDbError(e) && e.code !== 426);
    const two = { times: BigInt64Array.of(6n), values: Float64Array.of(2) };
    await engine.insert(A, two);
    mem.crash({ torn: false });
    const again = await Engine.open(await openEngineStorage(mem, '/db'), OPTS);
    const got = await again.valuesArray(A, ...ALL);
    assert.ok(Array.from(got.times).includes(6n), 'the acknowledged point is present');
    await again.close();
  });

  it('reports a flipped bit in a block with its file and offset instead of returning data', async () => {
    const mem = new MemoryEnv();
    const engine = await Engine.open(await openEngineStorage(mem, '/db'), OPTS);
    await engine.createStream(A);
    const n = 5000;
    await engine.insert(A, {
      times: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000n),
      values: Float64Array.from({ length: n }, (_, i) => i),
    });
    await engine.close();
    const seg = (await mem.list('/db/blocks')).find((f) => f.endsWith('.seg'))!;
    mem.corrupt(`/db/blocks/${seg}`, 200, 0x10);
    const again = await Engine.open(await openEngineStorage(mem, '/db'), OPTS);
    await assert.rejects(
      again.valuesArray(A, ...ALL),
      (e) => isDbError(e, 500) && e.location?.file.endsWith(seg) === true,
    );
    const report = await checkEngine(again);
    assert.ok(
      report.problems.some((p) => p.what.includes(seg)),
      JSON.stringify(report.problems),
    );
  });
});

async function totalBytes(mem: MemoryEnv): Promise<number> {
  let total = 0;
  for (const d of ['/db/blocks', '/db/wal', '/db/manifest']) {
    for (const f of await mem.list(d)) {
      const h = await mem.openRead(`${d}/${f}`);
      total += h.size();
      await h.close();
    }
  }
  return total;
}

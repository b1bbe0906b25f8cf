/**
 * The engine on a full disk (and a failing fsync), model-checked. A FaultyEnv makes the nth
 * write (whole or torn) or the nth fsync fail with ENOSPC — and every later one, as a full disk
 * does — for every n the workload reaches, across the insert (WAL and direct), delete, commit,
 * checkpoint and compaction paths. At every step the acknowledged operations are applied to a
 * reference model; the engine must turn read-only with 426, keep answering reads with exactly the
 * acknowledged data, resume once space returns, and hold exactly that data after a reopen — both
 * after space returned and after a crash while still full.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertPointsEqual, ReferenceStream, type RefPoint } from '../../test/model/reference-stream.ts';
import { isDbError } from '../core/errors.ts';
import type { MergePolicy, StreamId } from '../core/types.ts';
import { FaultyEnv, MemoryEnv, seededRng } from '../storage/index.ts';
import { checkEngine } from './check.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { openEngineStorage } from './open-dir.ts';

const A = '00000000-0000-4000-8000-00000000000a' as StreamId;
const B = '00000000-0000-4000-8000-00000000000b' as StreamId;
const ALL: [bigint, bigint] = [-(1n << 60n), 48n << 56n];
const OPTS: EngineOptions = {
  background: false,
  commitPoints: 300,
  directInsertPoints: 1500,
  readOnlyRetryMs: 0,
};

type Step =
  | { kind: 'insert'; id: StreamId; points: RefPoint[]; policy: MergePolicy }
  | { kind: 'delete'; id: StreamId; start: bigint; end: bigint }
  | { kind: 'flush'; id: StreamId }
  | { kind: 'checkpoint' }
  | { kind: 'compact' }
  | { kind: 'obliterate'; id: StreamId };

function workload(seed: number): Step[] {
  const rnd = seededRng(seed);
  const steps: Step[] = [];
  let t = 1_700_000_000_000_000_000n;
  for (let i = 0; i < 18; i++) {
    const id = rnd() < 0.5 ? A : B;
    const r = rnd();
    if (r < 0.6) {
      const n = rnd() < 0.2 ? 1600 : 1 + Math.floor(rnd() * 250);
      const points: RefPoint[] = [];
      for (let k = 0; k < n; k++) {
        t += BigInt(1 + Math.floor(rnd() * 5_000_000));
        points.push({ t: rnd() < 0.1 ? t - 40_000_000n : t, v: Math.round(rnd() * 1000) / 8 });
      }
      const policy = (['never', 'equal', 'retain', 'replace'] as const)[Math.floor(rnd() * 4)]!;
      steps.push({ kind: 'insert', id, points, policy });
    } else if (r < 0.72) steps.push({ kind: 'delete', id, start: t - 900_000_000n, end: t - 300_000_000n });
    else if (r < 0.84) steps.push({ kind: 'flush', id });
    else if (r < 0.92) steps.push({ kind: 'compact' });
    else steps.push({ kind: 'checkpoint' });
  }
  steps.push({ kind: 'obliterate', id: B });
  steps.push({ kind: 'insert', id: A, points: [{ t: t + 1n, v: 1 }], policy: 'never' });
  return steps;
}

type Models = Map<StreamId, ReferenceStream>;

const batchOf = (p: readonly RefPoint[]) => ({
  times: BigInt64Array.from(p.map((x) => x.t)),
  values: Float64Array.from(p.map((x) => x.v)),
});

function targets(s: Step): StreamId | null {
  return 'id' in s ? s.id : null;
}

async function run(engine: Engine, s: Step): Promise<void> {
  if (s.kind === 'obliterate') await engine.obliterate(s.id);
  else if (s.kind === 'flush') await engine.flush(s.id);
  else if (s.kind === 'delete') await engine.delete(s.id, s.start, s.end);
  else if (s.kind === 'checkpoint') await engine.checkpoint();
  else if (s.kind === 'compact') await engine.compact({ keepVersions: 2 });
  else await engine.insert(s.id, batchOf(s.points), s.policy);
}

function apply(models: Models, s: Step): void {
  if (s.kind === 'obliterate') models.delete(s.id);
  else if (s.kind === 'insert') models.get(s.id)!.insert(s.points, s.policy);
  else if (s.kind === 'delete') models.get(s.id)!.deleteRange(s.start, s.end);
}

/** null when the engine holds exactly the model's streams and points; else what differs. */
async function mismatch(engine: Engine, m: Models): Promise<string | null> {
  for (const id of [A, B]) {
    const want = m.get(id);
    if (engine.hasStream(id) !== (want !== undefined)) return `stream ${id} exists=${engine.hasStream(id)}`;
    if (!want) continue;
    try {
      const got = await engine.valuesArray(id, ...ALL);
      assertPointsEqual(got, want.all(), id);
      const { count } = await engine.count(id, ...ALL);
      if (count !== want.all().length) return `${id}: count ${count}, model ${want.all().length}`;
      // The version a read reports reads back the same data.
      const again = await engine.valuesArray(id, ...ALL, got.version);
      assertPointsEqual(again, want.all(), `${id} at version ${got.version}`);
    } catch (e) {
      return `${id}: ${(e as Error).message.slice(0, 300)}`;
    }
  }
  return null;
}

interface Fault {
  readonly op: 'write' | 'sync';
  readonly nth: number;
  readonly torn: boolean;
  /** Free the space this many steps after the engine first went read-only; null = never (crash). */
  readonly freeAfter: number | null;
}

interface Outcome {
  readonly problems: string[];
  /** Calls of each op the workload made after arming (to size the sweep). */
  readonly calls: { write: number; sync: number };
  readonly wentReadOnly: boolean;
  readonly refused: number;
}

async function faultRun(seed: number, fault: Fault | null): Promise<Outcome> {
  const mem = new MemoryEnv();
  const faulty = new FaultyEnv(mem);
  const problems: string[] = [];
  const engine = await Engine.open(await openEngineStorage(faulty, '/db'), OPTS);
  await engine.createStream(A);
  await engine.createStream(B);
  const acked: Models = new Map([
    [A, new ReferenceStream()],
    [B, new ReferenceStream()],
  ]);
  const base = faulty.counts();
  if (fault?.op === 'write' && fault.torn) faulty.tornWrite({ nth: fault.nth, times: Infinity, errno: 'ENOSPC' });
  else if (fault) faulty.failOn(fault.op, { nth: fault.nth, times: Infinity, errno: 'ENOSPC' });
  let readOnlyAt: number | null = null;
  let freed = fault === null;
  let refused = 0;
  const steps = workload(seed);
  for (const [i, s] of steps.entries()) {
    if (!freed && readOnlyAt !== null && fault?.freeAfter != null && i >= readOnlyAt + fault.freeAfter) {
      faulty.disarm();
      freed = true;
    }
    const id = targets(s);
    if (id !== null && !acked.has(id)) continue;
    try {
      await run(engine, s);
      apply(acked, s);
    } catch (e) {
      refused++;
      if (!isDbError(e, 426)) problems.push(`step ${i} ${s.kind}: expected 426, got ${String(e)}`);
    }
    const h = engine.health();
    if (h.state === 'read-only') {
      readOnlyAt ??= i;
      if (h.code !== 426 || !h.reason?.includes('/db/')) problems.push(`step ${i}: health ${JSON.stringify(h)}`);
      const why = await mismatch(engine, acked);
      if (why) problems.push(`step ${i}, reading while read-only: ${why}`);
    } else if (!freed && readOnlyAt !== null) problems.push(`step ${i}: writable again while the disk is full`);
  }
  const after = faulty.counts();
  const calls = { write: after.write - base.write, sync: after.sync - base.sync };
  if (fault?.freeAfter === null) {
    // Still full: the process dies. Everything acknowledged must come back.
    mem.crash({ torn: true, rng: seededRng(fault.nth) });
  } else {
    faulty.disarm();
    const probed = engine.health().state === 'read-only';
    const h = await engine.retryWrites();
    if (h.state !== 'ok') problems.push(`after space returned: ${JSON.stringify(h)}`);
    if (probed && h.state === 'ok' && h.bufferedPoints !== 0)
      problems.push(`probe left ${h.bufferedPoints} points uncommitted`);
    const why = await mismatch(engine, acked);
    if (why) problems.push(`after space returned: ${why}`);
    const extra: RefPoint[] = [{ t: 42n, v: 42 }];
    await engine.insert(A, batchOf(extra));
    acked.get(A)!.insert(extra, 'never');
    await engine.close();
  }
  const again = await Engine.open(await openEngineStorage(mem, '/db'), OPTS);
  const why = await mismatch(again, acked);
  if (why) problems.push(`after reopen: ${why}`);
  const report = await checkEngine(again);
  for (const p of report.problems) problems.push(`after reopen, check: ${p.stream} v${p.version}: ${p.what}`);
  await again.close();
  return { problems, calls, wentReadOnly: readOnlyAt !== null, refused };
}

describe('engine on a full disk', () => {
  it('ENOSPC at every write and fsync of the workload: read-only with 426, reads equal the acknowledged model, resume, reopen', async () => {
    let runs = 0;
    let readOnlyRuns = 0;
    let refused = 0;
    for (const seed of [8]) {
      const probe = await faultRun(seed, null);
      assert.deepEqual(probe.problems, [], `seed ${seed} without faults`);
      assert.ok(probe.calls.write > 20 && probe.calls.sync > 20, JSON.stringify(probe.calls));
      for (const op of ['write', 'sync'] as const) {
        for (let nth = 1; nth <= probe.calls[op]; nth++) {
          const variants: Fault[] = [
            { op, nth, torn: false, freeAfter: 2 },
            { op, nth, torn: false, freeAfter: null },
          ];
          if (op === 'write') variants.push({ op, nth, torn: true, freeAfter: 1 });
          for (const fault of variants) {
            const r = await faultRun(seed, fault);
            runs++;
            if (r.wentReadOnly) readOnlyRuns++;
            refused += r.refused;
            assert.deepEqual(r.problems, [], `seed ${seed}, ${JSON.stringify(fault)}`);
          }
        }
      }
    }
    // Every fault point was reached by the workload, so nearly every run must have hit it.
    assert.ok(readOnlyRuns >= runs * 0.9, `only ${readOnlyRuns} of ${runs} runs went read-only`);
    console.log(
      `# ${runs} disk-full runs (seed 8: inserts WAL and direct, deletes, flushes, checkpoints, compactions), ` +
        `${readOnlyRuns} went read-only, ${refused} writes refused with 426`,
    );
  });

  const pts = (from: number, n: number): RefPoint[] =>
    Array.from({ length: n }, (_, i) => ({ t: BigInt(from + i) * 1000n, v: from + i }));

  it('acknowledged points that cannot be committed are still read, at latest and at their version', async () => {
    const faulty = new FaultyEnv(new MemoryEnv());
    const engine = await Engine.open(await openEngineStorage(faulty, '/db'), { ...OPTS, readOnlyRetryMs: 60_000 });
    await engine.createStream(A);
    const model = new ReferenceStream();
    await engine.insert(A, batchOf(pts(0, 100)));
    model.insert(pts(0, 100), 'never');
    await engine.flush(A);
    const v2 = await engine.insert(A, batchOf(pts(100, 50))); // acknowledged, buffered in memory
    model.insert(pts(100, 50), 'never');
    faulty.failOn('sync', { path: '/db/blocks', times: Infinity, errno: 'ENOSPC' });
    await assert.rejects(engine.flush(A), (e) => isDbError(e, 426) && e.message.includes('/db/blocks'));
    const h = engine.health();
    assert.equal(h.state, 'read-only');
    assert.equal(h.bufferedPoints, 50);
    const got = await engine.valuesArray(A, ...ALL);
    assertPointsEqual(got, model.all(), 'latest while read-only');
    assert.equal(got.version, v2);
    assertPointsEqual(await engine.valuesArray(A, ...ALL, v2), model.all(), 'at the acknowledged version');
    const w = await engine.alignedWindows(A, 0n, 1n << 20n, 16);
    assert.equal(
      w.windows.reduce((n, x) => n + x.count, 0),
      150,
    );
    await assert.rejects(
      engine.insert(A, batchOf(pts(500, 1))),
      (e) =>
        isDbError(e, 426) &&
        /read-only/.test(e.message) &&
        e.message.includes('/db') &&
        /Reads still work/.test(e.message),
    );
    await assert.rejects(engine.delete(A, 0n, 10n), (e) => isDbError(e, 426));
    await assert.rejects(engine.createStream(B), (e) => isDbError(e, 426));
    await assert.rejects(engine.obliterate(A), (e) => isDbError(e, 426));
    assert.ok(engine.hasStream(A));
    faulty.disarm();
    const ok = await engine.retryWrites();
    assert.equal(ok.state, 'ok');
    assert.equal(ok.bufferedPoints, 0, 'the probe committed the buffer');
    assert.equal((await engine.info(A)).version, v2, 'the commit kept the version the reads were told');
    await engine.close();
  });

  it('writes are refused during the back-off and the first write after it probes and resumes', async () => {
    let clock = 1_000_000;
    const mem = new MemoryEnv();
    const engine = await Engine.open(await openEngineStorage(mem, '/db'), {
      ...OPTS,
      readOnlyRetryMs: 5000,
      now: () => clock,
    });
    await engine.createStream(A);
    mem.capacity = mem.usedBytes() + 10;
    await assert.rejects(engine.insert(A, batchOf(pts(0, 10))), (e) => isDbError(e, 426));
    assert.equal(engine.health().retryAt, clock + 5000);
    mem.capacity = undefined;
    clock += 4999;
    await assert.rejects(
      engine.insert(A, batchOf(pts(0, 10))),
      (e) => isDbError(e, 426) && /retried from/.test(e.message),
    );
    clock += 1;
    await engine.insert(A, batchOf(pts(0, 10)));
    assert.equal(engine.health().state, 'ok');
    assert.equal(engine.health().readOnlyEntries, 1);
    assert.equal((await engine.count(A, ...ALL)).count, 10);
    await engine.close();
  });

  it('a probe on a disk that is still full fails, counts, and keeps the engine read-only', async () => {
    const mem = new MemoryEnv();
    const engine = await Engine.open(await openEngineStorage(mem, '/db'), OPTS);
    await engine.createStream(A);
    await engine.insert(A, batchOf(pts(0, 10)));
    mem.capacity = mem.usedBytes();
    await assert.rejects(engine.flush(A), (e) => isDbError(e, 426));
    const h = await engine.retryWrites();
    assert.equal(h.state, 'read-only');
    assert.equal(h.failedProbes, 1);
    assert.equal((await engine.count(A, ...ALL)).count, 10);
    mem.capacity = undefined;
    assert.equal((await engine.retryWrites()).state, 'ok');
    await engine.close();
  });

  it('a disk that is full at open opens read-only and serves the points only the WAL holds', async () => {
    const mem = new MemoryEnv();
    const engine = await Engine.open(await openEngineStorage(mem, '/db'), OPTS);
    await engine.createStream(A);
    await engine.insert(A, batchOf(pts(0, 120)));
    mem.crash(); // the insert is in the WAL only
    mem.capacity = mem.usedBytes();
    const again = await Engine.open(await openEngineStorage(mem, '/db'), OPTS);
    assert.equal(again.health().state, 'read-only');
    assert.equal((await again.count(A, ...ALL)).count, 120);
    await again.close();
    mem.capacity = undefined;
    const third = await Engine.open(await openEngineStorage(mem, '/db'), OPTS);
    assert.equal(third.health().state, 'ok');
    assert.equal((await third.count(A, ...ALL)).count, 120);
    assert.deepEqual((await checkEngine(third)).problems, []);
    await third.close();
  });

  it('the maintenance timer probes by itself and leaves read-only mode once space returns', async () => {
    const mem = new MemoryEnv();
    const engine = await Engine.open(await openEngineStorage(mem, '/db'), { ...OPTS, background: true });
    await engine.createStream(A);
    await engine.insert(A, batchOf(pts(0, 10)));
    mem.capacity = mem.usedBytes();
    await assert.rejects(engine.flush(A), (e) => isDbError(e, 426));
    mem.capacity = undefined;
    const deadline = Date.now() + 5000;
    while (engine.health().state !== 'ok' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(engine.health().state, 'ok');
    assert.equal(engine.health().bufferedPoints, 0);
    await engine.close();
  });
});

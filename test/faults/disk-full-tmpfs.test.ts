/**
 * A real full disk: the engine on a size-limited tmpfs (needs root, as the test machines run).
 * Ingest until the file system says ENOSPC; the engine must refuse with 426, stay readable with
 * exactly the acknowledged points, resume when space is freed — first by deleting a ballast file,
 * then by growing the file system (`mount -o remount,size=…`) — and hold every acknowledged point
 * after a reopen. Mounting: see tmpfs.ts (the test fails loudly where it cannot mount).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isDbError } from '../../src/core/errors.ts';
import type { StreamId } from '../../src/core/types.ts';
import { checkEngine } from '../../src/engine/check.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { openEngineDir } from '../../src/engine/open-dir.ts';
import { seededRng } from '../../src/storage/index.ts';
import { mountTmpfs } from './tmpfs.ts';

const A = '00000000-0000-4000-8000-0000000000f1' as StreamId;
const ALL: [bigint, bigint] = [0n, 3n << 60n];
const BATCH = 4000;
/**
 * The engine's clock, moved by hand: a write while read-only before `retryAt` is refused with the
 * read-only message; one after it probes the disk (which may have room again for the probe).
 */
let clock = 0;
const OPTS = { background: false, readOnlyRetryMs: 1000, now: () => clock, commitPoints: 20_000 } as const;

/** The acknowledged points, in time order (times only grow, so append order is time order). */
class Acked {
  times: bigint[] = [];
  values: number[] = [];
}

async function assertHolds(engine: Engine, acked: Acked, when: string): Promise<void> {
  const got = await engine.valuesArray(A, ...ALL);
  assert.equal(got.times.length, acked.times.length, `${when}: number of points`);
  for (let i = 0; i < acked.times.length; i++) {
    if (got.times[i] !== acked.times[i] || got.values[i] !== acked.values[i]) {
      assert.fail(
        `${when}: point ${i} is (${got.times[i]}, ${got.values[i]}), acknowledged (${acked.times[i]}, ${acked.values[i]})`,
      );
    }
  }
}

/** Insert batches until one is refused; returns the refusal. Every accepted batch goes to `acked`. */
async function ingestUntilFull(engine: Engine, acked: Acked, rnd: () => number, limit: number): Promise<unknown> {
  let t = acked.times.at(-1) ?? 1_700_000_000_000_000_000n;
  for (let b = 0; b < limit; b++) {
    const times = new BigInt64Array(BATCH);
    const values = new Float64Array(BATCH);
    for (let i = 0; i < BATCH; i++) {
      t += BigInt(1 + Math.floor(rnd() * 1_000_000));
      times[i] = t;
      values[i] = rnd() * 1e6; // random mantissas: the codec cannot shrink them much
    }
    try {
      await engine.insert(A, { times, values });
    } catch (e) {
      return e;
    }
    for (let i = 0; i < BATCH; i++) {
      acked.times.push(times[i]!);
      acked.values.push(values[i]!);
    }
  }
  return new Error(`the disk never filled after ${limit} batches`);
}

describe('the engine on a real full file system (tmpfs)', () => {
  it('turns read-only with 426 on ENOSPC, keeps every acknowledged point readable, and resumes when space is freed', async (t) => {
    const fsys = mountTmpfs(t, '8m');
    if (!fsys) return;
    const mnt = fsys.dir;
    let engine: Engine | undefined;
    try {
      const dir = path.join(mnt, 'data');
      const ballast = path.join(mnt, 'ballast');
      fs.writeFileSync(ballast, Buffer.alloc(2 * 1024 * 1024, 1));
      engine = await openEngineDir(dir, OPTS);
      await engine.createStream(A);
      const rnd = seededRng(8);
      const acked = new Acked();

      // 1. Fill the disk.
      const refusal = await ingestUntilFull(engine, acked, rnd, 400);
      assert.ok(isDbError(refusal, 426), `expected 426, got ${String(refusal)}`);
      assert.match((refusal as Error).message, /out of disk space|read-only/);
      const h = engine.health();
      assert.equal(h.state, 'read-only');
      assert.equal(h.code, 426);
      assert.ok(acked.times.length > 100_000, `only ${acked.times.length} points fit in 8 MiB`);
      t.diagnostic(`full after ${acked.times.length} acknowledged points; ${h.bufferedPoints} buffered in memory`);

      // 2. Reads keep working, and writes are refused with a message naming the directory.
      await assertHolds(engine, acked, 'while full');
      await assert.rejects(
        engine.insert(A, { times: BigInt64Array.of(1n), values: Float64Array.of(1) }),
        (e) => isDbError(e, 426) && e.message.includes(dir) && /read-only/.test(e.message),
      );

      // 3. Free space by deleting a file: the next probe commits the buffer and writes resume.
      fs.rmSync(ballast);
      const resumed = await engine.retryWrites();
      assert.equal(resumed.state, 'ok', JSON.stringify(resumed));
      assert.equal(resumed.bufferedPoints, 0);
      await assertHolds(engine, acked, 'after deleting the ballast');

      // 4. Fill it again, then grow the file system: the next write probes and succeeds.
      const again = await ingestUntilFull(engine, acked, rnd, 400);
      assert.ok(isDbError(again, 426), `expected 426, got ${String(again)}`);
      await assertHolds(engine, acked, 'full again');
      fsys.resize('16m');
      clock += 1000;
      const more = await ingestUntilFull(engine, acked, rnd, 5);
      assert.match(String(more), /never filled/, 'writes resume after the remount');
      assert.equal(engine.health().state, 'ok');
      assert.equal(engine.health().readOnlyEntries, 2);
      await assertHolds(engine, acked, 'after the remount');

      // 5. Reopen: everything acknowledged is there and the trees verify.
      await engine.close();
      engine = await openEngineDir(dir, OPTS);
      await assertHolds(engine, acked, 'after reopen');
      const report = await checkEngine(engine);
      assert.deepEqual(report.problems, []);
      t.diagnostic(`${acked.times.length} acknowledged points verified after reopen`);
    } finally {
      await engine?.close().catch(() => {});
      fsys.unmount();
    }
  });
});

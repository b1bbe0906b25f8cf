// The aligned-windows answer is bounded: it counts the windows that hold points (what is answered),
// not the slots the range spans, so a sparse stream at a small pw still answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { MemoryEnv } from '../storage/index.ts';
import { Engine } from './engine.ts';
import { openEngineStorage } from './open-dir.ts';
import { alignedWindows } from './tree-query.ts';

const ID = '00000000-0000-4000-8000-0000000000a1' as StreamId;

test('aligned windows: at most maxWindows non-empty windows answer, one more is refused with 415', async () => {
  const engine = await Engine.open(await openEngineStorage(new MemoryEnv(), '/db'));
  try {
    await engine.createStream(ID);
    // 300 points, 1 s apart: sparse at pw 0 (the range spans 3·10^11 one-ns slots).
    const n = 300;
    const times = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000_000n);
    const values = Float64Array.from({ length: n }, (_, i) => i * 0.5);
    await engine.insert(ID, { times, values });
    const { root } = await engine.resolve(ID);
    const end = times[n - 1]! + 1n;

    const all = await alignedWindows(engine.tree, root, 0n, end, 0, n);
    assert.equal(all.length, n);
    assert.deepEqual(
      all.map((w) => [w.time, w.count, w.min]),
      [...times].map((t, i) => [t, 1, values[i]]),
    );
    await assert.rejects(alignedWindows(engine.tree, root, 0n, end, 0, n - 1), (e: unknown) => {
      assert.ok(isDbError(e, 415), String(e));
      assert.match(e.message, new RegExp(`more than ${n - 1} windows: raise pw \\(pw=0 now\\)`));
      return true;
    });
    // A wider pw folds them under the same cap: 2^36 ns ≈ 68.7 s windows; the end is floored to a
    // multiple of 2^36, so only the whole windows before it answer.
    const wide = await alignedWindows(engine.tree, root, 0n, end, 36, n - 1);
    assert.equal(wide.length, Math.floor(Number(end) / 2 ** 36));
    assert.equal(
      wide.reduce((s, w) => s + w.count, 0),
      [...times].filter((t) => t < BigInt(wide.length) * 2n ** 36n).length,
    );
  } finally {
    await engine.close();
  }
});

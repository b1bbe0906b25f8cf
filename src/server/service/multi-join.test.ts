import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatherFloat, outerJoin, snapJoin } from '../../client/join.ts';
import { mulberry32 } from '../../core/random.ts';
import type { PointBatch } from '../../core/types.ts';
import { joinSources, snapPoints } from './multi-join.ts';

/** A deterministic PRNG (mulberry32) so failures reproduce. */
const rng = mulberry32;

function randomStream(r: () => number, n: number): PointBatch {
  const times = Array.from({ length: n }, () => BigInt(Math.floor(r() * 200) - 20)).sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return { times: BigInt64Array.from(times), values: Float64Array.from(times, () => Math.round(r() * 1000)) };
}

/** Yield a stream in random-sized batches (including empty ones), as the engine might. */
async function* batches(s: PointBatch, r: () => number): AsyncGenerator<PointBatch> {
  let i = 0;
  while (i < s.times.length) {
    const k = Math.floor(r() * 7);
    yield { times: s.times.slice(i, i + k), values: s.values.slice(i, i + k) };
    i += k;
  }
}

async function collect(it: AsyncIterable<{ times: BigInt64Array; columns: readonly Float64Array[] }>) {
  const times: bigint[] = [];
  const cols: number[][] = [];
  for await (const p of it) {
    times.push(...p.times);
    p.columns.forEach((c, i) => {
      cols[i] ??= [];
      cols[i]!.push(...c);
    });
  }
  return { times, cols };
}

test('the streaming exact join equals the user API outerJoin on random streams and batchings', async () => {
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(seed);
    const k = 1 + Math.floor(r() * 4);
    const streams = Array.from({ length: k }, () => randomStream(r, Math.floor(r() * 40)));
    const expect = outerJoin(streams.map((s) => s.times));
    const got = await collect(
      joinSources(
        streams.map((s) => batches(s, r)),
        1 + Math.floor(r() * 10),
      ),
    );
    assert.deepEqual(got.times, [...expect.times], `seed ${seed}`);
    streams.forEach((s, i) => {
      assert.deepEqual(got.cols[i] ?? [], [...gatherFloat(s.values, expect.index[i]!)], `seed ${seed}`);
    });
  }
});

test('the streaming snapped join equals the user API snapJoin (nearest wins, later on ties)', async () => {
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(1000 + seed);
    const k = 1 + Math.floor(r() * 3);
    const streams = Array.from({ length: k }, () => randomStream(r, Math.floor(r() * 40)));
    const period = BigInt(1 + Math.floor(r() * 12));
    const [start, end] = [0n, 150n];
    const expect = snapJoin(
      streams.map((s) => s.times),
      start,
      end,
      period,
    );
    const got = await collect(
      joinSources(
        streams.map((s) => snapPoints(batches(s, r), start, end, period)),
        5,
      ),
    );
    assert.deepEqual(got.times, [...expect.times], `seed ${seed}`);
    streams.forEach((s, i) => {
      assert.deepEqual(got.cols[i] ?? [], [...gatherFloat(s.values, expect.index[i]!)], `seed ${seed}`);
    });
  }
});

test('the join yields pieces of exactly the asked number of rows, the last one shorter', async () => {
  const s = { times: BigInt64Array.from({ length: 23 }, (_, i) => BigInt(i)), values: new Float64Array(23) };
  const sizes: number[] = [];
  for await (const p of joinSources([batches(s, rng(3))], 10)) sizes.push(p.times.length);
  assert.deepEqual(sizes, [10, 10, 3]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rechunkPoints } from './rechunk.ts';

async function* source(sizes: number[]) {
  let t = 0;
  for (const n of sizes) {
    const times = BigInt64Array.from({ length: n }, () => BigInt(t++));
    yield { times, values: Float64Array.from(times, Number) };
  }
}

test('rechunk cuts any batching into batches of exactly the size, the last shorter, in order', async () => {
  const out: number[] = [];
  const all: bigint[] = [];
  for await (const b of rechunkPoints(source([3, 0, 7, 1, 10]), 4)) {
    out.push(b.times.length);
    all.push(...b.times);
    assert.deepEqual([...b.values], [...b.times].map(Number));
  }
  assert.deepEqual(out, [4, 4, 4, 4, 4, 1]);
  assert.deepEqual(
    all,
    Array.from({ length: 21 }, (_, i) => BigInt(i)),
  );
});

test('rechunk of no points yields nothing', async () => {
  for await (const _ of rechunkPoints(source([0, 0]), 4)) assert.fail('no batch expected');
});

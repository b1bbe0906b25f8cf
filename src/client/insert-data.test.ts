import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { checkMergePolicy, splitBatch, toPointBatch } from './insert-data.ts';

test('pairs become typed columns with times converted exactly', () => {
  const b = toPointBatch([
    [9007199254740993n, 1.5],
    ['1970-01-01T00:00:00.000000002Z', -2],
    [3, 0],
  ]);
  assert.deepEqual([...b.times], [9007199254740993n, 2n, 3n]);
  assert.deepEqual([...b.values], [1.5, -2, 0]);
  assert.equal(b.flags, undefined);
});

test('typed columns are used as given, plain-array columns converted', () => {
  const times = BigInt64Array.of(1n, 2n);
  const values = Float64Array.of(1, 2);
  assert.equal(toPointBatch({ times, values }).times, times);
  const b = toPointBatch({ times: [1n, 2], values: [3, 4], flags: [7, 8] });
  assert.deepEqual([...b.times], [1n, 2n]);
  assert.deepEqual([...(b.flags ?? [])], [7, 8]);
});

test('columns of different lengths are rejected with 438', () => {
  assert.throws(
    () => toPointBatch({ times: [1n], values: [1, 2] }),
    (e) => isDbError(e, 438),
  );
  assert.throws(
    () => toPointBatch({ times: [1n], values: [1], flags: [] }),
    (e) => isDbError(e, 438),
  );
});

test('a batch is split into slices of at most the batch size, in order, flags included', () => {
  const n = 7;
  const b = {
    times: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
    values: new Float64Array(n),
    flags: new Uint32Array(n),
  };
  const parts = [...splitBatch(b, 3)];
  assert.deepEqual(
    parts.map((p) => p.times.length),
    [3, 3, 1],
  );
  assert.deepEqual(
    parts.map((p) => p.times[0]),
    [0n, 3n, 6n],
  );
  assert.ok(parts.every((p) => p.flags?.length === p.times.length));
});

test('an unknown merge policy is rejected with 438', () => {
  assert.equal(checkMergePolicy('replace'), 'replace');
  assert.throws(
    () => checkMergePolicy('newest'),
    (e) => isDbError(e, 438),
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { gatherFlags, gatherFloat, outerJoin, snapJoin, snapPeriod, snapTime } from './join.ts';

const T = (...ts: number[]): BigInt64Array => BigInt64Array.from(ts, BigInt);

test('an outer join has one row per distinct time and -1 where a stream has no point', () => {
  const j = outerJoin([T(1, 3, 5), T(2, 3, 6)]);
  assert.deepEqual([...j.times], [1n, 2n, 3n, 5n, 6n]);
  assert.deepEqual([...j.index[0]!], [0, -1, 1, 2, -1]);
  assert.deepEqual([...j.index[1]!], [-1, 0, 1, -1, 2]);
});

test('duplicate times in one stream get one row each, paired in order with the other streams', () => {
  const j = outerJoin([T(5, 5, 5), T(5, 7)]);
  assert.deepEqual([...j.times], [5n, 5n, 5n, 7n]);
  assert.deepEqual([...j.index[0]!], [0, 1, 2, -1]);
  assert.deepEqual([...j.index[1]!], [0, -1, -1, 1]);
});

test('an outer join of no streams or empty streams has no rows', () => {
  assert.equal(outerJoin([]).times.length, 0);
  assert.equal(outerJoin([T(), T()]).times.length, 0);
});

test('gather fills missing floats with NaN and missing flags with 0', () => {
  const ix = Int32Array.of(1, -1, 0);
  assert.deepEqual([...gatherFloat(Float64Array.of(10, 20), ix)], [20, Number.NaN, 10]);
  assert.deepEqual([...gatherFlags(Uint32Array.of(7, 9), ix)], [9, 0, 7]);
});

test('snapping rounds half a period up: 0.5 s goes to 1 s and 0.5 s - 1 ns to 0 s', () => {
  const s = 1_000_000_000n;
  assert.equal(snapTime(500_000_000n, 0n, s), s);
  assert.equal(snapTime(499_999_999n, 0n, s), 0n);
  assert.equal(snapTime(-500_000_000n, 0n, s), 0n);
  assert.equal(snapTime(-500_000_001n, 0n, s), -s);
});

test('the snapping period is floor(1e9 / Hz) and must be at least 1 ns', () => {
  assert.equal(snapPeriod(30), 33_333_333n);
  assert.equal(snapPeriod(0.1), 10_000_000_000n);
  assert.throws(
    () => snapPeriod(0),
    (e) => isDbError(e, 438),
  );
  assert.throws(
    () => snapPeriod(2e9),
    (e) => isDbError(e, 438),
  );
});

test('a snap join pulls points from before start in and drops grid times at or after end', () => {
  // grid 100 + k*10 over [100, 130): 95 → 100, 104 → 100 (nearer than 95), 126 → 130 dropped
  const j = snapJoin([T(95, 104, 111, 126), T(99, 120)], 100n, 130n, 10n);
  assert.deepEqual([...j.times], [100n, 110n, 120n]);
  assert.deepEqual([...j.index[0]!], [1, 2, -1]);
  assert.deepEqual([...j.index[1]!], [0, -1, 1]);
});

test('when two points are equally near one grid time the later one wins', () => {
  const j = snapJoin([T(96, 104)], 100n, 200n, 10n); // 96 and 104 are both 4 ns from 100
  assert.deepEqual([...j.times], [100n]);
  assert.deepEqual([...j.index[0]!], [1]);
});

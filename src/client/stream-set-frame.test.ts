import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDbError } from '../core/errors.ts';
import type { Version } from '../core/types.ts';
import { outerJoin } from './join.ts';
import { statColumns } from './points.ts';
import type { Stream } from './stream.ts';
import { aggFields, type RawSeries, rawFrame, type StatSeries, statFrame } from './stream-set-frame.ts';

const stream = {} as Stream; // the frame builders never touch the stream
const v = 1 as Version;

test('agg accepts one statistic, a list, or all five; unknown names fail with 438', () => {
  assert.deepEqual(aggFields(undefined), ['mean']);
  assert.deepEqual(aggFields('all'), ['min', 'mean', 'max', 'count', 'stddev']);
  assert.deepEqual(aggFields(['max', 'min']), ['max', 'min']);
  assert.throws(
    () => aggFields('median' as 'mean'),
    (e) => isDbError(e, 438),
  );
  assert.throws(
    () => aggFields([]),
    (e) => isDbError(e, 438),
  );
});

test('a raw frame has one column per stream and flag columns only where flags exist', () => {
  const a: RawSeries = {
    stream,
    version: v,
    times: BigInt64Array.of(1n, 2n),
    values: Float64Array.of(1, 2),
    flags: Uint32Array.of(5, 6),
  };
  const b: RawSeries = { stream, version: v, times: BigInt64Array.of(2n), values: Float64Array.of(20) };
  const join = outerJoin([a.times, b.times]);
  const f = rawFrame([a, b], join, ['a', 'b'], true);
  assert.deepEqual(
    f.columns.map((c) => [c.name, [...c.data]]),
    [
      ['a', [1, 2]],
      ['a/flags', [5, 6]],
      ['b', [Number.NaN, 20]],
    ],
  );
  assert.equal(rawFrame([a, b], join, ['a', 'b'], false).columns.length, 2);
});

test('a stat frame names columns by label alone for one statistic and label/stat for several', () => {
  const s: StatSeries = {
    stream,
    version: v,
    ...statColumns([{ time: 0n, min: 1, mean: 2, max: 3, count: 4, stddev: 0.5 }]),
  };
  assert.deepEqual(
    statFrame([s], ['x'], 'max').columns.map((c) => [c.name, [...c.data]]),
    [['x', [3]]],
  );
  assert.deepEqual(
    statFrame([s], ['x'], ['count', 'stddev']).columns.map((c) => c.name),
    ['x/count', 'x/stddev'],
  );
  assert.equal(statFrame([s], ['x'], 'all').columns.length, 5);
});

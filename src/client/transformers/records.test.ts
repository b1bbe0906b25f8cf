import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDbError } from '../../core/errors.ts';
import type { Frame } from '../frame.ts';
import { frameToRecords } from './records.ts';
import { toSeriesRecord } from './series.ts';
import { frameToText } from './text-table.ts';

const frame: Frame = {
  times: BigInt64Array.of(1n, 9007199254740993n),
  columns: [
    { name: 'a', data: Float64Array.of(1.5, Number.NaN) },
    { name: 'b', data: Float64Array.of(Number.NaN, 2) },
  ],
};

test('records hold bigint times and null for missing values', () => {
  assert.deepEqual(frameToRecords(frame), [
    { time: 1n, a: 1.5, b: null },
    { time: 9007199254740993n, a: null, b: 2 },
  ]);
});

test('the text table right-aligns columns under a header and a rule', () => {
  assert.equal(
    frameToText(frame),
    [
      '            time    a  b',
      '----------------  ---  -',
      '               1  1.5   ',
      '9007199254740993       2',
    ].join('\n'),
  );
});

test('series are keyed by name and duplicate names are rejected with 438', () => {
  const s = { times: BigInt64Array.of(1n), values: Float64Array.of(1) };
  assert.deepEqual(
    Object.keys(
      toSeriesRecord([
        { name: 'x', series: s },
        { name: 'y', series: s },
      ]),
    ),
    ['x', 'y'],
  );
  assert.throws(
    () =>
      toSeriesRecord([
        { name: 'x', series: s },
        { name: 'x', series: s },
      ]),
    (e) => isDbError(e, 438),
  );
});

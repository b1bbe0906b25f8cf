import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isDbError } from '../../core/errors.ts';
import type { Frame } from '../frame.ts';
import { formatNumber, frameToCsv } from './csv.ts';
import { writeCsvFile } from './csv-file.ts';

const frame: Frame = {
  times: BigInt64Array.of(9007199254740993n, -1n),
  columns: [
    { name: 'grid/a,b', data: Float64Array.of(0.1, Number.NaN) },
    { name: 'grid/c', data: Float64Array.of(-0, 1e21) },
    { name: 'grid/c/flags', data: Uint32Array.of(4294967295, 0) },
  ],
};

test('CSV has a header, exact ns times, round-trip numbers, blanks for missing and quoted names', () => {
  assert.equal(
    frameToCsv(frame),
    'time,"grid/a,b",grid/c,grid/c/flags\n9007199254740993,0.1,-0,4294967295\n-1,,1e+21,0\n',
  );
});

test('CSV can write ISO times with nine fraction digits, or both forms', () => {
  assert.equal(
    frameToCsv(frame, { time: 'iso', header: false, lineEnding: '\r\n', delimiter: ';' }),
    '1970-04-15T05:59:59.254740993Z;0.1;-0;4294967295\r\n1969-12-31T23:59:59.999999999Z;;1e+21;0\r\n',
  );
  assert.match(frameToCsv(frame, { time: 'both' }), /^time,time_iso,/);
});

test('every printed value parses back to the same float64', () => {
  for (const v of [0.1, 1 / 3, -1e-300, 5e-324, 1.7976931348623157e308, 123456789.12345679]) {
    assert.ok(Object.is(Number(formatNumber(v)), v));
  }
});

test('a frame with duplicate column names is rejected with 438', () => {
  const dup: Frame = {
    times: BigInt64Array.of(1n),
    columns: [
      { name: 'x', data: Float64Array.of(1) },
      { name: 'x', data: Float64Array.of(2) },
    ],
  };
  assert.throws(
    () => frameToCsv(dup),
    (e) => isDbError(e, 438),
  );
});

test('writing a CSV file gives the same text as frameToCsv', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'arbor-csv-'));
  try {
    const file = path.join(dir, 'out.csv');
    await writeCsvFile(file, frame, { time: 'both' });
    assert.equal(await readFile(file, 'utf8'), frameToCsv(frame, { time: 'both' }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { BAD_ROW_LIMIT } from './bad-rows.ts';
import { type CsvReadOptions, readCsvPoints } from './csv-points.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-csv-points-'));
let n = 0;
async function read(text: string, opts: CsvReadOptions = {}) {
  const file = path.join(dir, `f${n++}.csv`);
  fs.writeFileSync(file, text);
  return readCsvPoints(file, opts);
}

describe('readCsvPoints', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('columns are found by header name, case-insensitively, or by 0-based index', async () => {
    const r = await read('\uFEFFValue,Time\n1.5,10\n2.5,20\n');
    assert.deepEqual([...r.times], [10n, 20n]);
    assert.deepEqual([...r.values], [1.5, 2.5]);
    const byIndex = await read('a,b,c\nx,5,7\n', { timeColumn: '2', valueColumn: 'b' });
    assert.deepEqual([[...byIndex.times], [...byIndex.values]], [[7n], [5]]);
    const noHeader = await read('1,2\n3,4', { header: false });
    assert.deepEqual([...noHeader.times], [1n, 3n]);
  });

  test('unknown or ambiguous columns are a clear error', async () => {
    await assert.rejects(
      read('t,v\n1,2\n', { timeColumn: 'time' }),
      /no time column "time" \(the file has columns "t", "v"/,
    );
    await assert.rejects(read('time,a,b\n1,2,3\n'), /give --value-column/);
    await assert.rejects(readCsvPoints(path.join(dir, 'missing.csv')), /cannot read .*missing\.csv: no such file/);
  });

  test('every bad row is reported with its line and reason, and good rows after one are not kept', async () => {
    const r = await read('time,value\n1,1\n\nx,2\n3,\n4,5,6\n5,NaN\n6,6\n');
    assert.equal(r.rows, 6);
    assert.deepEqual(
      r.bad.kept.map((b) => [b.at, b.code]),
      [
        [4, 413],
        [5, 425],
        [6, 438],
        [7, 425],
      ],
    );
    assert.match(r.bad.kept[1]!.reason, /empty value/);
    const e = r.bad.toError('f.csv');
    assert.equal(e.code, 438);
    assert.match(e.message, /^f\.csv: 4 bad lines, nothing was imported:\n {2}line 4: time "x"/);
  });

  test('only the first bad rows are kept, all are counted', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},oops`).join('\n');
    const r = await read(`time,value\n${rows}\n`);
    assert.equal(r.bad.total, 30);
    assert.equal(r.bad.kept.length, BAD_ROW_LIMIT);
    const e = r.bad.toError('f');
    assert.equal(e.code, 425);
    assert.match(e.message, /… and 10 more \(30 bad lines in all\)$/);
  });

  test('NaN is accepted when allowed; times may be any unit or ISO', async () => {
    const r = await read('time,value\n1.5,NaN\n2,inf\n', { allowNonFinite: true, timeFormat: 's' });
    assert.deepEqual([...r.times], [1_500_000_000n, 2_000_000_000n]);
    assert.ok(Number.isNaN(r.values[0]) && r.values[1] === Number.POSITIVE_INFINITY);
  });

  test('progress is reported with bytes read and points so far', async () => {
    const calls: number[][] = [];
    await read('time,value\n1,1\n', { onProgress: (b, t, p) => calls.push([b, t, p]) });
    assert.deepEqual(calls, [[15, 15, 1]]);
  });
});

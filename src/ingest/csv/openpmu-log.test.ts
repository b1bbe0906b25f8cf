import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { midnightOf, nmeaChecksum, readOpenPmuLog, sentenceProblem } from './openpmu-log.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-openpmu-'));
const sentence = (body: string) => `$${body}*${nmeaChecksum(body)}`;
function write(name: string, lines: string[], sep = '\r'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join(sep) + sep);
  return file;
}

describe('readOpenPmuLog', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the README example sentence has a valid checksum', () => {
    assert.equal(sentenceProblem('$KTH01,V1xx0,17455.900,1.552,59.966,92.411*2F'), null);
    assert.match(
      sentenceProblem('$KTH01,V1xx0,17455.900,1.552,59.966,92.411*2E') ?? '',
      /checksum 2E does not match 2F/,
    );
  });

  test('times are the file-name date plus the seconds, exact to the ns', async () => {
    const file = write('2012-12-12_X.csv', [
      sentence('KTH01,V1xx0,17455.900,1.552,59.966,92.411'),
      sentence('KTH01,V1xx0,17455.900000001,1.553,59.967,-180.000'),
    ]);
    const log = await readOpenPmuLog(file);
    assert.deepEqual([log.station, log.channel, log.date, log.sentences], ['KTH01', 'V1xx0', '2012-12-12', 2]);
    assert.deepEqual([...log.times], [1355287855900000000n, 1355287855900000001n]);
    assert.deepEqual(
      log.columns.map((c) => [...c]),
      [
        [1.552, 1.553],
        [59.966, 59.967],
        [92.411, -180],
      ],
    );
  });

  test('a log running past midnight continues on the next day', async () => {
    const file = write('x.csv', [sentence('A,B,86399.9,1,50,0'), sentence('A,B,0.0,1,50,0')], '\n');
    const log = await readOpenPmuLog(file, { date: '2020-02-28' });
    assert.deepEqual(
      [...log.times].map((t) => new Date(Number(t / 1_000_000n)).toISOString()),
      ['2020-02-28T23:59:59.900Z', '2020-02-29T00:00:00.000Z'],
    );
  });

  test('bad sentences are collected with their line numbers', async () => {
    const file = write('2012-12-07_bad.csv', [
      sentence('A,B,1.0,1,50,0'),
      '$A,B,1.1,1,50,0*00',
      sentence('A,B,1.2,1,50'),
      sentence('A,C,1.3,1,50,0'),
      sentence('A,B,x,1,50,0'),
      sentence('A,B,1.5,1,NaN,0'),
      'garbage',
    ]);
    const log = await readOpenPmuLog(file);
    assert.deepEqual(
      log.bad.kept.map((b) => b.at),
      [2, 3, 4, 5, 6, 7],
    );
    assert.match(log.bad.kept[2]!.reason, /station\/channel A\/C differs from A\/B/);
    assert.match(log.bad.kept[4]!.reason, /frequency: value "NaN" is not finite/);
  });

  test('without a date in the name or the options it refuses to guess', async () => {
    const file = write('log.csv', [sentence('A,B,1.0,1,50,0')]);
    await assert.rejects(readOpenPmuLog(file), /file name must start with YYYY-MM-DD/);
    assert.equal(midnightOf('2012-02-30'), null);
    assert.equal(midnightOf('1970-01-02'), 86_400_000_000_000n);
  });
});

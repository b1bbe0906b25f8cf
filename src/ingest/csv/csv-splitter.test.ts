import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CsvSplitter } from './csv-splitter.ts';

/** Split `text` fed in pieces of `size` characters. */
function split(text: string, size = text.length, delimiter = ','): [number, string[]][] {
  const out: [number, string[]][] = [];
  const s = new CsvSplitter(delimiter, (fields, line) => out.push([line, fields]));
  for (let i = 0; i < text.length; i += size) s.push(text.slice(i, i + size));
  s.end();
  return out;
}

describe('CsvSplitter', () => {
  test('LF, CRLF and bare CR all end a record, and line numbers count each once', () => {
    const want = [
      [1, ['a', 'b']],
      [2, ['1', '2']],
      [3, ['3', '4']],
      [4, ['5', '6']],
    ];
    assert.deepEqual(split('a,b\n1,2\r\n3,4\r5,6'), want);
    assert.deepEqual(split('a,b\n1,2\r\n3,4\r5,6\n'), want);
  });

  test('records split across chunks at any point come out the same', () => {
    const text = 'time,value\r\n1,"x, ""y"""\r\n2,"multi\nline"\r3,4\r\n\r\n5,6';
    const whole = split(text);
    assert.deepEqual(whole, [
      [1, ['time', 'value']],
      [2, ['1', 'x, "y"']],
      [3, ['2', 'multi\nline']],
      [5, ['3', '4']],
      [7, ['5', '6']],
    ]);
    for (let size = 1; size <= 7; size++) assert.deepEqual(split(text, size), whole, `chunks of ${size}`);
  });

  test('empty lines are skipped but counted', () => {
    assert.deepEqual(split('\n\na;b\n\n'.replaceAll(';', '\t'), 3, '\t'), [[3, ['a', 'b']]]);
  });

  test('a quote or line break cannot be the delimiter', () => {
    assert.throws(() => new CsvSplitter('"', () => undefined), RangeError);
    assert.throws(() => new CsvSplitter('ab', () => undefined), RangeError);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { describeTally, fuzzDecoderAsync, fuzzRuns, fuzzSeed, hostileBytes } from '../../../test/fuzz/fuzz.ts';
import { isDbError } from '../../core/errors.ts';
import { readCsvPoints } from './csv-points.ts';
import { CsvSplitter, MAX_RECORD_CHARS } from './csv-splitter.ts';
import { nmeaChecksum, readOpenPmuLog } from './openpmu-log.ts';

type Rec = [string[], number];

/**
 * An independent reading of the splitting rules (csv-splitter.ts): records end at LF, CRLF or CR;
 * empty lines are skipped but counted; a field starting with a quote runs to the closing quote
 * ("" is a quote) and may hold delimiters and line breaks; an unterminated quote takes the rest.
 */
function reference(text: string, d: string): Rec[] {
  const out: Rec[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  const skipTerminator = (): void => {
    i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
    line++;
  };
  while (i < n) {
    if (text[i] === '\n' || text[i] === '\r') {
      skipTerminator();
      continue;
    }
    const start = line;
    const fields: string[] = [];
    let field = '';
    for (;;) {
      if (text[i] === '"') {
        i++;
        while (i < n) {
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
          field += c;
          i++;
        }
      }
      while (i < n && text[i] !== d && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      if (i < n && text[i] === d) {
        fields.push(field);
        field = '';
        i++;
        continue;
      }
      fields.push(field);
      out.push([fields, start]);
      if (i < n) skipTerminator();
      break;
    }
  }
  return out;
}

function split(chunks: readonly string[], d = ','): Rec[] {
  const out: Rec[] = [];
  const s = new CsvSplitter(d, (fields, line) => out.push([fields, line]));
  for (const c of chunks) s.push(c);
  s.end();
  return out;
}

/** Text made of the characters that matter to the splitter, cut into chunks at random places. */
const chunkedCsv = fc
  .tuple(
    fc.string({ unit: fc.constantFrom('a', '1', ',', '"', '"', '\n', '\r', ' ', 'é'), maxLength: 120 }),
    fc.array(fc.nat(), { maxLength: 8 }),
  )
  .map(([text, cuts]) => {
    const at = [...new Set(cuts.map((c) => (text.length === 0 ? 0 : c % text.length)))].sort((a, b) => a - b);
    const chunks: string[] = [];
    let prev = 0;
    for (const c of at) {
      chunks.push(text.slice(prev, c));
      prev = c;
    }
    chunks.push(text.slice(prev));
    return { text, chunks };
  });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-csv-fuzz-'));
let fileNo = 0;
/** A fresh file named `pattern` with N replaced by a counter. */
function tempFile(pattern: string, bytes: Uint8Array): string {
  const file = path.join(dir, pattern.replace('N', String(fileNo++)));
  fs.writeFileSync(file, bytes);
  return file;
}

const expected = (e: unknown): boolean => isDbError(e) && e.message.length > 0;

describe('CSV splitting under fuzzing', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('splits any text into the records of the reference reading, however it is chunked', () => {
    fc.assert(
      fc.property(chunkedCsv, ({ text, chunks }) => {
        const want = reference(text, ',');
        assert.deepEqual(split([text]), want, 'whole');
        assert.deepEqual(split(chunks), want, 'chunked');
      }),
      { numRuns: fuzzRuns(3000), seed: fuzzSeed('csv split') },
    );
  });

  it('reads a long quoted field fed one character at a time in linear time, and bounds a record', () => {
    // Was quadratic: every chunk re-parsed the whole unfinished record (a 4 MiB body: minutes).
    const s = new CsvSplitter(',', () => {});
    s.push('"\r');
    const t0 = performance.now();
    assert.throws(
      () => {
        for (let i = 0; i <= MAX_RECORD_CHARS; i++) s.push('a');
      },
      (e) => isDbError(e, 438) && /record longer than 1048576 characters/.test((e as Error).message),
    );
    const ms = performance.now() - t0;
    assert.ok(ms < 30_000, `${ms} ms`);
    const rows: Rec[] = [];
    const t = new CsvSplitter(',', (f, l) => rows.push([f, l]));
    t.push('"a,');
    for (let i = 0; i < 1000; i++) t.push('\nb');
    t.push('"\r');
    t.push('\n1,2');
    t.end();
    assert.deepEqual(rows, [
      [[`a,${'\nb'.repeat(1000)}`], 1],
      [['1', '2'], 1002],
    ]);
  });

  it('CSV files (arbor import): points and bad rows, or a DbError, for any bytes', async (t) => {
    const valid = [
      'time,value\n1704067200000000000,1.5\n1704067200008333333,-2\n',
      'value;time;x\r\n1;2024-01-01T00:00:00Z;"a,b"\r\n',
      '\uFEFFtime,value,flags\n5,6,7\n',
    ];
    const tally = await fuzzDecoderAsync({
      name: 'csv file',
      inputs: hostileBytes(
        valid.map((v) => new TextEncoder().encode(v)),
        120,
      ),
      decode: (b) => readCsvPoints(tempFile('N.csv', b), {}),
      expected,
      check: (r) => {
        assert.equal(r.values.length, r.times.length);
        if (r.bad.empty) assert.ok(r.times.length <= r.rows);
      },
      runs: 1500,
    });
    t.diagnostic(describeTally(tally));
  });

  it('OpenPMU logs: frames and bad sentences, or a DbError, for any bytes', async (t) => {
    const sentence = (body: string) => `$${body}*${nmeaChecksum(body)}`;
    const valid = [
      [
        sentence('KTH01,V1xx0,17455.900,1.552,59.966,92.411'),
        sentence('KTH01,V1xx0,17455.920,1.553,59.967,-180.000'),
        sentence('KTH01,V1xx0,86399.980,1.5,60,0'),
        sentence('KTH01,V1xx0,0.000,1.5,60,0'),
      ].join('\r'),
      `${sentence('A,B,1.5,1,2,3')}\n`,
    ];
    const tally = await fuzzDecoderAsync({
      name: 'openpmu log',
      inputs: hostileBytes(
        valid.map((v) => new TextEncoder().encode(v)),
        120,
      ),
      decode: (b) => readOpenPmuLog(tempFile('2012-12-12_N.csv', b)),
      expected,
      check: (log) => {
        for (const c of log.columns) assert.equal(c.length, log.times.length);
        assert.ok(log.times.length <= log.sentences);
      },
      runs: 1500,
    });
    t.diagnostic(describeTally(tally));
  });
});

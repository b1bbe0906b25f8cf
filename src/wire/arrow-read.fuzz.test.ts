import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { arrowSamples, SAMPLE_ROWS as n } from '../../test/fuzz/arrow-samples.ts';
import { describeTally, fuzzDecoder, hostileBytes } from '../../test/fuzz/fuzz.ts';
import { arrowIpcProblem } from '../core/arrow-ipc-check.ts';
import { isDbError } from '../core/errors.ts';
import { decodeArrowMultiValues, decodeArrowPoints, decodeArrowWindows } from './arrow-read.ts';
import { parseArrowTemplate } from './arrow-template.ts';

const expected = (e: unknown): boolean => isDbError(e, 438) && e.message.length > 0;

describe('Arrow IPC readers under fuzzing', () => {
  const valid = arrowSamples();

  it('the seeds are readable (each is a valid IPC stream or file)', () => {
    assert.equal(decodeArrowPoints(valid[0]!).times.length, n);
    assert.equal(decodeArrowPoints(valid[4]!).times.length, n);
  });

  it('decodeArrowPoints (ArrowInsert and HTTP Arrow bodies): columns or DbError 438', (t) => {
    const tally = fuzzDecoder({
      name: 'arrow points',
      inputs: hostileBytes(valid, 200),
      decode: (b) => decodeArrowPoints(b),
      expected,
      check: (p) => {
        assert.ok(p.times instanceof BigInt64Array && p.values instanceof Float64Array);
        assert.equal(p.values.length, p.times.length);
      },
      runs: 3000,
    });
    t.diagnostic(describeTally(tally));
    assert.ok(tally.decoded > 0);
  });

  it('decodeArrowWindows and decodeArrowMultiValues (our client): columns or DbError 438', (t) => {
    const tally = fuzzDecoder({
      name: 'arrow windows and multi',
      inputs: hostileBytes(valid, 200),
      decode: (b) => [decodeOr(() => decodeArrowWindows(b)), decodeOr(() => decodeArrowMultiValues(b))] as const,
      expected,
      check: ([w, m]) => {
        if (w !== undefined)
          for (const c of [w.min, w.mean, w.max, w.count, w.stddev]) assert.equal(c.length, w.times.length);
        if (m !== undefined) for (const c of m.columns) assert.equal(c.length, m.times.length);
      },
      runs: 2000,
    });
    t.diagnostic(describeTally(tally));
  });

  it('parseArrowTemplate (templateBytes of ArrowRawValues/ArrowMultiValues): a template or DbError 438', (t) => {
    const tally = fuzzDecoder({
      name: 'arrow template',
      inputs: hostileBytes(valid, 200),
      decode: (b) => parseArrowTemplate(b, 2),
      expected,
      runs: 2000,
    });
    t.diagnostic(describeTally(tally));
  });
});

/** Run one reader; its DbError 438 is a fine answer here, anything else propagates. */
function decodeOr<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (expected(e)) return undefined;
    throw e;
  }
}

describe('Arrow IPC regressions found by fuzzing', () => {
  const fixture = (name: string): Uint8Array =>
    new Uint8Array(
      Buffer.from(readFileSync(new URL(`../../test/fixtures/fuzz/${name}`, import.meta.url), 'utf8').trim(), 'hex'),
    );

  it('rejects a FlatBuffers vector length of ~2^32 before apache-arrow loops on it (was out of memory)', () => {
    const bytes = fixture('arrow-nodes-length-oom.hex');
    assert.match(arrowIpcProblem(bytes) ?? '', /vector of \d+ × \d+ bytes runs past the end/);
    for (const read of [decodeArrowPoints, decodeArrowWindows, decodeArrowMultiValues]) {
      assert.throws(
        () => read(bytes),
        (e) => expected(e) && /not an Arrow IPC stream/.test((e as Error).message),
      );
    }
    assert.throws(() => parseArrowTemplate(bytes, 2), expected);
  });

  it('rejects a file block whose message is not a record batch (was an endless loop)', () => {
    const bytes = fixture('arrow-file-block-type-hang.hex');
    assert.match(arrowIpcProblem(bytes) ?? '', /header type 225, expected 3/);
    assert.throws(() => decodeArrowPoints(bytes), expected);
  });

  it('rejects a timestamp column of an unknown time unit with DbError 438 (was a TypeError)', () => {
    const bytes = fixture('arrow-unknown-time-unit.hex');
    assert.throws(
      () => decodeArrowWindows(bytes),
      (e) => expected(e) && /unknown time unit/.test((e as Error).message),
    );
  });

  it('accepts every valid seed unchanged (the framing check has no false alarms)', () => {
    for (const b of arrowSamples()) assert.equal(arrowIpcProblem(b), undefined);
  });
});

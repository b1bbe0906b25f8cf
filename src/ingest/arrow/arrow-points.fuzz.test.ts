import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { arrowSamples } from '../../../test/fuzz/arrow-samples.ts';
import { describeTally, fuzzDecoder, hostileBytes } from '../../../test/fuzz/fuzz.ts';
import { isDbError } from '../../core/errors.ts';
import { readArrowPoints } from './arrow-points.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-arrow-fuzz-'));
let fileNo = 0;

function readBytes(bytes: Uint8Array): ReturnType<typeof readArrowPoints> {
  const file = path.join(dir, `${fileNo++}.arrow`);
  fs.writeFileSync(file, bytes);
  try {
    return readArrowPoints(file, { allowNonFinite: true });
  } finally {
    fs.rmSync(file);
  }
}

describe('Arrow file import under fuzzing', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads points and bad rows, or rejects with a DbError, for any mutation of a valid file', (t) => {
    const tally = fuzzDecoder({
      name: 'arrow import',
      inputs: hostileBytes(arrowSamples(), 200),
      decode: readBytes,
      expected: (e) => isDbError(e) && e.message.length > 0,
      check: (r) => {
        assert.equal(r.values.length, r.times.length);
        if (r.bad.empty) assert.equal(r.times.length, r.rows);
      },
      runs: 2000,
    });
    t.diagnostic(describeTally(tally));
    assert.ok(tally.decoded > 0);
  });

  it('reads a stream whose fields have no name (was a TypeError in the column lookup)', () => {
    const hex = fs.readFileSync(
      new URL('../../../test/fixtures/fuzz/arrow-unnamed-field.hex', import.meta.url),
      'utf8',
    );
    const r = readBytes(new Uint8Array(Buffer.from(hex.trim(), 'hex')));
    assert.equal(r.times.length, r.values.length);
  });

  it('rejects the inputs that made apache-arrow run out of memory or loop forever', () => {
    for (const name of ['arrow-nodes-length-oom.hex', 'arrow-file-block-type-hang.hex']) {
      const hex = fs.readFileSync(new URL(`../../../test/fixtures/fuzz/${name}`, import.meta.url), 'utf8').trim();
      assert.throws(
        () => readBytes(new Uint8Array(Buffer.from(hex, 'hex'))),
        (e) => isDbError(e, 438) && /is not an Arrow IPC file or stream/.test((e as Error).message),
        name,
      );
    }
  });
});

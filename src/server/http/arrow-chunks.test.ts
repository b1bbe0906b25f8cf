import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { rawValuesToArrow, windowsToArrow } from '../../wire/index.ts';
import { ARROW_EOS, ArrowStitcher } from './arrow-chunks.ts';

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

test('stitched chunks read back as one IPC stream with every row in order', () => {
  const s = new ArrowStitcher();
  const parts: Uint8Array[] = [];
  for (let k = 0; k < 3; k++) {
    const times = BigInt64Array.from({ length: 4 }, (_, i) => BigInt(k * 4 + i));
    const values = Float64Array.from({ length: 4 }, (_, i) => k * 4 + i + 0.5);
    parts.push(s.chunk(rawValuesToArrow({ times, values })));
  }
  parts.push(s.end());
  const t = tableFromIPC(concat(parts));
  assert.equal(t.numRows, 12);
  assert.equal(t.batches.length, 3);
  assert.deepEqual(
    [...(t.getChild('value')!.toArray() as Float64Array)],
    Array.from({ length: 12 }, (_, i) => i + 0.5),
  );
});

test('an empty answer is a schema and the end marker', () => {
  const s = new ArrowStitcher();
  const bytes = concat([s.chunk(windowsToArrow([])), s.end()]);
  const t = tableFromIPC(bytes);
  assert.equal(t.numRows, 0);
  assert.deepEqual(
    t.schema.fields.map((f) => f.name),
    ['time', 'min', 'mean', 'max', 'count', 'stddev'],
  );
  assert.deepEqual([...bytes.subarray(-8)], [...ARROW_EOS]);
});

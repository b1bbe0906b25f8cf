import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { describeTally, fuzzDecoder, mutated } from '../../test/fuzz/fuzz.ts';
import { crc32, RECORD_HEADER_BYTES, readU32, recordProblem, writeRecord } from './record-format.ts';
import { judgeTail, type PositionalReader, readRecords, type ScanResult } from './record-scan.ts';

/** A file in memory that counts the bytes it was asked for (reads beyond the end return fewer). */
class BytesFile implements PositionalReader {
  requested = 0;
  constructor(readonly bytes: Uint8Array) {}
  read(dst: Uint8Array, position: number): number {
    this.requested += dst.length;
    const src = this.bytes.subarray(position, position + dst.length);
    dst.set(src);
    return src.length;
  }
}

function segment(payloads: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(payloads.reduce((s, p) => s + RECORD_HEADER_BYTES + p.length, 0));
  let at = 0;
  for (const p of payloads) {
    writeRecord(out, at, p);
    at += RECORD_HEADER_BYTES + p.length;
  }
  return out;
}

function samples(): Uint8Array[] {
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  return [
    segment([text('{"k":"create"}'), Uint8Array.of(1), new Uint8Array(300).fill(7), text('tail')]),
    segment([Uint8Array.from({ length: 40 }, (_, i) => i)]),
    segment(Array.from({ length: 12 }, (_, i) => Uint8Array.of(i, i + 1, i + 2))),
    new Uint8Array(64), // zero-filled space past a crash
  ];
}

interface Scan {
  readonly records: { offset: number; payload: Uint8Array }[];
  readonly result: ScanResult;
}

function scan(bytes: Uint8Array, maxPayload: number): Scan {
  const file = new BytesFile(bytes);
  const it = readRecords(file, 0, bytes.length, maxPayload);
  const records: { offset: number; payload: Uint8Array }[] = [];
  for (let r = it.next(); ; r = it.next()) {
    if (r.done) {
      // Reads stay in proportion to the file, whatever the lengths in it claim.
      assert.ok(file.requested <= 2 * bytes.length + 2 * RECORD_HEADER_BYTES + (1 << 20) + 64, 'read too much');
      return { records, result: r.value };
    }
    records.push({ offset: r.value.offset, payload: r.value.payload.slice() });
  }
}

/** The scan's answer, checked against an independent walk over the same bytes. */
function checkScan(s: Scan, bytes: Uint8Array, maxPayload: number): void {
  let at = 0;
  for (const r of s.records) {
    assert.equal(r.offset, at);
    const len = readU32(bytes, at);
    assert.ok(len > 0 && len <= maxPayload);
    assert.equal(r.payload.length, len);
    assert.equal(crc32(r.payload), readU32(bytes, at + 4));
    at += RECORD_HEADER_BYTES + len;
  }
  assert.equal(s.result.end, at);
  if (at === bytes.length) assert.equal(s.result.problem, undefined);
  else {
    assert.equal(s.result.problem?.offset, at);
    assert.equal(s.result.problem?.reason, recordProblem(bytes, at, bytes.length - at, maxPayload));
    const verdict = judgeTail(new BytesFile(bytes), at, bytes.length, maxPayload);
    if (verdict.kind === 'valid-record-follows') {
      assert.ok(verdict.offset > at);
      assert.equal(recordProblem(bytes, verdict.offset, bytes.length - verdict.offset, maxPayload), undefined);
    }
  }
}

describe('record framing under fuzzing', () => {
  const valid = samples();

  for (const maxPayload of [1 << 20, 16]) {
    it(`scans mutated segments to the first bad record and judges the tail, never throwing (limit ${maxPayload})`, (t) => {
      const tally = fuzzDecoder({
        name: `record scan ${maxPayload}`,
        inputs: fc.oneof(mutated(valid, 5), fc.uint8Array({ maxLength: 200 })),
        decode: (b) => scan(b, maxPayload),
        expected: () => false, // a scan reports problems, it never throws
        check: (s, input) => checkScan(s, input, maxPayload),
        runs: 3000,
      });
      t.diagnostic(describeTally(tally));
    });
  }

  it('reports a 4 GiB length prefix as over the limit without reading or allocating it', () => {
    const bytes = segment([Uint8Array.of(1, 2, 3)]);
    bytes.set([0xff, 0xff, 0xff, 0xff], 0);
    const s = scan(bytes, 1 << 20);
    assert.equal(s.result.problem?.reason, 'length 4294967295 exceeds the limit of 1048576 bytes');
  });
});

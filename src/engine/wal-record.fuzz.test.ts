import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeTally, fuzzDecoder, hostileBytes } from '../../test/fuzz/fuzz.ts';
import { isDbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { decodeWalInsert, encodeWalInsert, type WalInsert } from './wal-record.ts';

const id = '0b5e2f6a-9c1d-4e8f-a2b3-c4d5e6f70819' as StreamId;

function samples(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const n of [0, 1, 2, 5, 40]) {
    for (const flags of [false, true]) {
      const times = BigInt64Array.from({ length: n }, (_, i) => 1_704_067_200_000_000_000n + BigInt(i) * 8_333_333n);
      const values = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 100);
      out.push(
        encodeWalInsert({
          stream: id,
          version: 10 + n,
          policy: (['never', 'equal', 'retain', 'replace'] as const)[n % 4]!,
          batch: flags ? { times, values, flags: Uint32Array.from({ length: n }, (_, i) => i) } : { times, values },
        }),
      );
    }
  }
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** An accepted record re-encodes to exactly the bytes read (the format has no slack). */
function reEncodes(rec: WalInsert, input: Uint8Array): void {
  assert.equal(rec.batch.values.length, rec.batch.times.length);
  assert.equal(hex(encodeWalInsert(rec)), hex(input));
}

const expected = (e: unknown): boolean => isDbError(e, 500) && e.message.startsWith('WAL record fuzz: ');

describe('WAL record decoder under fuzzing', () => {
  it('accepts or rejects with DbError 500 any mutation of a valid record; what it accepts re-encodes exactly', (t) => {
    const tally = fuzzDecoder({
      name: 'wal record mutations',
      inputs: hostileBytes(samples(), 128),
      decode: (b) => decodeWalInsert(b, 'fuzz'),
      expected,
      check: reEncodes,
      runs: 4000,
    });
    t.diagnostic(describeTally(tally));
    assert.ok(tally.decoded > 0 && tally.rejected > 0);
  });

  it('rejects a header claiming 2^32 − 1 points without allocating them', () => {
    const rec = samples()[2]!.slice();
    rec.set([0xff, 0xff, 0xff, 0xff], 20);
    assert.throws(
      () => decodeWalInsert(rec, 'fuzz'),
      (e) => expected(e) && /expected 68719476752/.test((e as Error).message),
    );
  });

  it('rejects a flags byte other than 0 or 1 and a non-zero reserved byte', () => {
    for (const [at, value, message] of [
      [2, 2, /flags byte 2/],
      [3, 1, /reserved byte 1/],
    ] as const) {
      const rec = samples()[2]!.slice();
      rec[at] = value;
      assert.throws(
        () => decodeWalInsert(rec, 'fuzz'),
        (e) => expected(e) && message.test((e as Error).message),
      );
    }
  });
});

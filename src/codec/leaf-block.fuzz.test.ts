import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { describeTally, fuzzDecoder, mutated } from '../../test/fuzz/fuzz.ts';
import { isDbError } from '../core/errors.ts';
import { mulberry32 } from '../core/random.ts';
import { decodeLeaf, encodeLeaf, type LeafEncodeOptions, MAX_LEAF_POINTS } from './leaf-block.ts';
import type { LeafColumns } from './types.ts';

const bitsOf = (v: Float64Array): string[] =>
  Array.from(new BigUint64Array(v.buffer, v.byteOffset, v.length), (b) => b.toString(16));

/** Valid leaves covering every time predictor, value encoding and flags encoding. */
function samples(): Uint8Array[] {
  const rnd = mulberry32(8);
  const out: Uint8Array[] = [];
  const t0 = 1_704_067_200_000_000_000n;
  const regular = (n: number, jitter: number): BigInt64Array =>
    BigInt64Array.from({ length: n }, (_, i) => t0 + BigInt(i) * 8_333_333n + BigInt(Math.floor(rnd() * jitter)));
  const sizes = [1, 2, 3, 33, 70, 300];
  const valueSets: [string, (n: number) => Float64Array, LeafEncodeOptions][] = [
    ['sine', (n) => Float64Array.from({ length: n }, (_, i) => 7200 + Math.sin(i)), {}],
    ['decimal', (n) => Float64Array.from({ length: n }, (_, i) => ((i * 7) % 13) / 100), {}],
    ['const', (n) => new Float64Array(n).fill(59.97), {}],
    [
      'runs',
      (n) => Float64Array.from({ length: n }, (_, i) => (i < n / 2 ? 1.5 : Number.NaN)),
      { valueEncoding: 'rle' },
    ],
    ['raw', (n) => Float64Array.from({ length: n }, () => rnd() * 1e6), { valueEncoding: 'raw' }],
    ['int', (n) => Float64Array.from({ length: n }, (_, i) => i * 3 - 50), { valueEncoding: 'int' }],
  ];
  const predictors = ['prev', 'prev2', 'linear', 'stride'] as const;
  let k = 0;
  for (const n of sizes) {
    for (const [, values, options] of valueSets) {
      const times = k % 3 === 0 ? regular(n, 0) : regular(n, 1000);
      const flags =
        k % 4 === 0
          ? undefined
          : k % 4 === 1
            ? new Uint32Array(n).fill(3)
            : k % 4 === 2
              ? Uint32Array.from({ length: n }, (_, i) => (i < n / 3 ? 1 : 0xffffffff))
              : Uint32Array.from({ length: n }, () => Math.floor(rnd() * 2 ** 32));
      const cols: LeafColumns =
        flags === undefined ? { times, values: values(n) } : { times, values: values(n), flags };
      out.push(encodeLeaf(cols, { ...options, timePredictor: predictors[k % 4]! }));
      k++;
    }
  }
  out.push(encodeLeaf({ times: new BigInt64Array(0), values: new Float64Array(0) }));
  out.push(
    encodeLeaf({
      times: BigInt64Array.from([-(2n ** 63n), 0n, 2n ** 63n - 1n]),
      values: Float64Array.of(-0, Number.POSITIVE_INFINITY, 5e-324),
    }),
  );
  return out;
}

/** An accepted leaf must be well formed and survive encode → decode unchanged. */
function reValidate(cols: LeafColumns): void {
  const n = cols.times.length;
  assert.ok(n <= MAX_LEAF_POINTS);
  assert.equal(cols.values.length, n);
  if (cols.flags !== undefined) assert.equal(cols.flags.length, n);
  const again = decodeLeaf(encodeLeaf(cols));
  assert.deepEqual(Array.from(again.times), Array.from(cols.times));
  assert.deepEqual(bitsOf(again.values), bitsOf(cols.values));
  assert.deepEqual(again.flags && Array.from(again.flags), cols.flags && Array.from(cols.flags));
}

const expected = (e: unknown): boolean => isDbError(e, 500) && /^leaf block: .* at byte \d+ of \d+$/s.test(e.message);

describe('leaf block decoder under fuzzing', () => {
  const valid = samples();

  it('round-trips every valid sample (the mutation seeds are real blocks)', () => {
    for (const b of valid) reValidate(decodeLeaf(b));
  });

  it('accepts or rejects with DbError 500 any mutation of a valid leaf, in time', (t) => {
    const tally = fuzzDecoder({
      name: 'leaf mutations',
      inputs: mutated(valid, 5),
      decode: decodeLeaf,
      expected,
      check: reValidate,
      runs: 4000,
    });
    t.diagnostic(describeTally(tally));
    assert.ok(tally.rejected > 0 && tally.decoded > 0);
  });

  it('accepts or rejects with DbError 500 random bytes and random bytes behind a leaf header', (t) => {
    const withHeader = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc
        .tuple(fc.boolean(), fc.uint8Array({ maxLength: 400 }))
        .map(([f, body]) => Uint8Array.of(0x4c, 1, f ? 1 : 0, ...body)),
    );
    const tally = fuzzDecoder({
      name: 'leaf random bytes',
      inputs: withHeader,
      decode: decodeLeaf,
      expected,
      check: reValidate,
      runs: 2000,
    });
    t.diagnostic(describeTally(tally));
  });

  it('rejects a claimed 2^20 points with a 4 GiB group width in a handful of bytes, without allocating them', () => {
    // n = 2^20, x0 = 0, mode prev/2^12, scale 1, then a group header claiming 64-bit fields.
    const bytes = Uint8Array.of(0x4c, 1, 0, 0x80, 0x80, 0x40, 0, 0xc1, 1, 64, 0);
    assert.throws(
      () => decodeLeaf(bytes),
      (e) => isDbError(e, 500),
    );
  });
});

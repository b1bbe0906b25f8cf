import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isDbError } from '../core/errors.ts';
import type { EncodingName } from './column-encoding.ts';
import { describeLeaf } from './describe-block.ts';
import { decodeLeaf, encodeLeaf, type LeafEncodeOptions, MAX_LEAF_POINTS, type PredictorName } from './leaf-block.ts';
import type { LeafColumns } from './types.ts';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** Float64s from raw bit patterns, so NaN payloads and −0 are exercised. */
function fromBits(bits: readonly bigint[]): Float64Array {
  return new Float64Array(BigUint64Array.from(bits.map((b) => BigInt.asUintN(64, b))).buffer);
}

function bitsOf(values: Float64Array): string[] {
  return Array.from(new BigUint64Array(values.buffer, values.byteOffset, values.length), (b) => b.toString(16));
}

function assertSameLeaf(actual: LeafColumns, expected: LeafColumns): void {
  assert.deepEqual(Array.from(actual.times), Array.from(expected.times));
  assert.deepEqual(bitsOf(actual.values), bitsOf(expected.values));
  assert.deepEqual(
    actual.flags === undefined ? undefined : Array.from(actual.flags),
    expected.flags === undefined ? undefined : Array.from(expected.flags),
  );
}

function roundTrip(cols: LeafColumns, options?: LeafEncodeOptions): Uint8Array {
  const bytes = encodeLeaf(cols, options);
  assertSameLeaf(decodeLeaf(bytes), cols);
  return bytes;
}

const leaf = (times: readonly bigint[], values: readonly number[], flags?: readonly number[]): LeafColumns =>
  flags === undefined
    ? { times: BigInt64Array.from(times), values: Float64Array.from(values) }
    : { times: BigInt64Array.from(times), values: Float64Array.from(values), flags: Uint32Array.from(flags) };

/** Sorted times with duplicates, jitter, regular steps and huge gaps, wrapping at the int64 ends. */
const arbTimes = (n: fc.Arbitrary<number>): fc.Arbitrary<bigint[]> =>
  fc
    .tuple(
      fc.oneof(fc.bigInt({ min: -(2n ** 60n), max: 3n * 2n ** 60n }), fc.constantFrom(I64_MIN, I64_MAX, 0n, -1n)),
      n.chain((len) =>
        fc.array(
          fc.oneof(
            fc.constant(0n),
            fc.constant(8_333_333n),
            fc.bigInt({ min: 8_332_333n, max: 8_334_333n }),
            fc.bigInt({ min: 0n, max: 1000n }),
            fc.bigInt({ min: 0n, max: 2n ** 62n }),
          ),
          { minLength: len - 1, maxLength: len - 1 },
        ),
      ),
    )
    .map(([start, steps]) => {
      const out = [start];
      for (const s of steps) out.push(BigInt.asIntN(64, out[out.length - 1]! + s));
      return out;
    });

const arbFloatBits = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.constantFrom(
    0x8000000000000000n, // −0
    0x7ff8000000000000n, // NaN
    0x7ff0000000000001n, // signalling NaN payload
    0xfff8000000000123n, // negative NaN with payload
    0x7ff0000000000000n, // +Inf
    0xfff0000000000000n, // −Inf
    0x0000000000000001n, // smallest subnormal
    0x000fffffffffffffn, // largest subnormal
    0x7fefffffffffffffn, // MAX_VALUE
  ),
);

/** Values of several shapes: random bits, decimals, runs, a noisy sine, one constant. */
const arbValues = (n: number): fc.Arbitrary<Float64Array> =>
  fc.oneof(
    fc.array(arbFloatBits, { minLength: n, maxLength: n }).map(fromBits),
    fc
      .tuple(
        fc.integer({ min: 0, max: 9 }),
        fc.array(fc.integer({ min: -1e9, max: 1e9 }), { minLength: n, maxLength: n }),
      )
      .map(([k, ms]) => Float64Array.from(ms, (m) => m / 10 ** k)),
    fc.array(fc.constantFrom(1.5, -2.25, 0, 7200.125), { minLength: n, maxLength: n }).map((vs) => {
      const out = Float64Array.from(vs);
      for (let i = 1; i < n; i++) if (i % 7 !== 0) out[i] = out[i - 1]!;
      return out;
    }),
    fc.double({ noNaN: true }).map((v) => new Float64Array(n).fill(v)),
    fc
      .double({ min: 0, max: 6.28, noNaN: true })
      .map((phase) =>
        Float64Array.from({ length: n }, (_, i) => 7200 + 5 * Math.sin(i * 3.1428 + phase) + ((i * 7919) % 13) * 0.01),
      ),
  );

const arbFlags = (n: number): fc.Arbitrary<Uint32Array | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: n, maxLength: n }).map((f) => Uint32Array.from(f)),
    fc.array(fc.constantFrom(0, 1, 0x80000000, 0xffffffff), { minLength: n, maxLength: n }).map((f) => {
      const out = Uint32Array.from(f);
      for (let i = 1; i < n; i++) if (i % 11 !== 0) out[i] = out[i - 1]!;
      return out;
    }),
  );

const arbSize = fc.oneof(
  fc.constantFrom(1, 2, 3, 31, 32, 33, 63, 64, 65, 96, 97, 255, 257, 1024),
  fc.integer({ min: 1, max: 1500 }),
);

const arbLeaf: fc.Arbitrary<LeafColumns> = arbSize.chain((n) =>
  fc.tuple(arbTimes(fc.constant(n)), arbValues(n), arbFlags(n)).map(([t, values, flags]) => {
    const times = BigInt64Array.from(t);
    return flags === undefined ? { times, values } : { times, values, flags };
  }),
);

describe('leaf blocks', () => {
  it('round-trip random leaves bit-exactly with the encoder choosing every column', () => {
    fc.assert(
      fc.property(arbLeaf, (cols) => {
        roundTrip(cols);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trip every time predictor and every value encoding when forced', () => {
    const times: PredictorName[] = ['prev', 'prev2', 'linear', 'stride'];
    const predictors: PredictorName[] = ['prev', 'prev2', 'linear', 'stride'];
    fc.assert(
      fc.property(
        arbLeaf,
        fc.constantFrom(...times),
        fc.constantFrom(...predictors),
        (cols, timePredictor, valuePredictor) => {
          for (const valueEncoding of ['raw', 'int', 'rle'] as const) {
            roundTrip(cols, { timePredictor, valueEncoding, valuePredictor });
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('choose the decimal encoding for 3-decimal data and keep it exact', () => {
    const n = 1024;
    const times = BigInt64Array.from({ length: n }, (_, i) => 1355300000000000000n + BigInt(i) * 100_000_000n);
    const values = Float64Array.from(
      { length: n },
      (_, i) => Math.round((59.9 + 0.05 * Math.sin(i / 50)) * 1000) / 1000,
    );
    const bytes = roundTrip({ times, values });
    const info = describeLeaf(bytes);
    assert.equal(info.values.encoding, 'decimal');
    assert.equal(info.values.decimals, 3);
    assert.ok(bytes.length / n < 1.5, `${bytes.length / n} bytes/point`);
    roundTrip({ times, values }, { valueEncoding: 'decimal', valuePredictor: 'linear' });
  });

  it('store a regular clock in almost no bits', () => {
    const n = 1024;
    const times = BigInt64Array.from({ length: n }, (_, i) => -(2n ** 60n) + BigInt(i) * 100_000_000n);
    const values = new Float64Array(n).fill(1);
    const bytes = roundTrip({ times, values });
    assert.ok(bytes.length < 40, `${bytes.length} bytes`);
    assert.equal(describeLeaf(bytes).times.predictor, 'stride');
  });

  it('keep special floats, int64 extremes and duplicate times exactly', () => {
    const times = [I64_MIN, I64_MIN, -1n, 0n, 0n, 1n, I64_MAX - 1n, I64_MAX, I64_MAX];
    const values = fromBits([
      0x8000000000000000n,
      0x7ff8000000000000n,
      0x7ff0000000000001n,
      0xfff8000000000123n,
      0x7ff0000000000000n,
      0xfff0000000000000n,
      1n,
      0x000fffffffffffffn,
      0n,
    ]);
    for (const valueEncoding of ['raw', 'int', 'rle', undefined] as const) {
      roundTrip({ times: BigInt64Array.from(times), values }, { valueEncoding });
    }
  });

  it('never take −0 for 0 in the decimal or constant encodings', () => {
    roundTrip(leaf([1n, 2n, 3n], [0.5, -0, 1.25]));
    roundTrip(leaf([1n, 2n, 3n], [-0, -0, -0]));
    roundTrip(leaf([1n, 2n, 3n], [0, -0, 0]));
    assert.throws(
      () => encodeLeaf(leaf([1n, 2n], [-0, 0.5]), { valueEncoding: 'decimal' }),
      (e) => isDbError(e, 421),
    );
  });

  it('handle sizes 0, 1, 2, 63, 64, 65, 1024 and 65536 with and without flags', () => {
    for (const n of [0, 1, 2, 63, 64, 65, 1024, 65536]) {
      const times = Array.from(
        { length: n },
        (_, i) => 1704067200000000000n + BigInt(i) * 8_333_333n + BigInt((i * 7919) % 2001) - 1000n,
      );
      const values = Array.from({ length: n }, (_, i) => 7200 + 5 * Math.sin(i * 3.1428));
      const flags = Array.from({ length: n }, (_, i) => (i % 100 === 0 ? 1 : 0));
      roundTrip(leaf(times, values));
      roundTrip(leaf(times, values, flags));
    }
  });

  it('cost one header bit and no bytes for absent flags', () => {
    const cols = leaf([1n, 2n, 3n], [1, 2, 3]);
    const without = encodeLeaf(cols);
    const withFlags = encodeLeaf({ ...cols, flags: new Uint32Array(3) });
    assert.equal(without[2], 0);
    assert.equal(withFlags[2], 1);
    assert.equal(withFlags.length, without.length + 5);
  });

  it('reject forced encodings that cannot represent the values', () => {
    assert.throws(
      () => encodeLeaf(leaf([1n, 2n], [1, 2]), { valueEncoding: 'const' }),
      (e) => isDbError(e, 421),
    );
    assert.throws(
      () => encodeLeaf(leaf([1n, 2n], [Math.PI, 1]), { valueEncoding: 'decimal' }),
      (e) => isDbError(e, 421),
    );
  });

  it('reject mismatched column lengths and oversized leaves', () => {
    assert.throws(
      () => encodeLeaf({ times: new BigInt64Array(2), values: new Float64Array(3) }),
      (e) => isDbError(e, 421),
    );
    assert.throws(
      () => encodeLeaf({ times: new BigInt64Array(2), values: new Float64Array(2), flags: new Uint32Array(1) }),
      (e) => isDbError(e, 421),
    );
    const n = MAX_LEAF_POINTS + 1;
    assert.throws(
      () => encodeLeaf({ times: new BigInt64Array(n), values: new Float64Array(n) }),
      (e) => isDbError(e, 421),
    );
  });

  it('encode views into larger arrays the same as copies', () => {
    const times = BigInt64Array.from({ length: 100 }, (_, i) => BigInt(i * 1000));
    const values = Float64Array.from({ length: 100 }, (_, i) => i / 8);
    const view = { times: times.subarray(10, 60), values: values.subarray(10, 60) };
    const copy = { times: times.slice(10, 60), values: values.slice(10, 60) };
    assert.deepEqual(encodeLeaf(view), encodeLeaf(copy));
  });

  it('pick every value encoding when it is the smallest', () => {
    const n = 256;
    const times = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
    const pick = (values: Float64Array): EncodingName => describeLeaf(encodeLeaf({ times, values })).values.encoding;
    assert.equal(pick(new Float64Array(n).fill(Math.PI)), 'const');
    assert.equal(pick(Float64Array.from({ length: n }, (_, i) => Math.floor(i / 64) * Math.PI)), 'rle');
    assert.equal(pick(Float64Array.from({ length: n }, (_, i) => i / 100)), 'decimal');
    assert.equal(pick(Float64Array.from({ length: n }, (_, i) => 100 + Math.sin(i) / 3)), 'int');
    assert.equal(
      pick(fromBits(Array.from({ length: n }, (_, i) => BigInt.asUintN(64, BigInt(i) * 0x9e3779b97f4a7c15n)))),
      'raw',
    );
  });
});

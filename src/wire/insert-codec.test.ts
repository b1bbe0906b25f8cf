import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MergePolicy } from './enums.ts';
import { decodeInsertParams, encodeInsertParams, type InsertParams } from './insert-codec.ts';
import { canonicalOf, reflectionDecodeCanonical, reflectionEncode } from './reflection-reference.ts';
import { WireFormatError } from './wire-error.ts';

const I64 = { min: -(1n << 63n), max: (1n << 63n) - 1n };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const cols = (ts: bigint[], vs: number[]) => ({ times: BigInt64Array.from(ts), values: Float64Array.from(vs) });
const params = (n: number, seed = 1): InsertParams => {
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    times[i] = 1_600_000_000_000_000_000n + BigInt(i) * 8_333_333n + BigInt(x % 1000);
    values[i] = Math.sin(i / 10) * 1000 + x / 1e6;
  }
  return { uuid: new Uint8Array(16).fill(7), sync: false, values: { times, values }, merge_policy: MergePolicy.NEVER };
};
const rejects = (bytes: Uint8Array | number[], pattern: RegExp) =>
  assert.throws(
    () => decodeInsertParams(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)),
    (e: unknown) => e instanceof WireFormatError && pattern.test(e.message),
  );

describe('InsertParams codec', () => {
  test('encodes the guide example as exactly the 40 bytes btrdb-python sends', () => {
    const bytes = encodeInsertParams({
      uuid: new Uint8Array(16).fill(0x78),
      sync: false,
      values: cols([1n], [2.0]),
      merge_policy: MergePolicy.REPLACE,
    });
    assert.equal(bytes.length, 40);
    assert.equal(hex(bytes), `0a10${'78'.repeat(16)}1a12090100000000000000110000000000000040` + '2003');
    assert.equal(hex(reflectionEncode('InsertParams', decodeInsertParams(bytes))), hex(bytes));
  });

  test('decodes 50,000 points exactly, as protobufjs reflection reads the same bytes', () => {
    const m = params(50_000);
    const bytes = encodeInsertParams(m);
    const back = decodeInsertParams(bytes);
    assert.deepStrictEqual(back, m);
    assert.deepStrictEqual(reflectionDecodeCanonical('InsertParams', bytes), canonicalOf('InsertParams', m));
  });

  test('equals the reflection codec on random points, both directions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.bigInt(I64), fc.double()), { maxLength: 200 }),
        fc.uint8Array({ maxLength: 16 }),
        fc.integer({ min: 0, max: 3 }),
        (pts, uuid, policy) => {
          const m: InsertParams = {
            uuid,
            sync: false,
            values: cols(
              pts.map((p) => p[0]),
              pts.map((p) => p[1]),
            ),
            merge_policy: policy,
          };
          assert.deepStrictEqual(decodeInsertParams(reflectionEncode('InsertParams', m)), m);
          assert.deepStrictEqual(
            reflectionDecodeCanonical('InsertParams', encodeInsertParams(m)),
            canonicalOf('InsertParams', m),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test('keeps times near ±2^63 exact and values bit-exact (NaN payload, -0.0)', () => {
    const values = new Float64Array(4);
    new BigUint64Array(values.buffer).set([0x7ff8_0000_dead_beefn, 0x8000_0000_0000_0000n, 0xfff0_0000_0000_0000n, 1n]);
    const m: InsertParams = {
      uuid: new Uint8Array(0),
      sync: true,
      values: { times: BigInt64Array.from([I64.min, I64.max, -1n, (1n << 62n) + 1n]), values },
      merge_policy: MergePolicy.EQUAL,
      rounding: { bits: 0 },
    };
    const back = decodeInsertParams(encodeInsertParams(m));
    assert.deepStrictEqual(back.values.times, m.values.times);
    assert.deepStrictEqual(new BigUint64Array(back.values.values.buffer), new BigUint64Array(values.buffer));
    assert.deepStrictEqual(back.rounding, { bits: 0 });
    assert.equal(back.sync, true);
  });

  test('accepts what other encoders may send: omitted zeros, reordered and unknown fields', () => {
    const bytes = new Uint8Array([
      0x20,
      0x02, // merge_policy RETAIN first
      0x1a,
      0x00, // point (0, 0.0): both fields omitted
      0x1a,
      0x09,
      0x11,
      0,
      0,
      0,
      0,
      0,
      0,
      0xf0,
      0x3f, // point (0, 1.0): time omitted
      0x1a,
      0x12,
      0x11,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0x40,
      0x09,
      5,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // (5, 2.0) value first
      0x1a,
      0x0c,
      0x09,
      6,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0x18,
      0x01,
      0x20, // wrong: last byte truncated below
    ]);
    rejects(bytes, /truncated varint in InsertParams.values\[3\]/);
    bytes[bytes.length - 13] = 0x0b; // shorten the last point to drop the dangling byte
    const fixed = bytes.subarray(0, bytes.length - 1);
    const m = decodeInsertParams(fixed);
    assert.deepStrictEqual(m.values, cols([0n, 0n, 5n, 6n], [0, 1, 2, 0]));
    assert.equal(m.merge_policy, MergePolicy.RETAIN);
    // uuid after the points, and an unknown field between them.
    const tail = decodeInsertParams(
      new Uint8Array([0x1a, 0x00, 0x78, 0x01, 0x1a, 0x00, 0x0a, 0x02, 0xab, 0xcd, 0x10, 0x01]),
    );
    assert.equal(tail.values.times.length, 2);
    assert.deepStrictEqual(tail.uuid, new Uint8Array([0xab, 0xcd]));
    assert.equal(tail.sync, true);
  });

  test('decodes an empty message as zero points', () => {
    const m = decodeInsertParams(new Uint8Array(0));
    assert.equal(m.values.times.length, 0);
    assert.equal(m.merge_policy, 0);
  });

  test('rejects truncated points, wrong wire types and lengths past the end', () => {
    const good = encodeInsertParams(params(3));
    rejects(good.subarray(0, good.length - 1), /InsertParams field 3: length 18 runs past the end \(17 bytes left\)/);
    rejects([0x18, 0x01], /InsertParams field 3: wire type 0, expected 2/);
    rejects([0x1a, 0x02, 0x08, 0x01], /InsertParams.values\[0\].time \(field 1\): wire type 0, expected 1/);
    rejects([0x1a, 0x05, 0x09, 1, 2, 3, 4], /truncated 64-bit value in InsertParams.values\[0\].time/);
    rejects([0x22, 0x01, 0x00], /InsertParams field 4: wire type 2 is wrong/);
    rejects([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], /InsertParams.uuid: length 4294967295 runs past the end/);
    rejects([0x1a, 0x80, 0x80, 0x80, 0x80, 0x08], /length 2147483648 runs past the end/);
  });

  test('refuses more points than the limit before allocating them', () => {
    const bytes = new Uint8Array(2 * 1001).fill(0);
    for (let i = 0; i < 1001; i++) bytes[2 * i] = 0x1a; // 1001 empty points
    assert.equal(decodeInsertParams(bytes).values.times.length, 1001);
    assert.throws(
      () => decodeInsertParams(bytes, { maxPoints: 1000 }),
      /InsertParams: 1001 points exceed the limit of 1000 per message/,
    );
  });

  test('random bytes fail only with a WireFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        try {
          decodeInsertParams(bytes);
        } catch (e) {
          if (!(e instanceof WireFormatError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });

  test('refuses to encode columns of different lengths', () => {
    assert.throws(
      () => encodeInsertParams({ ...params(1), values: { times: new BigInt64Array(2), values: new Float64Array(1) } }),
      /2 times but 1 values/,
    );
  });
});

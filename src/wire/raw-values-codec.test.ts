import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeRawValuesResponse, encodeRawValuesResponse, type RawValuesResponse } from './raw-values-codec.ts';
import { canonicalOf, reflectionDecodeCanonical, reflectionEncode } from './reflection-reference.ts';
import { WireFormatError } from './wire-error.ts';

const I64 = { min: -(1n << 63n), max: (1n << 63n) - 1n };
const cols = (ts: bigint[], vs: number[]) => ({ times: BigInt64Array.from(ts), values: Float64Array.from(vs) });

describe('RawValuesResponse codec', () => {
  test('writes the header then 20 bytes per point', () => {
    const m: RawValuesResponse = { versionMajor: 11n, versionMinor: 0n, values: cols([1n, -1n], [0.5, -0]) };
    const bytes = encodeRawValuesResponse(m);
    assert.equal(bytes.length, 2 + 2 * 20);
    assert.equal(Buffer.from(bytes.subarray(0, 4)).toString('hex'), '100b2212');
    assert.deepStrictEqual(decodeRawValuesResponse(bytes), m);
  });

  test('carries an error status alone (one message, no points)', () => {
    const m: RawValuesResponse = {
      stat: { code: 404, msg: 'stream does not exist' },
      versionMajor: 0n,
      versionMinor: 0n,
      values: cols([], []),
    };
    const bytes = encodeRawValuesResponse(m);
    assert.deepStrictEqual(decodeRawValuesResponse(bytes), m);
    assert.deepStrictEqual(reflectionDecodeCanonical('RawValuesResponse', bytes), canonicalOf('RawValuesResponse', m));
  });

  test('encodes from subarray views without copying them first', () => {
    const times = BigInt64Array.from([1n, 2n, 3n, 4n]);
    const values = Float64Array.from([1, 2, 3, 4]);
    const m = {
      versionMajor: 1n,
      versionMinor: 0n,
      values: { times: times.subarray(1, 3), values: values.subarray(1, 3) },
    };
    assert.deepStrictEqual(decodeRawValuesResponse(encodeRawValuesResponse(m)).values, cols([2n, 3n], [2, 3]));
  });

  test('equals the reflection codec on random data, both directions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.bigInt(I64), fc.double()), { maxLength: 300 }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.option(fc.record({ code: fc.nat(600), msg: fc.string() }, { noNullPrototype: true }), { nil: undefined }),
        (pts, version, stat) => {
          const base = {
            versionMajor: version,
            versionMinor: 0n,
            values: cols(
              pts.map((p) => p[0]),
              pts.map((p) => p[1]),
            ),
          };
          const m: RawValuesResponse = stat === undefined ? base : { stat, ...base };
          assert.deepStrictEqual(decodeRawValuesResponse(reflectionEncode('RawValuesResponse', m)), m);
          assert.deepStrictEqual(
            reflectionDecodeCanonical('RawValuesResponse', encodeRawValuesResponse(m)),
            canonicalOf('RawValuesResponse', m),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test('decodes a million points exactly', () => {
    const n = 1_000_000;
    const times = new BigInt64Array(n);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      times[i] = (1n << 62n) - BigInt(n - i);
      values[i] = i * 0.25;
    }
    const back = decodeRawValuesResponse(
      encodeRawValuesResponse({ versionMajor: 3n, versionMinor: 0n, values: { times, values } }),
    );
    assert.deepStrictEqual(back.values.times, times);
    assert.deepStrictEqual(back.values.values, values);
  });

  test('rejects a header field with the wrong wire type and a truncated point', () => {
    assert.throws(() => decodeRawValuesResponse(new Uint8Array([0x11, 1, 0, 0, 0, 0, 0, 0, 0])), WireFormatError);
    assert.throws(
      () => decodeRawValuesResponse(new Uint8Array([0x22, 0x12, 0x09, 1, 2])),
      /RawValuesResponse field 4: length 18 runs past the end/,
    );
    assert.throws(() => decodeRawValuesResponse(new Uint8Array([0x0a, 0x01, 0x08])), /truncated varint in Status.code/);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { canonicalOf, reflectionDecodeCanonical, reflectionEncode } from './reflection-reference.ts';
import {
  decodeWindowsResponse,
  encodeWindowsResponse,
  STAT_POINT_ENTRY_BYTES,
  type StatPoint,
  StatPointCodec,
  type WindowsResponse,
} from './windows-codec.ts';
import { WireFormatError } from './wire-error.ts';

const I64 = { min: -(1n << 63n), max: (1n << 63n) - 1n };
const statPoint = fc.record(
  {
    time: fc.bigInt(I64),
    min: fc.double(),
    mean: fc.double(),
    max: fc.double(),
    count: fc.maxSafeNat(),
    stddev: fc.double(),
  },
  { noNullPrototype: true },
);

describe('Windows/AlignedWindows response codec', () => {
  test('writes 56 bytes per window with count as fixed64', () => {
    const sp: StatPoint = {
      time: -(1n << 60n),
      min: 1,
      mean: 2,
      max: 3,
      count: 2 ** 40 + 5,
      stddev: 0.816496580927726,
    };
    const bytes = encodeWindowsResponse({ versionMajor: 10n, versionMinor: 2n, values: [sp] });
    assert.equal(bytes.length, 4 + STAT_POINT_ENTRY_BYTES);
    // count at its fixed place: tag 0x29 then 8 little-endian bytes
    const at = 4 + 2 + 36;
    assert.equal(bytes[at], 0x29);
    assert.equal(Buffer.from(bytes.subarray(at + 1, at + 9)).toString('hex'), '0500000000010000');
    assert.deepStrictEqual(decodeWindowsResponse(bytes).values, [sp]);
  });

  test('equals the reflection codec on random windows, both directions', () => {
    fc.assert(
      fc.property(fc.array(statPoint, { maxLength: 50 }), fc.bigInt({ min: 0n, max: 1n << 40n }), (values, v) => {
        const m: WindowsResponse = { versionMajor: v, versionMinor: 1n, values };
        for (const name of ['WindowsResponse', 'AlignedWindowsResponse']) {
          assert.deepStrictEqual(decodeWindowsResponse(reflectionEncode(name, m)), m);
          assert.deepStrictEqual(reflectionDecodeCanonical(name, encodeWindowsResponse(m)), canonicalOf(name, m));
        }
      }),
      { numRuns: 200 },
    );
  });

  test('decodes windows whose zero fields were omitted by another encoder', () => {
    // { time: 8, count: 1 } only: what protobuf encoders emit for a window of one 0.0 point.
    const bytes = new Uint8Array([0x22, 0x12, 0x29, 1, 0, 0, 0, 0, 0, 0, 0, 0x09, 8, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepStrictEqual(decodeWindowsResponse(bytes).values, [
      { time: 8n, min: 0, mean: 0, max: 0, count: 1, stddev: 0 },
    ]);
  });

  test('rejects counts above 2^53 and wrong wire types with the window index', () => {
    const big = new Uint8Array([0x22, 0x09, 0x29, 0, 0, 0, 0, 0, 0, 0x20, 0]);
    assert.throws(() => decodeWindowsResponse(big), /WindowsResponse.values\[0\].count exceeds 2\^53/);
    assert.throws(
      () => decodeWindowsResponse(new Uint8Array([0x22, 0x02, 0x28, 0x01]), 'AlignedWindowsResponse'),
      /AlignedWindowsResponse.values\[0\].count \(field 5\): wire type 0, expected 1/,
    );
    assert.throws(
      () =>
        encodeWindowsResponse({
          versionMajor: 0n,
          versionMinor: 0n,
          values: [{ time: 0n, min: 0, mean: 0, max: 0, count: 1.5, stddev: 0 }],
        }),
      /values\[0\].count: expected a non-negative safe integer/,
    );
  });

  test('round-trips a single StatPoint message', () => {
    const sp: StatPoint = { time: 5n, min: -1, mean: 0, max: 1, count: 3, stddev: 0.5 };
    assert.deepStrictEqual(StatPointCodec.decode(StatPointCodec.encode(sp)), sp);
    assert.deepStrictEqual(
      reflectionDecodeCanonical('StatPoint', StatPointCodec.encode(sp)),
      canonicalOf('StatPoint', sp),
    );
  });

  test('random bytes fail only with a WireFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        try {
          decodeWindowsResponse(bytes);
        } catch (e) {
          if (!(e instanceof WireFormatError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });
});

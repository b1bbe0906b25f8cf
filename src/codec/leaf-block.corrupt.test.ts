import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isDbError } from '../core/errors.ts';
import { decodeLeaf, encodeLeaf, type LeafEncodeOptions } from './leaf-block.ts';
import type { LeafColumns } from './types.ts';

/** Decode hostile bytes: a DbError 500 or a well-formed result, never anything else. */
function decodeOrReject(bytes: Uint8Array): 'rejected' | 'decoded' {
  try {
    const cols = decodeLeaf(bytes);
    assert.equal(cols.values.length, cols.times.length);
    if (cols.flags !== undefined) assert.equal(cols.flags.length, cols.times.length);
    return 'decoded';
  } catch (e) {
    if (!isDbError(e, 500)) throw e;
    assert.match(e.message, /^leaf block: .* at byte \d+ of \d+$/);
    return 'rejected';
  }
}

const n = 70;
const times = BigInt64Array.from(
  { length: n },
  (_, i) => 1704067200000000000n + BigInt(i) * 8_333_333n + BigInt((i * 37) % 101),
);
const samples: [string, LeafColumns, LeafEncodeOptions][] = [
  ['sine, auto', { times, values: Float64Array.from({ length: n }, (_, i) => 7200 + Math.sin(i * 3.14)) }, {}],
  [
    'decimals with flags',
    {
      times,
      values: Float64Array.from({ length: n }, (_, i) => (i % 9) / 1000),
      flags: Uint32Array.from({ length: n }, (_, i) => (i > 30 ? 4 : 0)),
    },
    {},
  ],
  [
    'runs',
    { times, values: Float64Array.from({ length: n }, (_, i) => (i < 40 ? 1.5 : Number.NaN)) },
    { valueEncoding: 'rle' },
  ],
  ['raw', { times, values: Float64Array.from({ length: n }, (_, i) => i * Math.PI) }, { valueEncoding: 'raw' }],
  [
    'wide',
    {
      times: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 2n ** 56n),
      values: Float64Array.from({ length: n }, (_, i) => (i % 2 ? -1e300 : 1e-300)),
    },
    { valueEncoding: 'int', timePredictor: 'linear' },
  ],
  [
    'flags in runs',
    {
      times,
      values: new Float64Array(n).fill(2),
      flags: Uint32Array.from({ length: n }, (_, i) => (i < 10 ? 7 : 0xffffffff)),
    },
    {},
  ],
  [
    'random flags',
    { times, values: new Float64Array(n), flags: Uint32Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 0) },
    {},
  ],
];

describe('leaf blocks from hostile bytes', () => {
  for (const [name, cols, options] of samples) {
    const block = encodeLeaf(cols, options);

    it(`reject every truncation of a block (${name})`, () => {
      for (let len = 0; len < block.length; len++)
        assert.equal(decodeOrReject(block.subarray(0, len)), 'rejected', `length ${len}`);
    });

    it(`reject trailing bytes after a block (${name})`, () => {
      const longer = new Uint8Array(block.length + 1);
      longer.set(block);
      assert.equal(decodeOrReject(longer), 'rejected');
    });

    it(`survive every single-byte corruption (${name})`, () => {
      for (let at = 0; at < block.length; at++) {
        for (const mask of [0x01, 0x80, 0xff, 0x55]) {
          const bad = block.slice();
          bad[at]! ^= mask;
          decodeOrReject(bad);
        }
      }
    });
  }

  it('survive random garbage behind a valid header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (body, flags) => {
        decodeOrReject(Uint8Array.from([0x4c, 1, flags ? 1 : 0, ...body]));
      }),
      { numRuns: 3000 },
    );
  });

  it('survive random multi-byte corruption of real blocks', () => {
    const blocks = samples.map(([, cols, options]) => encodeLeaf(cols, options));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: blocks.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
        (which, flips) => {
          const bad = blocks[which]!.slice();
          for (const [at, mask] of flips) bad[at % bad.length]! ^= mask;
          decodeOrReject(bad);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reject a wrong magic, an unknown version and unknown header bits by name', () => {
    const good = encodeLeaf({ times: BigInt64Array.of(1n), values: Float64Array.of(1) });
    const cases: [number, number, RegExp][] = [
      [0, 0x43, /bad magic 0x43/],
      [1, 2, /unsupported format version 2/],
      [2, 0x02, /unknown header bits/],
    ];
    for (const [at, value, message] of cases) {
      const bad = good.slice();
      bad[at] = value;
      assert.throws(
        () => decodeLeaf(bad),
        (e) => isDbError(e, 500) && message.test(e.message),
      );
    }
  });

  it('reject point counts above 2^20 before allocating', () => {
    // varint 2^20 + 1 = 0x81 0x80 0x40
    assert.throws(
      () => decodeLeaf(Uint8Array.of(0x4c, 1, 0, 0x81, 0x80, 0x40)),
      (e) => isDbError(e, 500) && /point count/.test(e.message),
    );
    // 2^20 points claimed by a few bytes: rejected at the group headers, long before 16 MiB of output.
    const t0 = performance.now();
    assert.throws(
      () => decodeLeaf(Uint8Array.of(0x4c, 1, 0, 0x80, 0x80, 0x40, 0, 0x54, 2, 1, 0, 0)),
      (e) => isDbError(e, 500) && /truncated times group headers/.test(e.message),
    );
    assert.ok(performance.now() - t0 < 50);
  });

  it('reject over-long varints and out-of-range fields', () => {
    const bad: [Uint8Array, RegExp][] = [
      [
        Uint8Array.of(0x4c, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
        /longer than 10 bytes/,
      ],
      [Uint8Array.of(0x4c, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), /exceeds 64 bits/],
      [Uint8Array.of(0x4c, 1, 0, 2, 0, 0x51, 1, 65, 0), /width 65 > 64/],
      [Uint8Array.of(0x4c, 1, 0, 2, 0, 0x51, 0, 0, 0), /scale 0/],
      [Uint8Array.of(0x4c, 1, 0, 2, 0, 0x59, 1, 0, 0), /unknown predictor 9/],
      [Uint8Array.of(0x4c, 1, 0, 2, 0, 0x21, 1, 0, 0), /group size 2\^2 out of range/],
      [Uint8Array.of(0x4c, 1, 0, 2, 0, 0x51, 3, 60, 0), /width 60 with scale 3 exceeds 2\^53/],
      [Uint8Array.of(0x4c, 1, 0, 1, 0, 3, 10, 0), /10 decimals > 9/],
      [Uint8Array.of(0x4c, 1, 0, 1, 0, 9), /unknown encoding 9/],
      [Uint8Array.of(0x4c, 1, 0, 2, 0, 0x51, 1, 0, 0, 4, 1, 0, 1), /runs cover 1 values, expected 2/],
      [
        Uint8Array.of(0x4c, 1, 0, 1, 0, 3, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
        /decimal value 0 exceeds 2\^53/,
      ],
    ];
    for (const [bytes, message] of bad) {
      assert.throws(
        () => decodeLeaf(bytes),
        (e) => isDbError(e, 500) && message.test(e.message),
        String(message),
      );
    }
  });
});

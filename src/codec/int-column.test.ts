import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ByteReader } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { decodeIntColumn, readIntColumn } from './int-column-decode.ts';
import { writeIntColumn } from './int-column-encode.ts';
import { LINEAR, PREV, PREV2, type Predictor, STRIDE } from './int-column-format.ts';
import { type IntCandidates, planIntColumn } from './int-column-plan.ts';
import { halves } from './int64.ts';

function roundTrip(
  values: readonly bigint[],
  candidates: IntCandidates,
): { bytes: number; scale: number; exact: boolean } {
  const src = BigInt64Array.from(values);
  const plan = planIntColumn(halves(src), src.length, candidates);
  const w = new ByteWriter();
  w.u8(0xee); // the column need not start at offset 0
  writeIntColumn(w, halves(src), src.length, plan);
  const bytes = w.finish();
  const r = new ByteReader(bytes, 'test');
  r.pos = 1;
  const col = readIntColumn(r, src.length, 'column');
  assert.equal(r.pos, bytes.length, 'reader stops at the end of the column');
  const out = new BigInt64Array(src.length);
  decodeIntColumn(col, bytes, halves(out));
  assert.deepEqual(Array.from(out), Array.from(src));
  if (plan.exact) assert.equal(bytes.length - 1, plan.bytes, 'exact plans predict their size');
  return { bytes: bytes.length - 1, scale: plan.scale, exact: plan.exact };
}

const PREDICTORS: Predictor[] = [PREV, PREV2, LINEAR, STRIDE];

const arbColumn = fc.oneof(
  fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: 1, maxLength: 700, size: 'max' }),
  fc
    .tuple(
      fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
      fc.bigInt({ min: 1n, max: 2n ** 20n }),
      fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 700, size: 'max' }),
    )
    .map(([x0, unit, steps]) => steps.map((s, i) => BigInt.asIntN(64, x0 + BigInt(i) * unit * 3n + BigInt(s) * unit))),
  fc
    .tuple(
      fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }),
      fc.array(fc.bigInt({ min: -(2n ** 45n), max: 2n ** 45n }), { minLength: 1, maxLength: 700, size: 'max' }),
    )
    .map(([x0, ds]) => {
      let v = x0;
      let d = 0n;
      return ds.map((dd) => {
        d += dd;
        v = BigInt.asIntN(64, v + d);
        return v;
      });
    }),
);

describe('packed int64 columns', () => {
  it('round-trip any int64 sequence with every predictor', () => {
    fc.assert(
      fc.property(arbColumn, fc.constantFrom(...PREDICTORS), (values, predictor) => {
        roundTrip(values, { predictor });
      }),
      { numRuns: 400 },
    );
  });

  it('round-trip any int64 sequence with the clock and signal candidate sets', () => {
    fc.assert(
      fc.property(arbColumn, (values) => {
        roundTrip(values, 'clock');
        roundTrip(values, 'signal');
      }),
      { numRuns: 200 },
    );
  });

  it('find a common scale and pack a coarse clock in about a bit per value', () => {
    const t = Array.from(
      { length: 1000 },
      (_, i) => 1_355_300_000_000_000_000n + BigInt(i + (i % 10 === 5 ? -1 : 0)) * 100_000_000n,
    );
    const { bytes, scale } = roundTrip(t, 'clock');
    assert.equal(scale, 100_000_000);
    assert.ok(bytes < 170, `${bytes} bytes`); // 125 bytes of 1-bit residuals plus headers
  });

  it('pack a jittered 120 Hz clock in about 11 bits per value', () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const t = Array.from(
      { length: 1024 },
      (_, i) => 1704067200000000000n + BigInt(i * 8333333 + Math.round((rnd() * 2 - 1) * 1000)),
    );
    const { bytes } = roundTrip(t, 'clock');
    assert.ok((bytes * 8) / 1024 < 11.6, `${(bytes * 8) / 1024} bits/value`);
  });

  it('take the exact 64-bit path for columns spanning more than 2^51', () => {
    const values = [0n, 2n ** 62n, -(2n ** 62n), 5n, 2n ** 63n - 1n, -(2n ** 63n)];
    for (const predictor of PREDICTORS) assert.equal(roundTrip(values, { predictor }).exact, false);
  });

  it('fall back to exact halves arithmetic when a group’s offsets outgrow doubles', () => {
    // Second differences of ~2^44 over 256-value groups overflow the double fast path of LINEAR.
    const values = Array.from({ length: 600 }, (_, i) => BigInt(i) * BigInt(i) * 2n ** 43n + BigInt(i % 3));
    roundTrip(values, { predictor: LINEAR });
    roundTrip(values, { predictor: PREV });
    roundTrip(values, { predictor: PREV2 });
    roundTrip(values, { predictor: STRIDE, stride: 3 });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { findDecimals, POW10 } from './decimal.ts';

const find = (values: number[]): number => findDecimals(Float64Array.from(values), values.length);

describe('decimal detection', () => {
  it('find the fewest decimals that reproduce every value exactly', () => {
    assert.equal(find([1, 2, -3]), 0);
    assert.equal(find([59.966, 1.5, 92.411]), 3);
    assert.equal(find([0.1, 0.2, 0.3]), 1);
    assert.equal(find([1e-9, 2]), 9);
  });

  it('refuse values no k ≤ 9 reproduces, and −0, NaN, ±Inf', () => {
    assert.equal(find([Math.PI]), -1);
    assert.equal(find([1e-10]), -1);
    assert.equal(find([0.5, -0]), -1);
    assert.equal(find([Number.NaN]), -1);
    assert.equal(find([Number.POSITIVE_INFINITY]), -1);
    assert.equal(find([2 ** 53]), -1);
    assert.equal(find([1e15, 0.5]), -1); // 0.5 needs k = 1, and 1e15·10 is past 2^53
    assert.equal(find([]), -1);
  });

  it('only ever answer k when m / 10^k gives back every value bit for bit', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.double(),
            fc.integer({ min: -1e6, max: 1e6 }).map((m) => m / 1000),
          ),
          { minLength: 1, maxLength: 50 },
        ),
        (vs) => {
          const k = find(vs);
          if (k < 0) return;
          for (const v of vs) assert.ok(Object.is(Math.round(v * POW10[k]!) / POW10[k]!, v), `${v} with k = ${k}`);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDecimal, roundHalfUp } from './decimal.ts';

describe('exact decimals for COMTRADE times', () => {
  it('parse decimal texts into exact fractions', () => {
    assert.deepEqual(parseDecimal('1200'), { num: 1200n, den: 1n });
    assert.deepEqual(parseDecimal('30707.244140625'), { num: 30707244140625n, den: 1_000_000_000n });
    assert.deepEqual(parseDecimal(' -0.5 '), { num: -5n, den: 10n });
    assert.deepEqual(parseDecimal('+.25'), { num: 25n, den: 100n });
    assert.deepEqual(parseDecimal('3.0E+04'), { num: 300000n, den: 10n });
    assert.deepEqual(parseDecimal('5e-3'), { num: 5n, den: 1000n });
    for (const bad of ['', '.', '-', 'NaN', 'Infinity', '0x10', '1,5', '--1', '1e', '1e1234', '1.2.3']) {
      assert.equal(parseDecimal(bad), undefined, bad);
    }
  });

  it('round half up, for negative numbers too', () => {
    const cases: [bigint, bigint, bigint][] = [
      [5n, 2n, 3n], // 2.5 → 3
      [-5n, 2n, -2n], // −2.5 → −2
      [7n, 3n, 2n], // 2.33 → 2
      [-7n, 3n, -2n], // −2.33 → −2
      [-8n, 3n, -3n], // −2.67 → −3
      [1_000_000_000n * 1_000_000_000n, 30707244140625n, 32566n], // 10⁹ ns · 10⁹ / 30707244140625 = 32565.6
      [0n, 7n, 0n],
    ];
    for (const [num, den, want] of cases) assert.equal(roundHalfUp(num, den), want, `${num}/${den}`);
  });
});

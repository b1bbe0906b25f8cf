/**
 * Decimal detection: values that are exactly m / 10^k (as a double division) for one k ≤ 9 and
 * integers |m| < 2^53 — PMU readings written with 3 decimals, prices, temperatures — pack as the
 * integers m, which is far smaller than their float bits.
 */

/** Largest number of decimals tried. */
export const MAX_DECIMALS = 9;

/** 10^k for k = 0…9, exact doubles. Decoders divide by these: m / POW10[k]. */
export const POW10: readonly number[] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

const TWO_53 = 9007199254740992;
const TWO_32 = 4294967296;

/**
 * The smallest k ≤ 9 with `Math.round(v·10^k) / 10^k === v` bit-exactly for every value (−0, NaN,
 * ±Inf never qualify), or −1; the integers m(i) = round(v(i)·10^k) are left in `out` as int64
 * halves (index 2i + lo and 2i + hi). Each k is one pass that stops at the first value it cannot
 * represent, so random floats cost ten comparisons and 3-decimal data about one pass.
 */
export function decimalHalves(values: Float64Array, n: number, out: Int32Array, lo: number, hi: number): number {
  if (n === 0) return -1;
  for (let k = 0; k <= MAX_DECIMALS; k++) {
    const p = POW10[k]!;
    let i = 0;
    for (; i < n; i++) {
      const v = values[i]!;
      const m = Math.round(v * p);
      if (m / p !== v || !(Math.abs(m) < TWO_53) || (v === 0 && 1 / v < 0)) break;
      const l = m >>> 0;
      out[2 * i + lo] = l;
      out[2 * i + hi] = (m - l) / TWO_32;
    }
    if (i === n) return k;
  }
  return -1;
}

/** The k `decimalHalves` would find, without keeping the integers. */
export function findDecimals(values: Float64Array, n: number): number {
  return decimalHalves(values, n, new Int32Array(2 * n), 0, 1);
}

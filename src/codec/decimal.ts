/**
 * Decimal detection: values that are exactly m / 10^k (as a double division) for one k ≤ 9 and
 * integers |m| < 2^53 — PMU readings written with 3 decimals, prices, temperatures — pack as the
 * integers m, which is far smaller than their float bits.
 */

/** Largest number of decimals tried. */
export const MAX_DECIMALS = 9;

/** 10^k for k = 0…9, exact doubles. Decoders divide by these: m / POW10[k]. */
export const POW10: readonly number[] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * The smallest k ≤ 9 with `Math.round(v·10^k) / 10^k === v` bit-exactly for every value (−0, NaN,
 * ±Inf never qualify), or −1. A value that fits k also fits k+1, so a failure moves on to k+1 from
 * where it failed.
 */
export function findDecimals(values: Float64Array, n: number): number {
  let k = 0;
  let p = 1;
  for (let i = 0; i < n; ) {
    const v = values[i]!;
    const m = Math.round(v * p);
    if (m / p === v && Math.abs(m) < 9007199254740992 && (v !== 0 || 1 / v > 0)) {
      i++;
      continue;
    }
    if (++k > MAX_DECIMALS) return -1;
    p = POW10[k]!;
    // Earlier values fit k−1; they fit k as long as their integers stay below 2^53.
    for (let j = 0; j < i; j++) {
      const mj = Math.round(values[j]! * p);
      if (mj / p !== values[j] || Math.abs(mj) >= 9007199254740992) {
        i = 0;
        break;
      }
    }
  }
  return n === 0 ? -1 : k;
}

/** The integers m(i) = round(v(i)·10^k) as int64 halves (2 per value) into `out`. */
export function decimalsToHalves(values: Float64Array, n: number, k: number, out: Int32Array, lo: number, hi: number): void {
  const p = POW10[k]!;
  for (let i = 0; i < n; i++) {
    const m = Math.round(values[i]! * p);
    const l = m >>> 0;
    out[2 * i + lo] = l;
    out[2 * i + hi] = (m - l) / 4294967296;
  }
}

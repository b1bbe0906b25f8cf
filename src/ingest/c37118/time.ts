/**
 * C37.118 time stamps → bigint ns since 1970-01-01 UTC.
 *
 * time = SOC·1e9 + round(fraction·1e9 / TIME_BASE), rounded to the nearest ns with halves rounded
 * up (away from zero; the fraction is never negative). The result is exact whenever TIME_BASE
 * divides 1e9 (10^k, k ≤ 9) and within 0.5 ns otherwise (e.g. TIME_BASE 16 777 215), and it is
 * monotonic in the fraction, so frames of one second keep their order.
 */
import { DbError } from '../../core/errors.ts';

const NS = 1_000_000_000n;

/** ns since 1970 of SOC `soc` (s) and FRACSEC fraction `fraction` in units of 1/`timeBase` s. */
export function c37TimeNs(soc: number, fraction: number, timeBase: number): bigint {
  if (!Number.isInteger(timeBase) || timeBase <= 0)
    throw new DbError(438, `C37.118 TIME_BASE ${timeBase} is not positive`);
  const tb = BigInt(timeBase);
  return BigInt(soc) * NS + (BigInt(fraction) * NS * 2n + tb) / (2n * tb);
}

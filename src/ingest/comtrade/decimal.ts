/**
 * Exact decimal arithmetic for COMTRADE times: sample rates such as "30707.244140625", time
 * multipliers such as "0.001" and fractional seconds are decimal texts, and sample times derived
 * from them must be exact to the nanosecond. A decimal text becomes a fraction num/den of bigints
 * (den a power of ten), and a non-negative fraction is rounded to an integer half up.
 */

/** A rational number num/den with den > 0. */
export interface Fraction {
  readonly num: bigint;
  readonly den: bigint;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/;

/**
 * The exact value of a decimal text ("1200", "-0.5", "3.0E+04", "+.25"), or undefined when the text
 * is not a plain decimal number (empty, "NaN", "0x10", two signs …).
 */
export function parseDecimal(text: string): Fraction | undefined {
  const m = DECIMAL.exec(text.trim());
  if (m === null) return undefined;
  const [, sign, whole = '', frac = '', exp] = m;
  if (whole === '' && frac === '') return undefined;
  let num = BigInt(`${whole}${frac}` || '0');
  let den = 10n ** BigInt(frac.length);
  const e = exp === undefined ? 0 : Number(exp);
  if (e > 0) num *= 10n ** BigInt(e);
  else if (e < 0) den *= 10n ** BigInt(-e);
  return { num: sign === '-' ? -num : num, den };
}

/** round(f) for f ≥ 0 or f < 0, halves away from −∞ (i.e. half up: 2.5 → 3, −2.5 → −2). */
export function roundHalfUp(num: bigint, den: bigint): bigint {
  // floor((2·num + den) / (2·den)), with a floor that is correct for negative numerators too.
  const n = 2n * num + den;
  const d = 2n * den;
  const q = n / d;
  return n % d !== 0n && n < 0n ? q - 1n : q;
}

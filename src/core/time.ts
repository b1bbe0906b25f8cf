/**
 * Time in ArborDB is int64 nanoseconds since the Unix epoch (UTC), carried as bigint so nothing is
 * rounded. The bounds are BTrDB's: see docs/format/tree.md for why the tree spans exactly
 * [MIN_TIME, MIN_TIME + 2^62).
 */
import { DbError } from './errors.ts';
import type { Nanos } from './types.ts';

/** -(16 << 56) = -2^60 ns, 1933-06-20. The earliest storable time (inclusive). */
export const MIN_TIME = -(1n << 60n) as Nanos;
/** 48 << 56 = 3·2^60 ns, 2079-08-08. Exclusive end of every range. */
export const MAX_TIME = (48n << 56n) as Nanos;
/** Inserted points must satisfy t < MAX_INSERT_TIME = (48 << 56) − 1 (BTrDB v4's check). */
export const MAX_INSERT_TIME = ((48n << 56n) - 1n) as Nanos;

export const NANOSECOND = 1n;
export const MICROSECOND = 1_000n;
export const MILLISECOND = 1_000_000n;
export const SECOND = 1_000_000_000n;
export const MINUTE = 60n * SECOND;
export const HOUR = 60n * MINUTE;
export const DAY = 24n * HOUR;

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parse an ISO-8601 date-time to ns, exactly: fractions keep all nine digits. A string without a
 * zone is UTC. Throws DbError 413 on anything else.
 */
export function parseIso(text: string): Nanos {
  const m = ISO.exec(text.trim());
  if (!m) throw new DbError(413, `not an ISO-8601 time: ${JSON.stringify(text)}`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) {
    throw new DbError(413, `not a valid date-time: ${JSON.stringify(text)}`);
  }
  let ns = BigInt(ms) * MILLISECOND + BigInt(frac.padEnd(9, '0') || '0');
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const digits = zone.slice(1).replace(':', '');
    const offMin = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
    ns -= sign * offMin * MINUTE;
  }
  return ns as Nanos;
}

/** Format ns as ISO-8601 UTC with nine fraction digits, e.g. 2024-01-01T00:00:00.000000001Z. */
export function formatIso(t: bigint): string {
  const ms = floorDiv(t, MILLISECOND);
  const subMs = t - ms * MILLISECOND;
  const base = new Date(Number(ms)).toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ
  return `${base.slice(0, 23)}${subMs.toString().padStart(6, '0')}Z`;
}

/** A JS Date (ms precision) to ns. */
export const fromDate = (d: Date): Nanos => (BigInt(d.getTime()) * MILLISECOND) as Nanos;

/** Current wall-clock time in ns (ms precision from the system clock, scaled). */
export const currentlyAsNs = (): Nanos => (BigInt(Date.now()) * MILLISECOND) as Nanos;

/**
 * Convert any accepted time input to ns: a bigint (taken as ns), an integer number of ns (must be
 * a safe integer), a decimal string of ns, an ISO-8601 string, or a Date.
 */
export function toNanos(t: bigint | number | string | Date): Nanos {
  if (typeof t === 'bigint') return t as Nanos;
  if (t instanceof Date) return fromDate(t);
  if (typeof t === 'number') {
    if (!Number.isSafeInteger(t)) throw new DbError(413, `time ${t} is not a safe integer number of ns; pass a bigint`);
    return BigInt(t) as Nanos;
  }
  if (/^-?\d+$/.test(t.trim())) return BigInt(t.trim()) as Nanos;
  return parseIso(t);
}

/** Floor division for bigints (rounds toward −∞, unlike `/`). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Clear the low `pw` bits of `t`, rounding toward −∞ also for negative times. */
export function alignDown(t: bigint, pw: number): bigint {
  return (t >> BigInt(pw)) << BigInt(pw);
}

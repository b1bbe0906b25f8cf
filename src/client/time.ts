/**
 * Time helpers for users of the client (btrdb-python's `btrdb.utils.timez`). Every time is an int64
 * count of nanoseconds since 1970-01-01T00:00:00Z carried as a bigint, so nothing is ever rounded
 * through a float. The parsing and formatting live in core/time.ts; this module re-exports them
 * under the client's names and adds `nsDelta`.
 */
import { DbError } from '../core/errors.ts';
import { floorDiv, formatIso, MAX_INSERT_TIME, MILLISECOND, MIN_TIME, toNanos } from '../core/time.ts';
import type { Nanos } from '../core/types.ts';

export {
  currentlyAsNs,
  DAY,
  formatIso,
  fromDate,
  HOUR,
  MAX_INSERT_TIME,
  MAX_TIME,
  MICROSECOND,
  MILLISECOND,
  MIN_TIME,
  MINUTE,
  NANOSECOND,
  parseIso,
  SECOND,
  toNanos,
} from '../core/time.ts';

/**
 * Anything the client accepts as a time: a bigint (ns), a safe-integer number (ns), a decimal
 * string of ns, an ISO-8601 string (UTC unless it carries an offset; up to nine fraction digits),
 * or a Date (ms precision).
 */
export type TimeInput = bigint | number | string | Date;

/** btrdb-python's `MINIMUM_TIME`: −2^60 ns (1933-06-20), the earliest storable time. */
export const MINIMUM_TIME: Nanos = MIN_TIME;
/** btrdb-python's `MAXIMUM_TIME`: (48 << 56) − 1 ns (2079-08-08); points must be strictly before it. */
export const MAXIMUM_TIME: Nanos = MAX_INSERT_TIME;

/** btrdb-python's `to_nanoseconds`: any {@link TimeInput} → ns. Throws DbError 413 on bad input. */
export const toNanoseconds = (t: TimeInput): Nanos => toNanos(t);

/** btrdb-python's `ns_to_datetime`, as an ISO-8601 UTC string with all nine fraction digits. */
export const nsToIso = (ns: bigint): string => formatIso(ns);

/** ns → Date. A Date holds whole ms only: the sub-ms part is floored away (also for negative times). */
export const nsToDate = (ns: bigint): Date => new Date(Number(floorDiv(ns, MILLISECOND)));

/** The parts of a span of time for {@link nsDelta}; numbers may be fractional, bigints are exact. */
export interface DeltaParts {
  readonly days?: number | bigint;
  readonly hours?: number | bigint;
  readonly minutes?: number | bigint;
  readonly seconds?: number | bigint;
  readonly ms?: number | bigint;
  readonly us?: number | bigint;
  readonly ns?: number | bigint;
}

const UNIT_NS: Readonly<Record<keyof DeltaParts, bigint>> = {
  days: 86_400_000_000_000n,
  hours: 3_600_000_000_000n,
  minutes: 60_000_000_000n,
  seconds: 1_000_000_000n,
  ms: 1_000_000n,
  us: 1_000n,
  ns: 1n,
};

/**
 * btrdb-python's `ns_delta`: a span of time as a total number of ns. A fractional number is taken
 * at its shortest decimal form (`0.1` means one tenth, not the binary double nearest to it) and
 * the sum is computed exactly; a total with a fraction of a ns is truncated toward zero, like
 * Python's `int()`. Throws DbError 438 on a non-finite part.
 */
export function nsDelta(parts: DeltaParts): bigint {
  // Sum as a decimal fraction num / 10^scale, then truncate once at the end.
  let num = 0n;
  let scale = 0;
  for (const key of Object.keys(UNIT_NS) as (keyof DeltaParts)[]) {
    const part = parts[key];
    if (part === undefined) continue;
    const [m, s] = typeof part === 'bigint' ? [part, 0] : decimalOf(part, key);
    const term = m * UNIT_NS[key];
    if (s > scale) {
      num *= 10n ** BigInt(s - scale);
      scale = s;
    }
    num += term * 10n ** BigInt(scale - s);
  }
  return num / 10n ** BigInt(scale); // bigint division truncates toward zero
}

/** A finite number as mantissa · 10^−scale, from its shortest round-trip decimal representation. */
function decimalOf(x: number, what: string): [bigint, number] {
  if (!Number.isFinite(x)) throw new DbError(438, `nsDelta: ${what} must be finite, got ${x}`);
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (!m) throw new DbError(438, `nsDelta: cannot read ${what} = ${x}`);
  const [, sign = '', int = '0', frac = '', exp = '0'] = m;
  let mantissa = BigInt(`${sign}${int}${frac}`);
  let scale = frac.length - Number(exp);
  if (scale < 0) {
    mantissa *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return [mantissa, scale];
}

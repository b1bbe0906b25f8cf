/**
 * Parsing a time cell of a text file to ns, exactly: integers and decimal fractions are converted
 * with bigint arithmetic (never through a double), ISO-8601 keeps all nine fraction digits. A cell
 * that cannot be represented exactly (e.g. "1.0000000001" seconds) is rejected, not rounded.
 */
import { isDbError } from '../../core/errors.ts';
import { MAX_INSERT_TIME, MIN_TIME, parseIso } from '../../core/time.ts';

/** How a time cell is written: an integer (or decimal) count of a unit since the epoch, or ISO-8601. */
export type TimeFormat = 'auto' | 'ns' | 'us' | 'ms' | 's' | 'iso';

export const TIME_FORMATS: readonly TimeFormat[] = ['auto', 'ns', 'us', 'ms', 's', 'iso'];

const UNIT_DIGITS: Record<'ns' | 'us' | 'ms' | 's', number> = { ns: 0, us: 3, ms: 6, s: 9 };
const UNIT_SCALE: Record<'ns' | 'us' | 'ms' | 's', bigint> = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n };
const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?$/;
const INTEGER = /^[+-]?\d+$/;

/** The result of parsing a cell: the time, or why it is not one. */
export type TimeParse = { readonly ok: true; readonly ns: bigint } | { readonly ok: false; readonly reason: string };

const fail = (reason: string): TimeParse => ({ ok: false, reason });

/**
 * Parse `text` (already trimmed) as a time in `format`, and check it is storable
 * (MIN_TIME ≤ t < MAX_INSERT_TIME). 'auto' reads an integer as ns and anything else as ISO-8601.
 */
export function parseTimeCell(text: string, format: TimeFormat): TimeParse {
  if (text === '') return fail('empty time');
  let ns: bigint;
  const integer = format !== 'iso' && INTEGER.test(text);
  if (integer && (format === 'ns' || format === 'auto')) {
    ns = BigInt(text); // the common case, kept cheap
  } else if (format === 'iso' || (format === 'auto' && !integer)) {
    try {
      ns = parseIso(text);
    } catch (e) {
      if (isDbError(e)) return fail(`time ${JSON.stringify(text)} is not an ISO-8601 date-time or an integer of ns`);
      throw e;
    }
  } else {
    const unit = format === 'auto' ? 'ns' : format;
    const m = DECIMAL.exec(text);
    if (!m) return fail(`time ${JSON.stringify(text)} is not a number of ${unit}`);
    const [, sign, int = '0', frac = ''] = m;
    const digits = UNIT_DIGITS[unit];
    if (frac.length > digits && !/^0*$/.test(frac.slice(digits))) {
      return fail(`time ${JSON.stringify(text)} ${unit} has a fraction of a nanosecond`);
    }
    const fraction = digits === 0 ? 0n : BigInt(frac.slice(0, digits).padEnd(digits, '0'));
    const magnitude = BigInt(int) * UNIT_SCALE[unit] + fraction;
    ns = sign === '-' ? -magnitude : magnitude;
  }
  if (ns < MIN_TIME || ns >= MAX_INSERT_TIME) {
    return fail(
      `time ${JSON.stringify(text)} = ${ns} ns is outside the storable range [${MIN_TIME}, ${MAX_INSERT_TIME})`,
    );
  }
  return { ok: true, ns };
}

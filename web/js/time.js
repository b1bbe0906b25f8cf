// Time in the plotter: BigInt nanoseconds since 1970-01-01 UTC, exactly as the API speaks them.
// Only offsets inside the visible range are turned into Numbers (for pixels).

export const NS = 1n;
export const US = 1000n;
export const MS = 1000000n;
export const S = 1000000000n;
export const MIN = 60n * S;
export const H = 60n * MIN;
export const DAY = 24n * H;
export const MIN_TIME = -(1n << 60n);
export const MAX_TIME = 48n << 56n;

/** Floor division for BigInt (towards −∞). */
export function floorDiv(a, b) {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Parse ns digits or ISO-8601 (UTC unless a zone is given) to BigInt ns; throws on anything else. */
export function parseTime(text) {
  const t = String(text).trim();
  if (/^[+-]?\d+$/.test(t)) return BigInt(t);
  const m = ISO.exec(t);
  if (!m) throw new Error(`not a time: ${JSON.stringify(text)} (use ISO-8601 UTC or ns)`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) throw new Error(`not a valid date: ${JSON.stringify(text)}`);
  let ns = BigInt(ms) * MS + BigInt(frac.padEnd(9, '0') || '0');
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const digits = zone.slice(1).replace(':', '');
    ns -= sign * BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * MIN;
  }
  return ns;
}

/** ISO-8601 UTC with `digits` fraction digits (0–9), e.g. 2012-12-12T04:50:55.900Z. */
export function formatIso(ns, digits = 9) {
  const ms = floorDiv(ns, MS);
  const sub = ns - ms * MS;
  const base = new Date(Number(ms)).toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ
  const frac = `${base.slice(20, 23)}${sub.toString().padStart(6, '0')}`.slice(0, digits);
  return `${base.slice(0, 19)}${digits > 0 ? `.${frac}` : ''}Z`;
}

/** Fraction digits that show a step: 0 for ≥ 1 s, 3 for ms, 6 for µs, 9 for ns. */
export function digitsFor(step) {
  if (step % S === 0n) return 0;
  if (step % MS === 0n) return 3;
  if (step % US === 0n) return 6;
  return 9;
}

const STEPS = [];
for (const unit of [NS, US, MS]) for (const k of [1n, 2n, 5n, 10n, 20n, 50n, 100n, 200n, 500n]) STEPS.push(k * unit);
for (const k of [1n, 2n, 5n, 10n, 15n, 30n]) STEPS.push(k * S);
for (const k of [1n, 2n, 5n, 10n, 15n, 30n]) STEPS.push(k * MIN);
for (const k of [1n, 2n, 3n, 6n, 12n]) STEPS.push(k * H);
for (const k of [1n, 2n, 7n, 14n, 30n, 91n, 182n, 365n, 730n, 1826n, 3652n, 7305n, 18262n]) STEPS.push(k * DAY);

/** Tick label of `t` for a tick `step`. */
export function tickLabel(t, step) {
  const iso = formatIso(t, digitsFor(step));
  if (step >= DAY) return iso.slice(0, 10);
  if (step >= MIN) return iso.slice(11, 16);
  if (step >= S) return iso.slice(11, 19);
  if (step >= MS) return iso.slice(11, -1);
  return iso.slice(17, -1); // seconds and the fraction
}

/** Ticks for [start, end) with at most `maxTicks`: [{t, label}], step. */
export function timeTicks(start, end, maxTicks) {
  const span = end - start;
  let step = STEPS[STEPS.length - 1];
  for (const s of STEPS) {
    if (span / s <= BigInt(Math.max(1, maxTicks))) {
      step = s;
      break;
    }
  }
  const ticks = [];
  for (let t = floorDiv(start, step) * step; t < end; t += step) {
    if (t >= start) ticks.push({ t, label: tickLabel(t, step) });
  }
  return { ticks, step };
}

/** A short human span, e.g. "2.5 h", "40 ms", "120 ns". */
export function formatSpan(ns) {
  const units = [
    [DAY, 'd'],
    [H, 'h'],
    [MIN, 'min'],
    [S, 's'],
    [MS, 'ms'],
    [US, 'µs'],
  ];
  for (const [u, name] of units) if (ns >= u) return `${+(Number(ns) / Number(u)).toPrecision(3)} ${name}`;
  return `${ns} ns`;
}

/** floor(log2(x)) for a positive BigInt. */
export function log2Floor(x) {
  return x.toString(2).length - 1;
}

/**
 * The time of every sample of a COMTRADE record, in ns since 1970 UTC, exact.
 *
 * - From the sample rates (`rate`): sample i (0-based) of rate segment k, which starts at sample
 *   s_k, is at start + A_k + (i − s_k)·10⁹/rate_k ns, where A_k = Σ_{j<k} (samples of j)·10⁹/rate_j.
 *   The sum is kept as an exact fraction (rates are decimals such as 30707.244140625) and rounded
 *   once per sample, half up — so a time is never more than 0.5 ns from the true value and errors
 *   do not accumulate.
 * - From the timestamp column (`column`): start + (ts_i − ts_0)·timemult·unit, unit = 1000 ns (µs;
 *   ns for 2013 records whose cfg times carry ns), rounded half up. The first sample is at the
 *   cfg's start time by definition — this also reads writers whose column counts from the
 *   trigger (ascii_1991 starts at −77 500 µs). Every timestamp must be present.
 * - `auto` (default): the rates when the cfg gives them (nrates > 0 and every samp > 0), else the
 *   column. With several rate segments and a timestamp column that is present everywhere and
 *   never decreases, a segment whose first column time lies more than half a sample after where
 *   the rates put it starts at its column time instead (A_k = its column time): recorders that
 *   store bursts (pre-fault, fault, post-fault) at separate times keep the gaps between them.
 *   A column that wraps (some recorders' u32 µs counters restart at 65 536) or runs backwards is
 *   never used for this.
 */
import { DbError } from '../../core/errors.ts';
import { MAX_TIME, MIN_TIME } from '../../core/time.ts';
import type { ComtradeConfig } from './cfg.ts';
import type { DatSamples } from './dat.ts';
import { type Fraction, roundHalfUp } from './decimal.ts';

export const TIME_SOURCES = ['auto', 'rate', 'column'] as const;
export type TimeSource = (typeof TIME_SOURCES)[number];

export interface SampleTimes {
  readonly times: BigInt64Array;
  /** How they were derived: rates only, rates with segments placed by the column, or the column. */
  readonly source: 'rate' | 'rate+column' | 'column';
}

const NS = 1_000_000_000n;

/** `t` if the engine can store it (checked before a BigInt64Array would wrap it), else 413. */
function storable(t: bigint, i: number, file: string): bigint {
  if (t < MIN_TIME || t >= MAX_TIME - 1n) {
    throw new DbError(413, `${file}: sample ${i + 1} would be at ${t} ns, outside the storable range`);
  }
  return t;
}

function hasRates(cfg: ComtradeConfig): boolean {
  return cfg.rates.length > 0 && cfg.rates.every((r) => r.rate.num > 0n);
}

/** Column time of sample i relative to sample 0, in ns (exact fraction rounded half up). */
function columnNs(cfg: ComtradeConfig, ts: Float64Array, i: number): bigint {
  const d = BigInt(ts[i]!) - BigInt(ts[0]!);
  const m = cfg.timeMultiplier;
  return roundHalfUp(d * m.num * cfg.timestampUnitNs, m.den);
}

function fromColumn(cfg: ComtradeConfig, dat: DatSamples, file: string): BigInt64Array {
  const times = new BigInt64Array(dat.count);
  for (let i = 0; i < dat.count; i++) {
    if (Number.isNaN(dat.timestamps[i]!)) {
      throw new DbError(
        413,
        `${file}: sample ${i + 1} has no timestamp, and the cfg gives no sample rate (nrates = 0) to derive it from`,
      );
    }
    times[i] = storable(cfg.start.ns + columnNs(cfg, dat.timestamps, i), i, file);
  }
  return times;
}

function columnUsable(ts: Float64Array): boolean {
  for (let i = 0; i < ts.length; i++) {
    if (Number.isNaN(ts[i]!) || (i > 0 && ts[i]! < ts[i - 1]!)) return false;
  }
  return ts.length > 0;
}

function fromRates(
  cfg: ComtradeConfig,
  dat: DatSamples,
  anchorByColumn: boolean,
  file: string,
): { times: BigInt64Array; anchored: boolean } {
  const times = new BigInt64Array(dat.count);
  let anchor: Fraction = { num: 0n, den: 1n }; // A_k in ns
  let first = 0; // s_k
  let anchored = false;
  for (const [k, seg] of cfg.rates.entries()) {
    const last = k === cfg.rates.length - 1 ? dat.count : Math.min(seg.endSample, dat.count);
    const { num: rn, den: rd } = seg.rate; // rate = rn/rd samples per second; period = rd·10⁹/rn ns
    if (k > 0 && anchorByColumn && first < dat.count) {
      const col = columnNs(cfg, dat.timestamps, first);
      // col − A_k > period/2  ⇔  2·(col·A.den − A.num)·rn > rd·10⁹·A.den
      if (2n * (col * anchor.den - anchor.num) * rn > rd * NS * anchor.den) {
        anchor = { num: col, den: 1n };
        anchored = true;
      }
    }
    // t = A + j·rd·10⁹/rn = (A.num·rn + j·rd·10⁹·A.den) / (A.den·rn)
    const den = anchor.den * rn;
    const base = anchor.num * rn;
    const step = rd * NS * anchor.den;
    for (let i = first; i < last; i++) {
      times[i] = storable(cfg.start.ns + roundHalfUp(base + BigInt(i - first) * step, den), i, file);
    }
    const n = BigInt(last - first);
    anchor = { num: base + n * step, den };
    // Keep the fraction small: divide out common factors of ten (den grows by rn per segment).
    while (anchor.num % 10n === 0n && anchor.den % 10n === 0n)
      anchor = { num: anchor.num / 10n, den: anchor.den / 10n };
    first = last;
  }
  return { times, anchored };
}

/** The sample times of a decoded record (see the module doc); 413 when one is out of range. */
export function sampleTimes(
  cfg: ComtradeConfig,
  dat: DatSamples,
  source: TimeSource = 'auto',
  file = 'dat',
): SampleTimes {
  let out: SampleTimes;
  if (source === 'column' || (source === 'auto' && !hasRates(cfg))) {
    out = { times: fromColumn(cfg, dat, file), source: 'column' };
  } else {
    if (!hasRates(cfg)) {
      throw new DbError(
        438,
        `${file}: --time-source rate needs sample rates in the cfg, but nrates is 0 or a rate is 0`,
      );
    }
    const anchor = source === 'auto' && cfg.rates.length > 1 && columnUsable(dat.timestamps);
    const r = fromRates(cfg, dat, anchor, file);
    out = { times: r.times, source: r.anchored ? 'rate+column' : 'rate' };
  }
  return out;
}

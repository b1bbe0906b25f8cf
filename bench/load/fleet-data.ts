/**
 * What the fleet sends: PMU frame times and channel values, batch by batch.
 *
 * - Times: a PMU at F frames/s stamps frame i at t0 + ⌊i·10⁹/F⌋ ns (GPS-disciplined, no jitter);
 *   every channel of a PMU carries the same frame times, so one times array serves them all.
 * - Values: channel c of a PMU is a magnitude, angle or frequency (c mod 3), replayed from the
 *   real OpenPMU recording (3-decimal values; played at the fleet's rate, only the value shapes
 *   matter) at an offset per stream — or a synthetic 60 Hz-ish sine when asked or when the
 *   recording is not there.
 * - Batch slot k of a stream covers frames [k·P, (k+1)·P), P = F·batchMs/1000.
 */
import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../../src/core/random.ts';
import { sharedDataDir } from '../../test/shared-data.ts';
import { readOpenPmu } from '../workload.ts';
import type { ValueSource } from './options.ts';

export const OPENPMU_FILE = path.join(sharedDataDir('openpmu-rio-2012'), '2012-12-12_KTH01.csv');

export const framesPerBatch = (hz: number, batchMs: number): number => (hz * batchMs) / 1000;

/** Frame times of batch slot `slot` (P frames from frame slot·P). */
export function slotTimes(t0: bigint, hz: number, slot: number, perBatch: number): BigInt64Array {
  const out = new BigInt64Array(perBatch);
  const f = BigInt(hz);
  const first = BigInt(slot) * BigInt(perBatch);
  for (let i = 0; i < perBatch; i++) out[i] = t0 + ((first + BigInt(i)) * 1_000_000_000n) / f;
  return out;
}

/** Start of slot `slot` in data time (its first frame). */
export const slotStart = (t0: bigint, hz: number, slot: number, perBatch: number): bigint =>
  t0 + (BigInt(slot) * BigInt(perBatch) * 1_000_000_000n) / BigInt(hz);

/** The three value shapes of a PMU channel, each a series to replay. */
export interface ValueSeries {
  readonly source: ValueSource;
  readonly kinds: readonly Float64Array[];
}

function synthetic(): Float64Array[] {
  const n = 12_000;
  const rnd = mulberry32(20261123);
  const mag = new Float64Array(n);
  const ang = new Float64Array(n);
  const freq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / 120;
    mag[i] = Math.round((230 + 0.8 * Math.sin(2 * Math.PI * 0.05 * t) + (rnd() - 0.5) * 0.05) * 1000) / 1000;
    ang[i] = Math.round(((((i * 0.6 + 180) % 360) + 360) % 360) * 1000) / 1000 - 180;
    freq[i] = Math.round((60 + 0.01 * Math.sin(2 * Math.PI * 0.02 * t) + (rnd() - 0.5) * 0.002) * 1000) / 1000;
  }
  return [mag, ang, freq];
}

/** Load the value series: the OpenPMU recording (if present and asked for), else synthetic. */
export function loadValueSeries(source: ValueSource): ValueSeries {
  if (source === 'openpmu' && fs.existsSync(OPENPMU_FILE)) {
    const p = readOpenPmu(OPENPMU_FILE);
    return { source, kinds: [p.magnitude, p.angle, p.frequency] };
  }
  return { source: 'synthetic', kinds: synthetic() };
}

/**
 * Values of one stream, batch by batch, as views into one pre-extended copy of its series (so a
 * batch never wraps): no allocation per batch. The views are shared: never write into them.
 */
export class ChannelValues {
  readonly #ext: Float64Array;
  readonly #len: number;
  readonly #offset: number;

  constructor(series: ValueSeries, pmu: number, channel: number, perBatch: number) {
    const base = series.kinds[channel % series.kinds.length]!;
    this.#len = base.length;
    this.#offset = (pmu * 7919 + channel * 104_729) % this.#len;
    this.#ext = new Float64Array(this.#len + perBatch);
    for (let i = 0; i < this.#ext.length; i++) this.#ext[i] = base[i % this.#len]!;
  }

  batch(slot: number, perBatch: number): Float64Array {
    const start = (this.#offset + slot * perBatch) % this.#len;
    return this.#ext.subarray(start, start + perBatch);
  }
}

/** `times`/`values` with the points in a random order (copies). */
export function shuffled(
  times: BigInt64Array,
  values: Float64Array,
  rnd: () => number,
): { times: BigInt64Array; values: Float64Array } {
  const n = times.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const t2 = new BigInt64Array(n);
  const v2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t2[i] = times[order[i]!]!;
    v2[i] = values[order[i]!]!;
  }
  return { times: t2, values: v2 };
}

/** How many slots a batch is held back: 0 (on time) or 1…maxSlots with probability `frac`. */
export function lateSlots(rnd: () => number, frac: number, maxSlots: number): number {
  if (frac <= 0 || maxSlots < 1 || rnd() >= frac) return 0;
  return 1 + Math.floor(rnd() * maxSlots);
}

/**
 * The benchmark workload, generated deterministically with the same formula and seeds as the peers
 * harness (shared/peers/gen.mjs), so ArborDB's figures compare with the peers' on identical data:
 * 120 Hz ns timestamps from 2024-01-01T00:00:00Z with ±1000 ns integer jitter, values
 * 7200 + 5·sin(2π·60.05·t + phase) + triangular noise in (−0.1, 0.1), mulberry32 per stream.
 */
import fs from 'node:fs';
import { mulberry32 } from '../src/core/random.ts';

export { mulberry32 };

export const T0 = 1_704_067_200_000_000_000n;
export const PERIOD_NS = 8_333_333;
const JITTER = 1000;
const SEED = 20240101;
const FREQ = 60.05;

export interface Series {
  readonly times: BigInt64Array;
  readonly values: Float64Array;
}

/** Stream `s` of the workload, points [0, n). Identical to gen.mjs's s<s>.bin for the same n. */
export function generateStream(s: number, n: number): Series {
  const rnd = mulberry32(SEED + s * 7919);
  const phase = rnd() * 2 * Math.PI;
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const jitter = Math.round((rnd() * 2 - 1) * JITTER);
    const offNs = i * PERIOD_NS + jitter;
    times[i] = T0 + BigInt(offNs);
    const noise = (rnd() + rnd() - 1) * 0.1;
    values[i] = 7200 + 5 * Math.sin(2 * Math.PI * FREQ * (offNs / 1e9) + phase) + noise;
  }
  return { times, values };
}

/** A channel of the OpenPMU recordings: magnitude, frequency or angle, with exact ns timestamps. */
export interface PmuChannels {
  readonly file: string;
  readonly times: BigInt64Array;
  readonly magnitude: Float64Array;
  readonly frequency: Float64Array;
  readonly angle: Float64Array;
}

/**
 * Parse an OpenPMU log (shared/data/openpmu-rio-2012): CR-separated sentences
 * `$KTH01,V1xx0,<seconds since midnight>,<mag>,<freq>,<angle>*CS`; the date comes from the file name.
 */
export function readOpenPmu(file: string): PmuChannels {
  const name = file.split('/').pop() ?? file;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(name);
  if (!m) throw new Error(`${file}: file name does not start with a date`);
  const midnight = BigInt(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) * 1_000_000n;
  const lines = fs
    .readFileSync(file, 'latin1')
    .split(/\r\n?|\n/)
    .filter((l) => l.startsWith('$'));
  const t: bigint[] = [];
  const a: number[] = [];
  const f: number[] = [];
  const g: number[] = [];
  for (const line of lines) {
    const body = line.slice(1, line.indexOf('*') >= 0 ? line.indexOf('*') : undefined).split(',');
    if (body.length < 6) continue;
    const [sec, frac = ''] = body[2]!.split('.');
    t.push(midnight + BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0')));
    a.push(Number(body[3]));
    f.push(Number(body[4]));
    g.push(Number(body[5]));
  }
  return {
    file,
    times: BigInt64Array.from(t),
    magnitude: Float64Array.from(a),
    frequency: Float64Array.from(f),
    angle: Float64Array.from(g),
  };
}

/** Assertions and small data helpers shared by the conformance cases. */
import assert from 'node:assert/strict';
import type { RawArrays } from '../../src/client/points.ts';
import { type ErrorCode, isDbError } from '../../src/core/errors.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { ReferenceStream, type RefPoint } from '../model/reference-stream.ts';

/** 2017-07-14T02:40:00Z, the docs' favourite time. */
export const T0 = 1_500_000_000_000_000_000n;
/** A time above 2^53: only exact bigint handling keeps it. */
export const BIG_T = 9_007_199_254_740_993n;

/** Await `fn` and require a DbError with `code`. */
export async function rejectsWith(fn: () => Promise<unknown>, code: ErrorCode, context = ''): Promise<void> {
  let outcome: unknown = 'resolved';
  try {
    await fn();
  } catch (e) {
    if (isDbError(e, code)) return;
    outcome = e;
  }
  const got = isDbError(outcome) ? `DbError ${outcome.code}: ${outcome.message}` : String(outcome);
  assert.fail(`${context ? `${context}: ` : ''}expected DbError ${code}, got ${got}`);
}

export const P = (t: bigint | number, v: number): RefPoint => ({ t: BigInt(t), v });

/** Reference points → typed columns for insert. */
export function columns(points: readonly RefPoint[]): { times: BigInt64Array; values: Float64Array } {
  return { times: BigInt64Array.from(points, (p) => p.t), values: Float64Array.from(points, (p) => p.v) };
}

/** Typed columns → reference points. */
export function refPoints(a: RawArrays): RefPoint[] {
  return Array.from(a.times, (t, i) => ({ t, v: a.values[i]! }));
}

/** A reference stream holding `points` inserted in one batch under `policy`. */
export function modelOf(
  points: readonly RefPoint[],
  policy: 'never' | 'equal' | 'retain' | 'replace' = 'never',
): ReferenceStream {
  const m = new ReferenceStream();
  m.insert(points, policy);
  return m;
}

/** `n` points from T0 every `step` ns with values from `value(i)`. */
export function series(n: number, step: bigint, value: (i: number) => number = (i) => i, start = T0): RefPoint[] {
  return Array.from({ length: n }, (_, i) => ({ t: start + BigInt(i) * step, v: value(i) }));
}

/** Deterministic pseudo-random points in [start, start + span), values with fractions and signs. */
export function scattered(n: number, seed: number, start = T0, span = 1n << 36n): RefPoint[] {
  const rnd = mulberry32(seed);
  const out: RefPoint[] = [];
  for (let i = 0; i < n; i++) {
    const t = start + (BigInt(Math.floor(rnd() * 2 ** 31)) * span) / (1n << 31n);
    out.push({ t, v: Math.round((rnd() - 0.5) * 2e6) / 1000 });
  }
  return out;
}

/** Sorted copy by time (stable). */
export const sortByTime = (pts: readonly RefPoint[]): RefPoint[] =>
  [...pts].sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));

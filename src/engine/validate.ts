/** Input checks with BTrDB's codes. Every write is validated whole before anything changes. */
import { DbError } from '../core/errors.ts';
import { MAX_INSERT_TIME, MAX_TIME, MIN_TIME } from '../core/time.ts';
import { MERGE_POLICIES, type MergePolicy } from '../core/types.ts';
import type { PointBatch } from './point-batch.ts';

export function checkRange(start: bigint, end: bigint): void {
  if (start < MIN_TIME) throw new DbError(413, `start ${start} is before the earliest time ${MIN_TIME}`);
  if (end > MAX_TIME) throw new DbError(413, `end ${end} is after the latest time ${MAX_TIME}`);
  if (start >= end) throw new DbError(413, `start ${start} must be before end ${end}`);
}

export function checkTime(t: bigint): void {
  if (t < MIN_TIME || t >= MAX_TIME) throw new DbError(413, `time ${t} is outside [${MIN_TIME}, ${MAX_TIME})`);
}

export function checkPointWidth(pw: number): void {
  if (!Number.isInteger(pw) || pw < 0 || pw > 63) throw new DbError(415, `point width ${pw} is not an integer in 0–63`);
}

export function checkWidth(width: bigint, depth: number): void {
  if (width <= 0n || width > 1n << 63n) throw new DbError(415, `window width ${width} must be in 1 … 2^63 ns`);
  if (!Number.isInteger(depth) || depth < 0 || depth > 63) throw new DbError(415, `depth ${depth} is not in 0–63`);
}

export function checkPolicy(p: string): asserts p is MergePolicy {
  if (!(MERGE_POLICIES as readonly string[]).includes(p)) {
    throw new DbError(438, `unknown merge policy ${JSON.stringify(p)}; use one of ${MERGE_POLICIES.join(', ')}`);
  }
}

/** Validate a batch for insert: lengths, size, time range, finite values (unless allowed). */
export function checkBatch(b: PointBatch, opts: { allowNonFinite: boolean; maxPoints: number }): void {
  const n = b.times.length;
  if (b.values.length !== n) throw new DbError(438, `${n} times but ${b.values.length} values`);
  if (b.flags && b.flags.length !== n) throw new DbError(438, `${n} times but ${b.flags.length} flags`);
  if (n === 0) throw new DbError(438, 'insert of an empty batch');
  if (n > opts.maxPoints)
    throw new DbError(414, `insert of ${n} points exceeds the limit of ${opts.maxPoints} per call`);
  for (let i = 0; i < n; i++) {
    const t = b.times[i]!;
    if (t < MIN_TIME || t >= MAX_INSERT_TIME) {
      throw new DbError(413, `point ${i}: time ${t} is outside [${MIN_TIME}, ${MAX_INSERT_TIME})`);
    }
  }
  if (!opts.allowNonFinite) {
    const v = b.values;
    for (let i = 0; i < n; i++) {
      const x = v[i]!;
      if (x - x !== 0) throw new DbError(425, `point ${i} (time ${b.times[i]}): value ${x} is not finite`);
    }
  }
}

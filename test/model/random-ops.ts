/**
 * A seeded generator of random operation sequences for model-based tests: the harness applies each
 * op to the engine and to a ReferenceStream and compares every answer. The same seed always gives
 * the same ops, so a failing seed is a reproducible bug report.
 *
 * Every op is valid for the engine: inserted times lie in [MIN_TIME, MAX_TIME − 2] (guide §4.1:
 * t < (48 << 56) − 1), values are finite, query and delete ranges satisfy
 * MIN_TIME ≤ start < end ≤ MAX_TIME − 1, pw is 0–63, window widths are 1 ns – 2^62 with at most
 * ~5000 windows per query.
 */

import { mulberry32 } from '../../src/core/random.ts';
import { MAX_TIME, MIN_TIME } from '../../src/core/time.ts';
import type { MergePolicy } from '../../src/core/types.ts';
import type { RefPoint } from './reference-stream.ts';

export { mulberry32 };

/** 'old' = at an earlier retained version, chosen by the harness. */
export type VersionChoice = 'latest' | 'old';

export type Op =
  | { kind: 'insert'; points: RefPoint[]; policy: MergePolicy }
  | { kind: 'delete'; start: bigint; end: bigint }
  | { kind: 'flush' }
  | { kind: 'values' | 'count'; start: bigint; end: bigint; version: VersionChoice }
  | { kind: 'aligned'; start: bigint; end: bigint; pw: number; version: VersionChoice }
  | { kind: 'windows'; start: bigint; end: bigint; width: bigint; version: VersionChoice }
  | { kind: 'nearest'; time: bigint; backward: boolean; version: VersionChoice };

/** Largest insertable time. */
const LAST_POINT = MAX_TIME - 2n;
/** Largest range end (ranges stay within [MIN_TIME, MAX_TIME)). */
const LAST_END = MAX_TIME - 1n;
const MAX_WIDTH = 1n << 62n;
const MAX_WINDOWS = 5000n;
/** 2023-11-14T22:13:20Z: a realistic default place for data. */
const DEFAULT_BASE = 1_700_000_000_000_000_000n;
/** 2^36 ns ≈ 69 s. */
const DEFAULT_SPAN = 1n << 36n;
const POOL_SIZE = 5000;
const POLICIES: readonly MergePolicy[] = ['never', 'equal', 'retain', 'replace'];

const bitLength = (n: bigint): number => (n <= 0n ? 0 : n.toString(2).length);
const clamp = (t: bigint, lo: bigint, hi: bigint): bigint => (t < lo ? lo : t > hi ? hi : t);

class Random {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  /** Index into `weights` chosen with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    let r = this.next() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
  /** bigint in [lo, hi], uniform up to a negligible modulo bias (64 spare random bits). */
  big(lo: bigint, hi: bigint): bigint {
    const span = hi - lo + 1n;
    let r = 0n;
    const words = Math.ceil(bitLength(span) / 32) + 2;
    for (let i = 0; i < words; i++) r = (r << 32n) | BigInt(Math.floor(this.next() * 4294967296));
    return lo + (r % span);
  }
  /** bigint in [lo, hi] (lo ≥ 1) with a roughly uniform number of bits: small and large alike. */
  logBig(lo: bigint, hi: bigint): bigint {
    const bits = this.int(bitLength(lo), bitLength(hi));
    const from = clamp(1n << BigInt(bits - 1), lo, hi);
    const to = clamp((1n << BigInt(bits)) - 1n, lo, hi);
    return this.big(from, to);
  }
  shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
  }
}

class Generator {
  private readonly r: Random;
  private readonly base: bigint;
  private readonly span: bigint;
  /** A sample of inserted points, reused to make duplicates against stored data. */
  private readonly pool: RefPoint[] = [];

  constructor(seed: number, base: bigint, span: bigint) {
    this.r = new Random(seed);
    this.base = clamp(base, MIN_TIME, LAST_POINT);
    this.span = clamp(span, 1n, LAST_POINT - this.base + 1n);
  }

  op(): Op {
    const r = this.r;
    switch (r.weighted([30, 8, 8, 12, 7, 13, 12, 10])) {
      case 0:
        return { kind: 'insert', points: this.batch(), policy: r.pick(POLICIES) };
      case 1: {
        const [start, end] = this.deleteRange();
        return { kind: 'delete', start, end };
      }
      case 2:
        return { kind: 'flush' };
      case 3:
      case 4: {
        const [start, end] = this.range();
        return { kind: r.chance(0.6) ? 'values' : 'count', start, end, version: this.version() };
      }
      case 5: {
        const [start, end] = this.range();
        return { kind: 'aligned', start, end, pw: this.pointWidth(end - start), version: this.version() };
      }
      case 6: {
        const [start, end] = this.range();
        return { kind: 'windows', start, end, width: this.width(end - start), version: this.version() };
      }
      default:
        return { kind: 'nearest', time: this.nearestTime(), backward: r.chance(0.5), version: this.version() };
    }
  }

  private version(): VersionChoice {
    return this.r.chance(0.25) ? 'old' : 'latest';
  }

  // ---- values -------------------------------------------------------------------------------

  /** Finite floats: ordinary, negative, large, tiny, small integers and exact repeats, ±0. */
  private value(): number {
    const r = this.r;
    const sign = r.chance(0.5) ? -1 : 1;
    switch (r.weighted([35, 15, 10, 4, 10, 12, 4, 10])) {
      case 0:
        return (r.float() - 0.5) * 2000;
      case 1:
        return r.int(-5, 5); // frequent exact repeats, for 'equal'
      case 2:
        return sign * r.float() * 10 ** r.int(6, 15);
      case 3:
        return sign * r.float() * 10 ** r.int(16, 30);
      case 4:
        return sign * r.float() * 10 ** -r.int(6, 30);
      case 5:
        return this.pool.length > 0 ? r.pick(this.pool).v : 1.5;
      case 6:
        return r.chance(0.5) ? 0 : -0;
      default:
        return Math.sin(r.float() * 100) * 120;
    }
  }

  // ---- times --------------------------------------------------------------------------------

  private localTime(): bigint {
    return this.r.big(this.base, this.base + this.span - 1n);
  }

  private poolTime(): bigint {
    return this.pool.length > 0 ? this.r.pick(this.pool).t : this.localTime();
  }

  private anyTime(): bigint {
    const r = this.r;
    switch (r.weighted([50, 15, 10, 10, 10, 5])) {
      case 0:
        return this.localTime();
      case 1:
        return this.poolTime();
      case 2:
        return r.big(-this.span, this.span / 2n); // mostly negative, crossing zero
      case 3:
        return r.big(MIN_TIME, MIN_TIME + (1n << 40n)); // negative, near the lower bound
      case 4:
        return r.big(MIN_TIME, LAST_POINT);
      default:
        return r.chance(0.5) ? MIN_TIME + BigInt(r.int(0, 1000)) : LAST_POINT - BigInt(r.int(0, 1000));
    }
  }

  private batchSize(): number {
    const r = this.r;
    switch (r.weighted([45, 30, 15, 10])) {
      case 0:
        return r.int(1, 20);
      case 1:
        return r.int(21, 300);
      case 2:
        return r.int(301, 1500);
      default:
        return r.int(1501, 3000);
    }
  }

  // ---- inserts ------------------------------------------------------------------------------

  private batch(): RefPoint[] {
    const r = this.r;
    const times: bigint[] = [];
    switch (r.weighted([25, 15, 15, 10, 10, 10, 15])) {
      case 0: {
        // uniform in the local region
        const n = this.batchSize();
        for (let i = 0; i < n; i++) times.push(this.localTime());
        break;
      }
      case 1: {
        // a regularly sampled signal, like a PMU
        const n = this.batchSize();
        const period = r.logBig(1n, 1_000_000n);
        const start = this.localTime();
        for (let i = 0; i < n; i++) times.push(start + BigInt(i) * period);
        break;
      }
      case 2: {
        // a cluster: > 1024 points in a tiny span, sometimes all at one timestamp
        const n = r.chance(0.6) ? r.int(1025, 3000) : this.batchSize();
        const centre = r.chance(0.5) ? this.poolTime() : this.anyTime();
        const spread = BigInt(r.pick([0, 0, 1, 16, 1000]));
        for (let i = 0; i < n; i++) times.push(centre + r.big(0n, spread));
        break;
      }
      case 3: {
        // spread over the whole time range
        const n = this.batchSize();
        for (let i = 0; i < n; i++) times.push(r.big(MIN_TIME, LAST_POINT));
        break;
      }
      case 4: {
        // negative times
        const n = this.batchSize();
        const lo = r.chance(0.5) ? MIN_TIME : -this.span;
        for (let i = 0; i < n; i++) times.push(r.big(lo, lo + this.span));
        break;
      }
      case 5: {
        // restate stored times (duplicates against stored points)
        const n = Math.min(this.batchSize(), 500);
        for (let i = 0; i < n; i++) times.push(this.poolTime());
        break;
      }
      default: {
        // anything goes
        const n = this.batchSize();
        for (let i = 0; i < n; i++) times.push(this.anyTime());
        break;
      }
    }
    const points: RefPoint[] = times.map((t) => ({ t: clamp(t, MIN_TIME, LAST_POINT), v: this.value() }));
    this.addBatchDuplicates(points);
    this.reorder(points);
    for (const p of points) this.remember(p);
    return points;
  }

  /** Sometimes repeat earlier batch times, or whole points, so policies act within a batch. */
  private addBatchDuplicates(points: RefPoint[]): void {
    const r = this.r;
    if (!r.chance(0.25)) return;
    const extra = r.int(1, Math.min(200, points.length));
    for (let i = 0; i < extra && points.length < 3000; i++) {
      const src = r.pick(points);
      // same point: 'equal' drops it; same time, new value: 'equal' keeps it
      points.push({ t: src.t, v: r.chance(0.5) ? src.v : this.value() });
    }
    // Also repeat some stored points exactly (with their stored value).
    if (this.pool.length > 0 && r.chance(0.5)) {
      const n = r.int(1, 50);
      for (let i = 0; i < n && points.length < 3000; i++) {
        const p = r.pick(this.pool);
        points.push({ t: p.t, v: p.v });
      }
    }
  }

  private reorder(points: RefPoint[]): void {
    const r = this.r;
    switch (r.weighted([35, 40, 10, 15])) {
      case 0:
        points.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0)); // stable: equal times keep order
        return;
      case 1:
        r.shuffle(points);
        return;
      case 2:
        points.reverse();
        return;
      default:
        return; // as generated
    }
  }

  private remember(p: RefPoint): void {
    if (this.pool.length < POOL_SIZE) this.pool.push(p);
    else if (this.r.chance(0.05)) this.pool[this.r.int(0, POOL_SIZE - 1)] = p;
  }

  // ---- ranges -------------------------------------------------------------------------------

  /** [start, end) with MIN_TIME ≤ start < end ≤ MAX_TIME − 1, from two arbitrary times. */
  private ordered(a: bigint, b: bigint): [bigint, bigint] {
    let start = clamp(a < b ? a : b, MIN_TIME, LAST_END);
    let end = clamp(a < b ? b : a, MIN_TIME, LAST_END);
    if (start === end) {
      if (end < LAST_END) end += 1n;
      else start -= 1n;
    }
    return [start, end];
  }

  /** A query range: local, around stored points, huge, negative, full, likely empty. */
  private range(): [bigint, bigint] {
    const r = this.r;
    switch (r.weighted([30, 10, 10, 10, 10, 10, 10, 10])) {
      case 0:
        return this.ordered(this.localTime(), this.localTime());
      case 1:
        return this.ordered(this.base, this.base + this.span);
      case 2: {
        const t = this.poolTime();
        return r.chance(0.5)
          ? this.ordered(t, t + 1n)
          : this.ordered(t - BigInt(r.int(0, 100)), t + BigInt(r.int(1, 100)));
      }
      case 3:
        return [MIN_TIME, LAST_END];
      case 4:
        return this.ordered(r.big(MIN_TIME, LAST_END), r.big(MIN_TIME, LAST_END));
      case 5:
        return this.ordered(this.anyTime(), this.anyTime());
      case 6: {
        // small range around any time, often empty
        const t = this.anyTime();
        return this.ordered(t, t + r.logBig(1n, 1n << 30n));
      }
      default: {
        // from one bound or to the other
        const t = this.anyTime();
        return r.chance(0.5) ? this.ordered(MIN_TIME, t) : this.ordered(t, LAST_END);
      }
    }
  }

  private deleteRange(): [bigint, bigint] {
    const r = this.r;
    switch (r.weighted([25, 20, 20, 10, 10, 10, 3])) {
      case 0: {
        const t = r.chance(0.5) ? this.poolTime() : this.localTime();
        return this.ordered(t, t + BigInt(r.int(1, 1000)));
      }
      case 1: {
        const t = this.poolTime(); // exactly one timestamp: hits duplicates
        return this.ordered(t, t + 1n);
      }
      case 2:
        return this.ordered(this.localTime(), this.localTime());
      case 3:
        return this.ordered(this.anyTime(), this.anyTime());
      case 4: {
        // likely empty: a short range far below the local region
        const t = this.base - (1n << 50n) - r.big(0n, 1n << 40n);
        return this.ordered(t, t + BigInt(r.int(1, 1000)));
      }
      case 5:
        return this.ordered(r.big(MIN_TIME, LAST_END), r.big(MIN_TIME, LAST_END));
      default:
        return [MIN_TIME, LAST_END]; // everything
    }
  }

  // ---- window parameters --------------------------------------------------------------------

  /** pw 0–63, mostly giving a useful number of windows over a range of `span` ns. */
  private pointWidth(span: bigint): number {
    const r = this.r;
    const log2 = bitLength(span) - 1;
    const within = (pw: number): number => Math.max(0, Math.min(63, pw));
    switch (r.weighted([40, 15, 15, 15, 15])) {
      case 0:
        return within(log2 - r.int(0, 12));
      case 1:
        return r.int(0, 63);
      case 2:
        return r.int(0, 8);
      case 3:
        return r.pick([30, 38, 48, 56, 60, 61, 62, 63]);
      default:
        return within(log2 + r.int(-2, 2));
    }
  }

  /** A width from 1 ns to 2^62 giving at most MAX_WINDOWS windows over `span` ns. */
  private width(span: bigint): bigint {
    const r = this.r;
    const min = span <= MAX_WINDOWS ? 1n : (span + MAX_WINDOWS - 1n) / MAX_WINDOWS;
    const at = (w: bigint): bigint => clamp(w, min, MAX_WIDTH);
    switch (r.weighted([25, 10, 35, 10, 10, 10])) {
      case 0:
        return at(span); // count(precise=True)
      case 1:
        return span < MAX_WIDTH ? r.big(span + 1n, span * 2n < MAX_WIDTH ? span * 2n : MAX_WIDTH) : MAX_WIDTH; // no window fits
      case 2:
        return r.logBig(min, span < min ? min : span);
      case 3:
        return min;
      case 4:
        return r.logBig(min, MAX_WIDTH);
      default:
        return at(r.pick([1_000n, 1_000_000n, 1_000_000_000n, 60_000_000_000n, 1n << BigInt(r.int(0, 62))]));
    }
  }

  private nearestTime(): bigint {
    const r = this.r;
    switch (r.weighted([30, 15, 25, 10, 10, 10])) {
      case 0:
        return this.poolTime();
      case 1:
        return clamp(this.poolTime() + BigInt(r.int(-1, 1)), MIN_TIME, LAST_END);
      case 2:
        return clamp(this.anyTime(), MIN_TIME, LAST_END);
      case 3:
        return MIN_TIME;
      case 4:
        return LAST_END;
      default:
        return r.big(MIN_TIME, LAST_END);
    }
  }
}

/**
 * `count` random ops from `seed`. Most activity falls in [base, base + span) (defaults: late 2023,
 * 2^36 ns), with excursions to negative times, both bounds and the whole range.
 */
export function randomOps(seed: number, count: number, opts?: { base?: bigint; span?: bigint }): Op[] {
  const gen = new Generator(seed, opts?.base ?? DEFAULT_BASE, opts?.span ?? DEFAULT_SPAN);
  const ops: Op[] = [];
  for (let i = 0; i < count; i++) ops.push(gen.op());
  return ops;
}

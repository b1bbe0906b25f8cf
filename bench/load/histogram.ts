/**
 * A latency histogram with logarithmic buckets (≈ 2 % wide, 1 µs … ~30 min), cheap to record,
 * to ship between processes (only the non-zero buckets) and to merge. Percentiles answer the
 * upper bound of the bucket holding the rank, so they overstate by at most one bucket width.
 */

const MIN_MS = 0.001;
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets: index i holds values in (MIN·G^(i−1), MIN·G^i]; the last one catches everything above. */
export const BUCKETS = Math.ceil(Math.log((30 * 60 * 1000) / MIN_MS) / LOG_GROWTH) + 1;

/** Non-zero buckets as [index, count] pairs, plus count/sum/max: what crosses process boundaries. */
export interface HistogramData {
  readonly buckets: readonly (readonly [number, number])[];
  readonly count: number;
  readonly sumMs: number;
  readonly maxMs: number;
}

export const bucketOf = (ms: number): number =>
  ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH - 1e-9));

/** The largest value bucket `i` holds. */
export const bucketUpperMs = (i: number): number => MIN_MS * GROWTH ** i;

export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  count = 0;
  sumMs = 0;
  maxMs = 0;

  record(ms: number): void {
    const v = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#counts[bucketOf(v)]!++;
    this.count++;
    this.sumMs += v;
    if (v > this.maxMs) this.maxMs = v;
  }

  add(d: HistogramData): void {
    for (const [i, n] of d.buckets) this.#counts[i]! += n;
    this.count += d.count;
    this.sumMs += d.sumMs;
    if (d.maxMs > this.maxMs) this.maxMs = d.maxMs;
  }

  /** The value at quantile q (0 < q ≤ 1): the upper bound of its bucket, capped at the maximum seen. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(bucketUpperMs(i), this.maxMs);
    }
    return this.maxMs;
  }

  get meanMs(): number {
    return this.count === 0 ? Number.NaN : this.sumMs / this.count;
  }

  data(): HistogramData {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]! > 0) buckets.push([i, this.#counts[i]!]);
    return { buckets, count: this.count, sumMs: this.sumMs, maxMs: this.maxMs };
  }

  /** The data so far, then start empty (interval figures). */
  take(): HistogramData {
    const d = this.data();
    this.#counts.fill(0);
    this.count = 0;
    this.sumMs = 0;
    this.maxMs = 0;
    return d;
  }

  static from(...parts: readonly HistogramData[]): Histogram {
    const h = new Histogram();
    for (const p of parts) h.add(p);
    return h;
  }
}

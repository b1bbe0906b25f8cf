/**
 * Window statistics and their exact, mergeable form. Nodes of the tree keep (count, mean, M2, min,
 * max) per child; two summaries merge with the parallel-variance formula (Chan et al.), which is
 * numerically stable where a raw sum of squares is not. stddev is the population deviation (÷ n).
 */

/** One window's answer. `time` = window start (ns). For an empty window count = 0 and min = mean = max = 0. */
export interface StatPoint {
  readonly time: bigint;
  readonly min: number;
  readonly mean: number;
  readonly max: number;
  readonly count: number;
  readonly stddev: number;
}

/** A mutable accumulator: add points or merge summaries, then read mean/stddev. */
export class Summary {
  count = 0;
  mean = 0;
  m2 = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  /** Add one value (Welford's update). */
  add(v: number): void {
    const n = ++this.count;
    const d = v - this.mean;
    this.mean += d / n;
    this.m2 += d * (v - this.mean);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Merge another summary given as its parts. */
  merge(count: number, mean: number, m2: number, min: number, max: number): void {
    if (count === 0) return;
    if (this.count === 0) {
      this.count = count;
      this.mean = mean;
      this.m2 = m2;
      this.min = min;
      this.max = max;
      return;
    }
    const n = this.count + count;
    const d = mean - this.mean;
    this.mean += (d * count) / n;
    this.m2 += m2 + (d * d * this.count * count) / n;
    this.count = n;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
  }

  reset(): void {
    this.count = 0;
    this.mean = 0;
    this.m2 = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }

  stddev(): number {
    return this.count === 0 ? 0 : Math.sqrt(Math.max(0, this.m2) / this.count);
  }

  toStatPoint(time: bigint): StatPoint {
    if (this.count === 0) return { time, min: 0, mean: 0, max: 0, count: 0, stddev: 0 };
    return { time, min: this.min, mean: this.mean, max: this.max, count: this.count, stddev: this.stddev() };
  }
}

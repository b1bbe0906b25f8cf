/**
 * Growable point columns for readers that do not know the row count in advance: typed arrays that
 * double when full, so a file of n points costs O(n) copies and 16 bytes per point (no per-point
 * objects).
 */
export class PointBuilder {
  #times: BigInt64Array;
  #values: Float64Array[];
  length = 0;

  /** `columns` value columns share one time column (the OpenPMU logs have three). */
  constructor(
    readonly columns = 1,
    capacity = 1024,
  ) {
    this.#times = new BigInt64Array(capacity);
    this.#values = Array.from({ length: columns }, () => new Float64Array(capacity));
  }

  /** Append a time; then set its values with `setValue(column, v)` (all default to 0). */
  pushTime(t: bigint): number {
    if (this.length === this.#times.length) this.#grow();
    this.#times[this.length] = t;
    return this.length++;
  }

  setValue(column: number, i: number, v: number): void {
    this.#values[column]![i] = v;
  }

  /** Append one point to a one-column builder. */
  push(t: bigint, v: number): void {
    const i = this.pushTime(t);
    this.#values[0]![i] = v;
  }

  /** Remove the last point (a row found bad after its time was pushed). */
  pop(): void {
    if (this.length > 0) this.length--;
  }

  #grow(): void {
    const cap = Math.max(1024, this.#times.length * 2);
    const t = new BigInt64Array(cap);
    t.set(this.#times);
    this.#times = t;
    this.#values = this.#values.map((old) => {
      const v = new Float64Array(cap);
      v.set(old);
      return v;
    });
  }

  /** The times, trimmed to length (a view: do not push afterwards). */
  times(): BigInt64Array {
    return this.#times.subarray(0, this.length);
  }

  /** Value column `column`, trimmed to length (a view). */
  values(column = 0): Float64Array {
    return this.#values[column]!.subarray(0, this.length);
  }
}

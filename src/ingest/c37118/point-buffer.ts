/** A growable columnar buffer of one stream's pending points (times ns, values, flags). */
export class PointBuffer {
  #times = new BigInt64Array(64);
  #values = new Float64Array(64);
  #flags = new Uint32Array(64);
  length = 0;

  push(time: bigint, value: number, flags: number): void {
    if (this.length === this.#times.length) {
      const n = this.length * 2;
      const t = new BigInt64Array(n);
      t.set(this.#times);
      this.#times = t;
      const v = new Float64Array(n);
      v.set(this.#values);
      this.#values = v;
      const f = new Uint32Array(n);
      f.set(this.#flags);
      this.#flags = f;
    }
    this.#times[this.length] = time;
    this.#values[this.length] = value;
    this.#flags[this.length] = flags;
    this.length++;
  }

  /** The pending points (copies) and an empty buffer. */
  take(): { times: BigInt64Array; values: Float64Array; flags: Uint32Array } {
    const n = this.length;
    this.length = 0;
    return { times: this.#times.slice(0, n), values: this.#values.slice(0, n), flags: this.#flags.slice(0, n) };
  }
}

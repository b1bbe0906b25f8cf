/**
 * One file's bytes in MemoryEnv, with its durable state: what survives a crash is the content as
 * of the last `sync()`. While the file only grows that is a prefix of the current bytes (so a sync
 * costs nothing); a truncate below the durable size first snapshots the durable bytes.
 */

/** How the unsynced tail of a file looks after a crash. */
export type TornMode = 'none' | 'prefix' | 'garbage' | 'zeros';

export class MemFile {
  private data: Uint8Array = new Uint8Array(0);
  private length = 0;
  private durableLength = 0;
  /** The durable content when it is not a prefix of `data` (after a truncate below it). */
  private snapshot: Uint8Array | undefined;

  size(): number {
    return this.length;
  }

  /** The current bytes (a view: copy before handing out). */
  view(): Uint8Array {
    return this.data.subarray(0, this.length);
  }

  durableBytes(): Uint8Array {
    return this.snapshot ? this.snapshot.slice() : this.data.slice(0, this.durableLength);
  }

  read(dst: Uint8Array, position: number): number {
    if (position >= this.length) return 0;
    const n = Math.min(dst.length, this.length - position);
    dst.set(this.data.subarray(position, position + n));
    return n;
  }

  append(bytes: Uint8Array): void {
    this.reserve(this.length + bytes.length);
    this.data.set(bytes, this.length);
    this.length += bytes.length;
  }

  truncate(size: number): void {
    if (size < this.durableLength && !this.snapshot) this.snapshot = this.data.slice(0, this.durableLength);
    if (size > this.length) {
      this.reserve(size);
      this.data.fill(0, this.length, size);
    }
    this.length = size;
  }

  sync(): void {
    this.snapshot = undefined;
    this.durableLength = this.length;
  }

  /** XOR `mask` into the stored byte at `offset` (current and durable content alike). */
  corrupt(offset: number, mask: number): void {
    if (offset < this.length) this.data[offset] = (this.data[offset] ?? 0) ^ mask;
    if (this.snapshot && offset < this.snapshot.length) this.snapshot[offset] = (this.snapshot[offset] ?? 0) ^ mask;
  }

  /**
   * Forget everything not synced. With a torn mode, part of the unsynced tail survives: 'prefix'
   * keeps a random prefix of it; 'garbage' also overwrites a random stretch of that prefix with
   * random bytes; 'zeros' keeps a random length whose end reads as zeros (the size reached disk,
   * the data did not). Afterwards the surviving content is the durable content.
   */
  crash(mode: TornMode, rng: () => number): void {
    if (this.snapshot) {
      this.data = this.snapshot;
      this.length = this.snapshot.length;
    } else {
      const tail = this.length - this.durableLength;
      const keep = mode === 'none' || tail === 0 ? 0 : Math.floor(rng() * (tail + 1));
      const end = this.durableLength + keep;
      if (keep > 0 && mode !== 'prefix') {
        const from = this.durableLength + Math.floor(rng() * keep);
        for (let i = from; i < end; i++) this.data[i] = mode === 'zeros' ? 0 : Math.floor(rng() * 256);
      }
      this.length = end;
    }
    this.snapshot = undefined;
    this.durableLength = this.length;
  }

  private reserve(n: number): void {
    if (n <= this.data.length) return;
    const grown = new Uint8Array(Math.max(n, this.data.length * 2, 4096));
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }
}

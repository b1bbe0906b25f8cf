/**
 * Bytes of one segment that are appended but not yet durable, held in arenas (large buffers that
 * records are copied into) so that a sync is one writev of a few big chunks, and so that the bytes
 * stay readable and re-writable until the fsync that covers them succeeds.
 *
 * Arenas cover one contiguous file range, in order; a record never spans two arenas, so any staged
 * record is one view. An arena is dropped only once every byte in it is durable.
 */

import { DbError } from '../core/errors.ts';

const MIN_ARENA = 64 * 1024;
const MAX_ARENA = 4 * 1024 * 1024;
const POOL_LIMIT = 8;
/** Released minimum-size arenas, reused: a WAL doing small group commits would otherwise churn. */
const pool: Uint8Array[] = [];

interface Arena {
  /** File offset of buf[0]. */
  readonly start: number;
  readonly buf: Uint8Array;
  used: number;
}

export class Staging {
  private arenas: Arena[] = [];
  private stagedBytes = 0;

  /** Bytes held (staged and in-flight). */
  get bytes(): number {
    return this.stagedBytes;
  }

  /**
   * Reserve `n` contiguous bytes for file offset `at`, which must be the end of what is staged (or
   * the file's end when nothing is). Returns the buffer and the index of the first reserved byte;
   * the caller fills them at once.
   */
  reserve(at: number, n: number): { readonly buf: Uint8Array; readonly pos: number } {
    let last = this.arenas.at(-1);
    if (last && last.start + last.used !== at) {
      throw new DbError(500, `staging out of order: ${at} after ${last.start + last.used}`);
    }
    if (!last || last.buf.length - last.used < n) {
      const size = Math.max(n, Math.min(MAX_ARENA, Math.max(MIN_ARENA, this.stagedBytes)));
      const buf = size === MIN_ARENA ? (pool.pop() ?? uninitialized(MIN_ARENA)) : uninitialized(size);
      last = { start: at, buf, used: 0 };
      this.arenas.push(last);
    }
    const pos = last.used;
    last.used += n;
    this.stagedBytes += n;
    return { buf: last.buf, pos };
  }

  /** Views of the staged bytes in [from, to), for one writev. `from` must be staged (or `to`). */
  chunks(from: number, to: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const a of this.arenas) {
      const lo = Math.max(from, a.start);
      const hi = Math.min(to, a.start + a.used);
      if (lo < hi) out.push(a.buf.subarray(lo - a.start, hi - a.start));
    }
    return out;
  }

  /** A view of [offset, offset + len) if those bytes are staged, else undefined. Copy before handing out. */
  view(offset: number, len: number): Uint8Array | undefined {
    const a = this.find(offset);
    if (!a || offset + len > a.start + a.used) return undefined;
    return a.buf.subarray(offset - a.start, offset - a.start + len);
  }

  /** True when `offset` falls in a staged range. */
  holds(offset: number): boolean {
    return this.find(offset) !== undefined;
  }

  /** Drop the arenas whose bytes all lie below `durable`. */
  release(durable: number): void {
    while (this.arenas.length > 0) {
      const a = this.arenas[0];
      if (!a || a.start + a.used > durable) break;
      this.arenas.shift();
      this.stagedBytes -= a.used;
      if (a.buf.length === MIN_ARENA && pool.length < POOL_LIMIT) pool.push(a.buf);
    }
  }

  /** Forget every staged byte at or past `offset` (bytes below it stay staged). */
  discardFrom(offset: number): void {
    while (this.arenas.length > 0) {
      const a = this.arenas[this.arenas.length - 1];
      if (!a || a.start + a.used <= offset) break;
      const keep = Math.max(0, offset - a.start);
      this.stagedBytes -= a.used - keep;
      a.used = keep;
      if (keep > 0) break;
      this.arenas.pop();
    }
  }

  private find(offset: number): Arena | undefined {
    let lo = 0;
    let hi = this.arenas.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const a = this.arenas[mid];
      if (!a) break;
      if (offset < a.start) hi = mid - 1;
      else if (offset >= a.start + a.used) lo = mid + 1;
      else return a;
    }
    return undefined;
  }
}

/** A buffer without zero-filling: arenas expose only the bytes written into them. */
function uninitialized(n: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
}

/**
 * Cuts a byte stream (a TCP connection, or concatenated UDP payloads) into C37.118 frames.
 *
 * Frames are found by SYNC (0xAA + a valid type/version byte) and FRAMESIZE; a frame is returned
 * only once all its bytes have arrived, so frames split across TCP segments come out whole. When
 * the bytes at the cursor are not a frame start (garbage, a lost segment), the splitter skips to
 * the next 0xAA and reports the skipped bytes. A candidate whose CRC does not match is not
 * consumed whole: the search resumes one byte after its SYNC, so a false SYNC inside garbage
 * cannot swallow the real frames behind it. Once the stream has produced a good frame, such a
 * candidate is also returned (its CRC fails in the decoder, which reports it with its offset);
 * before that — unrelated traffic — it is only counted as skipped. The buffer never holds more
 * than one frame (≤ 65 535 bytes) plus the newest chunk.
 */
import { crcCcitt } from './crc.ts';
import { frameTypeOf, MIN_FRAME } from './frame-decode.ts';

export interface SplitFrame {
  /** The frame's bytes (FRAMESIZE long; a copy or a view that stays valid). */
  readonly bytes: Uint8Array;
  /** Offset of the frame's first byte in the whole stream (-1 for an out-of-sequence frame). */
  readonly offset: number;
  /** A TCP segment out of sequence that held whole frames (see tcp-reassembly.ts). */
  readonly outOfSequence?: boolean;
}

export class FrameSplitter {
  #buf: Uint8Array = new Uint8Array(0);
  /** Stream offset of #buf[0]. */
  #at = 0;
  /** Bytes skipped while looking for a SYNC. */
  skipped = 0;
  /** A frame with a good CRC has been seen. */
  #synced = false;

  /** Append `chunk` and return every frame now complete, in order. */
  push(chunk: Uint8Array): SplitFrame[] {
    if (this.#buf.length === 0) this.#buf = chunk.slice();
    else {
      const b = new Uint8Array(this.#buf.length + chunk.length);
      b.set(this.#buf);
      b.set(chunk, this.#buf.length);
      this.#buf = b;
    }
    const out: SplitFrame[] = [];
    let i = 0;
    const buf = this.#buf;
    while (buf.length - i >= 4) {
      if (frameTypeOf(buf[i]!, buf[i + 1]!) < 0 || ((buf[i + 2]! << 8) | buf[i + 3]!) < MIN_FRAME) {
        let j = buf.indexOf(0xaa, i + 1);
        if (j < 0) j = buf.length;
        this.skipped += j - i;
        i = j;
        continue;
      }
      const size = (buf[i + 2]! << 8) | buf[i + 3]!;
      if (buf.length - i < size) {
        // Incomplete — or a false SYNC claiming a large size. If a whole, good frame starts later
        // in the buffer, the bytes before it cannot be a frame that is still arriving: skip them.
        const j = nextGoodFrame(buf, i + 1);
        if (j < 0) break;
        this.skipped += j - i;
        i = j;
        continue;
      }
      const crcOk = crcCcitt(buf, i, i + size - 2) === ((buf[i + size - 2]! << 8) | buf[i + size - 1]!);
      if (!crcOk) {
        if (this.#synced) out.push({ bytes: buf.subarray(i, i + size), offset: this.#at + i });
        this.skipped++;
        i++;
        continue;
      }
      this.#synced = true;
      out.push({ bytes: buf.subarray(i, i + size), offset: this.#at + i });
      i += size;
    }
    // Keep the incomplete tail (a copy, so returned views into buf are not overwritten later).
    this.#buf = buf.slice(i);
    this.#at += i;
    return out;
  }

  /**
   * Forget a partial frame (after a connection loss or a sequence gap): those bytes count as
   * skipped, and the next chunk starts the search afresh.
   */
  reset(gapBytes = 0): void {
    this.skipped += this.#buf.length;
    this.#at += this.#buf.length + gapBytes;
    this.#buf = new Uint8Array(0);
  }

  /** Bytes waiting for the rest of their frame. */
  get pending(): number {
    return this.#buf.length;
  }
}

/** Start of the first complete frame with a good CRC at or after `from`, or -1. */
function nextGoodFrame(buf: Uint8Array, from: number): number {
  for (let j = buf.indexOf(0xaa, from); j >= 0 && buf.length - j >= MIN_FRAME; j = buf.indexOf(0xaa, j + 1)) {
    if (frameTypeOf(buf[j]!, buf[j + 1]!) < 0) continue;
    const size = (buf[j + 2]! << 8) | buf[j + 3]!;
    if (size < MIN_FRAME || buf.length - j < size) continue;
    if (crcCcitt(buf, j, j + size - 2) === ((buf[j + size - 2]! << 8) | buf[j + size - 1]!)) return j;
  }
  return -1;
}

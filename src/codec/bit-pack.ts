/**
 * Bit streams: values packed LSB-first, so bit j of the stream is bit (j mod 8) of byte ⌊j/8⌋.
 * In memory a stream is a Uint32Array of little-endian words (bit j = bit j mod 32 of word ⌊j/32⌋),
 * which lets the hot loops read or write any field of ≤ 32 bits with two shifts and no branch:
 *
 *   read  k bits at p: ((w[p>>>5] >>> (p&31)) | ((w[(p>>>5)+1] << 1) << (31 - (p&31)))) & mask(k)
 *   write u (< 2^k) at p: w[p>>>5] |= u << (p&31); w[(p>>>5)+1] |= (u >>> 1) >>> (31 - (p&31))
 *
 * The double shift avoids JS's shift-by-32 = shift-by-0. Both need one spare word past the end,
 * which the scratch buffers here always have. Fields wider than 32 bits are written as their low
 * 32 bits followed by the rest, which is the same thing as one LSB-first field.
 */
import { IS_LITTLE_ENDIAN } from './int64.ts';

/** Mask of the low k bits (1 ≤ k ≤ 32) as an int32; mask(32) = -1. */
export const lowMask = (k: number): number => -1 >>> (32 - k);

let scratch = new Uint32Array(1024);

/**
 * A zeroed word buffer with room for `bits` bits plus two spare words. Shared scratch: valid until
 * the next call, never returned to callers of the codec.
 */
export function bitScratch(bits: number): Uint32Array {
  const words = (bits >>> 5) + 3;
  if (scratch.length < words) scratch = new Uint32Array(Math.max(words, scratch.length * 2));
  scratch.fill(0, 0, words);
  return scratch;
}

/** Append the first ⌈bits/8⌉ bytes of a word stream to `out` at `pos` (space already reserved). */
export function storeBits(words: Uint32Array, bits: number, out: Uint8Array, pos: number): number {
  const n = (bits + 7) >>> 3;
  if (!IS_LITTLE_ENDIAN) swapWords(words, (n + 3) >>> 2);
  out.set(new Uint8Array(words.buffer, words.byteOffset, n), pos);
  return pos + n;
}

let readScratch = new Uint32Array(1024);

/**
 * The `n` bytes at `src[pos..]` as a zero-padded word stream (copied: the source may be unaligned).
 * Shared scratch: valid until the next call.
 */
export function loadBits(src: Uint8Array, pos: number, n: number): Uint32Array {
  const words = (n >>> 2) + 3;
  if (readScratch.length < words) readScratch = new Uint32Array(Math.max(words, readScratch.length * 2));
  const w = readScratch;
  w.fill(0, n >>> 2, words);
  new Uint8Array(w.buffer, 0, n).set(src.subarray(pos, pos + n));
  if (!IS_LITTLE_ENDIAN) swapWords(w, (n + 3) >>> 2);
  return w;
}

function swapWords(w: Uint32Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const v = w[i]!;
    w[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
  }
}

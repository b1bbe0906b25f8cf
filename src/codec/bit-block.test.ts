import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PACK32, UNPACK32 } from './bit-block.ts';

/** Bit j of the stream is bit j mod 32 of word ⌊j/32⌋ (LSB first). */
const bitAt = (words: Uint32Array, at: number, j: number): number => (words[at + (j >>> 5)]! >>> (j & 31)) & 1;

describe('32-field bit blocks', () => {
  it('pack every width LSB-first, field after field', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 31 }), fc.array(fc.nat(), { minLength: 32, maxLength: 32 }), (w, raw) => {
        const src = Uint32Array.from(raw, (v) => v % 2 ** w);
        const words = new Uint32Array(w + 4).fill(0xdeadbeef);
        PACK32[w]!(src, 0, words, 2);
        for (let j = 0; j < 32; j++) {
          for (let b = 0; b < w; b++) assert.equal(bitAt(words, 2, j * w + b), (src[j]! >>> b) & 1);
        }
        assert.equal(words[1], 0xdeadbeef, 'nothing written before the block');
        assert.equal(words[2 + w], 0xdeadbeef, 'nothing written after the block');
      }),
      { numRuns: 300 },
    );
  });

  it('unpack what was packed, from any word offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 31 }),
        fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
        fc.nat(5),
        (w, raw, at) => {
          const src = Uint32Array.from(raw, (v) => v % 2 ** w);
          const words = new Uint32Array(at + 2 * w);
          PACK32[w]!(src, 0, words, at);
          PACK32[w]!(src, 32, words, at + w);
          const out = new Uint32Array(70);
          UNPACK32[w]!(words, at, out, 3);
          UNPACK32[w]!(words, at + w, out, 35);
          assert.deepEqual(Array.from(out.subarray(3, 67)), Array.from(src));
        },
      ),
      { numRuns: 300 },
    );
  });
});

/**
 * Packing and unpacking blocks of 32 fields of a fixed width w (1–31 bits). 32 fields of w bits fill
 * exactly w words, so a block starts and ends on a word boundary and one straight-line function per
 * width, with every shift a constant, does the job: measured 4–5× faster here than a loop with
 * variable shifts. The functions are generated once at module load from the same bit-order rule as
 * bit-pack.ts (field j occupies stream bits [j·w, (j+1)·w), LSB first).
 */

/** Unpack 32 fields of width w from words[at … at+w) into out[to … to+32). */
export type Unpack32 = (words: Uint32Array, at: number, out: Uint32Array, to: number) => void;
/** Pack the 32 values src[from … from+32) (each < 2^w) into words[at … at+w), overwriting them. */
export type Pack32 = (src: Uint32Array, from: number, words: Uint32Array, at: number) => void;

function unpackSource(w: number): string {
  const mask = w === 32 ? 0xffffffff : 2 ** w - 1;
  const lines: string[] = [];
  for (let j = 0; j < 32; j++) {
    const bit = j * w;
    const word = bit >>> 5;
    const shift = bit & 31;
    let expr = shift === 0 ? `words[at + ${word}]` : `(words[at + ${word}] >>> ${shift})`;
    if (shift + w > 32) expr = `(${expr} | (words[at + ${word + 1}] << ${32 - shift}))`;
    lines.push(`out[to + ${j}] = ${expr} & ${mask};`);
  }
  return lines.join('\n');
}

function packSource(w: number): string {
  const lines: string[] = [];
  const parts: string[][] = Array.from({ length: w }, () => []);
  for (let j = 0; j < 32; j++) {
    const bit = j * w;
    const word = bit >>> 5;
    const shift = bit & 31;
    parts[word]!.push(shift === 0 ? `src[from + ${j}]` : `(src[from + ${j}] << ${shift})`);
    if (shift + w > 32) parts[word + 1]!.push(`(src[from + ${j}] >>> ${32 - shift})`);
  }
  for (let k = 0; k < w; k++) lines.push(`words[at + ${k}] = ${parts[k]!.join(' | ')};`);
  return lines.join('\n');
}

/**
 * Pack the 32 fields src[from+j] − base (doubles, each an integer in [0, 2^w)) into
 * words[at … at+w): the encoder's residual-to-bits step without an intermediate array.
 */
export type PackDiff32 = (src: Float64Array, from: number, base: number, words: Uint32Array, at: number) => void;

function packDiffSource(w: number, high: boolean): string {
  const lines: string[] = [];
  for (let j = 0; j < 32; j++) {
    lines.push(
      high
        ? `const u${j} = Math.floor((src[from + ${j}] - base) * ${2 ** -32});`
        : `const u${j} = src[from + ${j}] - base;`,
    );
  }
  const parts: string[][] = Array.from({ length: w }, () => []);
  for (let j = 0; j < 32; j++) {
    const bit = j * w;
    const word = bit >>> 5;
    const shift = bit & 31;
    parts[word]!.push(shift === 0 ? `u${j}` : `(u${j} << ${shift})`);
    if (shift + w > 32) parts[word + 1]!.push(`(u${j} >>> ${32 - shift})`);
  }
  for (let k = 0; k < w; k++) lines.push(`words[at + ${k}] = ${parts[k]!.join(' | ')};`);
  return lines.join('\n');
}

/** UNPACK32[w] for w = 1…31 (index 0 unused). */
export const UNPACK32: readonly Unpack32[] = Array.from({ length: 32 }, (_, w) =>
  w === 0 ? () => {} : (new Function('words', 'at', 'out', 'to', unpackSource(w)) as Unpack32),
);

/** PACK32[w] for w = 1…31 (index 0 unused). */
export const PACK32: readonly Pack32[] = Array.from({ length: 32 }, (_, w) =>
  w === 0 ? () => {} : (new Function('src', 'from', 'words', 'at', packSource(w)) as Pack32),
);

/** PACK_DIFF32[w] for w = 1…31 (index 0 unused). */
export const PACK_DIFF32: readonly PackDiff32[] = Array.from({ length: 32 }, (_, w) =>
  w === 0 ? () => {} : (new Function('src', 'from', 'base', 'words', 'at', packDiffSource(w, false)) as PackDiff32),
);

/**
 * PACK_DIFF_HIGH32[w]: as PACK_DIFF32, but each field is ⌊(src[from+j] − base) / 2^32⌋ — the high
 * plane of a group wider than 32 bits (w here is the group's width − 32, 1…31).
 */
export const PACK_DIFF_HIGH32: readonly PackDiff32[] = Array.from({ length: 32 }, (_, w) =>
  w === 0 ? () => {} : (new Function('src', 'from', 'base', 'words', 'at', packDiffSource(w, true)) as PackDiff32),
);

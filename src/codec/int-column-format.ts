/**
 * Constants of the packed int64 column, the building block every leaf column is made of
 * (layout: docs/format/leaf-block.md, "Int column"). A column of c int64s stores x0, then the
 * residuals of x1…x(c−1) against a predictor, frame-of-reference packed in groups of 2^g.
 */

/** pred(i) = x(i−1). Plain deltas. */
export const PREV = 1;
/** pred(i) = x(i−2), and x0 for i = 1. For signals at half the sampling rate (60 Hz at 120 Hz). */
export const PREV2 = 2;
/** pred(i) = 2·x(i−1) − x(i−2), and x0 for i = 1. Delta-of-delta. */
export const LINEAR = 3;
/** pred(i) = x0 + i·S with S in the header. Regular clocks; S = 0 is frame-of-reference. */
export const STRIDE = 4;

export type Predictor = typeof PREV | typeof PREV2 | typeof LINEAR | typeof STRIDE;

export const PREDICTOR_NAMES: Readonly<Record<Predictor, string>> = {
  [PREV]: 'prev',
  [PREV2]: 'prev2',
  [LINEAR]: 'linear',
  [STRIDE]: 'stride',
};

/**
 * Smallest and largest log2 of the group size a decoder accepts. At least 32 values per group,
 * so every group but the last fills whole 32-bit words and starts word-aligned.
 */
export const MIN_GROUP_LOG2 = 5;
export const MAX_GROUP_LOG2 = 12;
/** The scale D of a column is 1 ≤ D < 2^53, and (2^w − 1)·D < 2^53 in every group with D > 1. */
export const MAX_SCALE = 9007199254740991;

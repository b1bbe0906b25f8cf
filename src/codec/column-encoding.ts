/**
 * Encoding codes of the value and flag columns (the first byte of each; see
 * docs/format/leaf-block.md). Codes are part of the on-disk format: never renumber.
 */

/** n raw float64s, 8 bytes each, little-endian (values only). */
export const RAW = 0;
/** One value repeated n times. */
export const CONST = 1;
/** The values' bit patterns (values) or the flags themselves, as a packed int64 column. */
export const INT = 2;
/** u8 k, then the integers m = v·10^k as a packed int64 column (values only). */
export const DECIMAL = 3;
/** Runs: varint R, the run lengths − 1 as an int column, then the R run values as a nested column. */
export const RLE = 4;

export type ColumnEncoding = typeof RAW | typeof CONST | typeof INT | typeof DECIMAL | typeof RLE;

export const ENCODING_NAMES = ['raw', 'const', 'int', 'decimal', 'rle'] as const;
export type EncodingName = (typeof ENCODING_NAMES)[number];

/**
 * Leaf blocks: the points of one tree leaf as three separately compressed columns — times, values
 * and optional quality flags. Byte layout and choice rules: docs/format/leaf-block.md.
 */
import { DbError } from '../core/errors.ts';
import { FORMAT_VERSION, LEAF_MAGIC, readBlockHeader } from './block-header.ts';
import { ByteReader } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import type { EncodingName } from './column-encoding.ts';
import { decodeFlags, readFlags, writeFlags } from './flag-column.ts';
import { decodeIntColumn, readIntColumn } from './int-column-decode.ts';
import { writeIntColumn } from './int-column-encode.ts';
import { LINEAR, PREV, PREV2, type Predictor, STRIDE } from './int-column-format.ts';
import { planIntColumn } from './int-column-plan.ts';
import { halves } from './int64.ts';
import type { LeafColumns } from './types.ts';
import { decodeValueColumn, readValueColumn } from './value-column-decode.ts';
import { planValues, writeValues } from './value-column-encode.ts';

/** Most points a leaf block may hold; decoders reject larger counts before allocating. */
export const MAX_LEAF_POINTS = 1 << 20;
/** Header bit 0: a flags column follows the values. */
export const HAS_FLAGS = 1;

export type PredictorName = 'prev' | 'prev2' | 'linear' | 'stride';

/** One writer reused by every call (encodeLeaf is synchronous; `finish` copies the bytes out). */
const writer = new ByteWriter(1 << 16);

const PREDICTORS: Readonly<Record<PredictorName, Predictor>> = {
  prev: PREV,
  prev2: PREV2,
  linear: LINEAR,
  stride: STRIDE,
};

/** Overrides of the encoder's choices, for tests and experiments. Default: smallest of all. */
export interface LeafEncodeOptions {
  readonly timePredictor?: PredictorName | undefined;
  readonly valueEncoding?: EncodingName | undefined;
  /** Predictor of the value column when it is `int` or `decimal`. */
  readonly valuePredictor?: PredictorName | undefined;
}

/**
 * Encode one leaf's points. Times are int64 ns, expected sorted ascending (unsorted input still
 * round-trips exactly, it only packs worse); values are float64 and kept bit-exact (−0, NaN
 * payloads, ±Inf, subnormals). 0 ≤ n ≤ 2^20. Throws DbError 421 on mismatched lengths, too many
 * points or a forced encoding that cannot represent the values.
 */
export function encodeLeaf(cols: LeafColumns, options: LeafEncodeOptions = {}): Uint8Array {
  const { times, values, flags } = cols;
  const n = times.length;
  if (values.length !== n) throw new DbError(421, `leaf has ${n} times but ${values.length} values`);
  if (flags !== undefined && flags.length !== n)
    throw new DbError(421, `leaf has ${n} times but ${flags.length} flags`);
  if (n > MAX_LEAF_POINTS) throw new DbError(421, `leaf of ${n} points exceeds ${MAX_LEAF_POINTS}`);
  const w = writer;
  w.reset();
  w.u8(LEAF_MAGIC);
  w.u8(FORMAT_VERSION);
  w.u8(flags === undefined ? 0 : HAS_FLAGS);
  w.varint(n);
  if (n === 0) return w.finish();
  const th = halves(times);
  const tp = options.timePredictor;
  const timePlan = planIntColumn(th, n, tp === undefined ? 'clock' : { predictor: PREDICTORS[tp] });
  writeIntColumn(w, th, n, timePlan);
  const vp = options.valuePredictor;
  const valuePlan = planValues(values, n, {
    encoding: options.valueEncoding,
    predictor: vp === undefined ? undefined : PREDICTORS[vp],
  });
  writeValues(w, values, n, valuePlan);
  if (flags !== undefined) writeFlags(w, flags, n);
  return w.finish();
}

/**
 * Decode a leaf block. Any malformed input — truncated, garbled, unknown version, trailing bytes —
 * throws DbError 500 naming the byte offset; nothing larger than 16·2^20 bytes of output (plus
 * scratch in proportion to the block's size) is allocated. The returned arrays are fresh and the
 * caller's to keep; `times` and `values` are two views of one ArrayBuffer (times first), so use
 * their byteOffset/byteLength rather than `.buffer` alone.
 */
export function decodeLeaf(bytes: Uint8Array): LeafColumns {
  const r = new ByteReader(bytes, 'leaf block');
  readBlockHeader(r, LEAF_MAGIC);
  const bits = r.u8('header bits');
  if ((bits & ~HAS_FLAGS) !== 0) throw r.fail(`unknown header bits 0x${bits.toString(16)}`, 2);
  const n = r.varint('point count', MAX_LEAF_POINTS);
  const hasFlags = (bits & HAS_FLAGS) !== 0;
  if (n === 0) {
    if (r.pos !== r.end) throw r.fail('trailing bytes after empty leaf');
    return hasFlags
      ? { times: new BigInt64Array(0), values: new Float64Array(0), flags: new Uint32Array(0) }
      : { times: new BigInt64Array(0), values: new Float64Array(0) };
  }
  const timeCol = readIntColumn(r, n, 'times');
  const valueCol = readValueColumn(r, n, 'values');
  const flagCol = hasFlags ? readFlags(r, n) : undefined;
  if (r.pos !== r.end) throw r.fail(`${r.end - r.pos} trailing bytes`);
  // One allocation for both columns (the views never overlap).
  const buffer = new ArrayBuffer(16 * n);
  const times = new BigInt64Array(buffer, 0, n);
  decodeIntColumn(timeCol, bytes, halves(times));
  const values = new Float64Array(buffer, 8 * n, n);
  decodeValueColumn(valueCol, r, values);
  if (flagCol === undefined) return { times, values };
  return { times, values, flags: decodeFlags(flagCol, r) };
}

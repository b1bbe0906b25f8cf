/**
 * What a leaf block contains and how it was packed, without decoding the points: for tests, for
 * `arbor check` and for anyone tuning the encoder. Malformed blocks throw DbError 500 exactly as
 * `decodeLeaf` would for their structure (the points themselves are not checked).
 */
import { LEAF_MAGIC, readBlockHeader } from './block-header.ts';
import { ByteReader } from './byte-reader.ts';
import { ENCODING_NAMES, type EncodingName } from './column-encoding.ts';
import { readFlags } from './flag-column.ts';
import { type IntColumn, readIntColumn } from './int-column-decode.ts';
import { PREDICTOR_NAMES } from './int-column-format.ts';
import { HAS_FLAGS, MAX_LEAF_POINTS } from './leaf-block.ts';
import { readValueColumn, type ValueColumn } from './value-column-decode.ts';

/** How one int column is packed. */
export interface IntColumnInfo {
  readonly predictor: string;
  readonly stride: bigint;
  readonly groupSize: number;
  readonly scale: number;
  /** Bit width of each group. */
  readonly widths: readonly number[];
}

export interface ValueColumnInfo {
  readonly encoding: EncodingName;
  readonly bytes: number;
  readonly decimals?: number;
  readonly runs?: number;
  readonly ints?: IntColumnInfo;
  readonly nested?: ValueColumnInfo;
}

export interface LeafInfo {
  readonly version: number;
  readonly count: number;
  readonly bytes: number;
  readonly times: IntColumnInfo & { readonly bytes: number };
  readonly values: ValueColumnInfo;
  readonly flags?: { readonly encoding: EncodingName; readonly bytes: number };
}

/** Describe a leaf block's layout (see docs/format/leaf-block.md). */
export function describeLeaf(bytes: Uint8Array): LeafInfo {
  const r = new ByteReader(bytes, 'leaf block');
  const version = readBlockHeader(r, LEAF_MAGIC);
  const bits = r.u8('header bits');
  if ((bits & ~HAS_FLAGS) !== 0) throw r.fail(`unknown header bits 0x${bits.toString(16)}`, 2);
  const count = r.varint('point count', MAX_LEAF_POINTS);
  const empty: IntColumnInfo = { predictor: 'none', stride: 0n, groupSize: 0, scale: 1, widths: [] };
  if (count === 0) {
    return {
      version,
      count,
      bytes: bytes.length,
      times: { ...empty, bytes: 0 },
      values: { encoding: 'raw', bytes: 0 },
    };
  }
  let at = r.pos;
  const times = { ...intInfo(readIntColumn(r, count, 'times')), bytes: r.pos - at };
  at = r.pos;
  const values = valueInfo(readValueColumn(r, count, 'values'), r.pos - at);
  if ((bits & HAS_FLAGS) === 0) return { version, count, bytes: bytes.length, times, values };
  at = r.pos;
  const flags = readFlags(r, count);
  return {
    version,
    count,
    bytes: bytes.length,
    times,
    values,
    flags: { encoding: ENCODING_NAMES[flags.encoding], bytes: r.pos - at },
  };
}

function intInfo(col: IntColumn): IntColumnInfo {
  return {
    predictor: col.count < 2 ? 'none' : PREDICTOR_NAMES[col.predictor],
    stride: BigInt.asIntN(64, (BigInt(col.strideHi) << 32n) | BigInt(col.strideLo >>> 0)),
    groupSize: col.count < 2 ? 0 : 1 << col.groupLog2,
    scale: col.scale,
    widths: Array.from(col.widths),
  };
}

function valueInfo(col: ValueColumn, bytes: number): ValueColumnInfo {
  const base = { encoding: ENCODING_NAMES[col.encoding], bytes };
  if (col.nested !== undefined) return { ...base, runs: col.nested.count, nested: valueInfo(col.nested, 0) };
  if (col.ints === undefined) return base;
  const ints = intInfo(col.ints);
  return col.decimals === undefined ? { ...base, ints } : { ...base, decimals: col.decimals, ints };
}

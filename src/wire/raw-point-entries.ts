/**
 * Hand-written codec of a repeated RawPoint field (`{1: sfixed64 time, 2: double value}`), the
 * bulk of Insert and RawValues traffic, straight between protobuf bytes and a column pair
 * (BigInt64Array times, Float64Array values). Bytes are copied as 32-bit halves, so times are
 * exact and values bit-exact (NaN payloads, -0.0) with no bigint or float conversion per point.
 *
 * Encoding always writes both fields: 20 bytes per point (tag, length 18, 0x09 + 8 bytes,
 * 0x11 + 8 bytes). Decoding takes that layout on a fast path and otherwise decodes the entry
 * field by field: any order, omitted fields (= 0), repeats (last wins) and unknown fields.
 */
import './endian.ts';
import { ProtoReader, WIRE_I64 } from './pb-reader.ts';

/** Encoded size of one entry, tag and length included. */
export const RAW_POINT_ENTRY_BYTES = 20;

/** Times and values of the same length, one point per index. */
export interface PointColumns {
  readonly times: BigInt64Array;
  readonly values: Float64Array;
}

const T_TIME = (1 << 3) | WIRE_I64; // 0x09
const T_VALUE = (2 << 3) | WIRE_I64; // 0x11

/** Write `n` entries of field `no` (< 16) at `out[pos]`; returns the position after them. */
export function writeRawPointEntries(out: Uint8Array, pos: number, no: number, cols: PointColumns): number {
  const n = cols.times.length;
  const tw = new Int32Array(cols.times.buffer, cols.times.byteOffset, n * 2);
  const vw = new Int32Array(cols.values.buffer, cols.values.byteOffset, n * 2);
  const tag = (no << 3) | 2;
  let o = pos;
  for (let i = 0; i < n; i++) {
    const tlo = tw[2 * i]!;
    const thi = tw[2 * i + 1]!;
    const vlo = vw[2 * i]!;
    const vhi = vw[2 * i + 1]!;
    out[o] = tag;
    out[o + 1] = 18;
    out[o + 2] = T_TIME;
    out[o + 3] = tlo;
    out[o + 4] = tlo >>> 8;
    out[o + 5] = tlo >>> 16;
    out[o + 6] = tlo >>> 24;
    out[o + 7] = thi;
    out[o + 8] = thi >>> 8;
    out[o + 9] = thi >>> 16;
    out[o + 10] = thi >>> 24;
    out[o + 11] = T_VALUE;
    out[o + 12] = vlo;
    out[o + 13] = vlo >>> 8;
    out[o + 14] = vlo >>> 16;
    out[o + 15] = vlo >>> 24;
    out[o + 16] = vhi;
    out[o + 17] = vhi >>> 8;
    out[o + 18] = vhi >>> 16;
    out[o + 19] = vhi >>> 24;
    o += 20;
  }
  return o;
}

/** Throw unless the two columns have the same length. */
export function checkColumns(cols: PointColumns, what: string): void {
  if (cols.times.length !== cols.values.length) {
    throw new RangeError(`${what}: ${cols.times.length} times but ${cols.values.length} values`);
  }
}

/**
 * Decode every entry of RawPoint field `no` in `bytes[start, end)` into `cols` (sized by a prior
 * `countEntries` over the same range, which also validated the framing and the other fields).
 * Full 20-byte entries take a straight copy of 32-bit halves; any other entry is decoded field by
 * field. Other top-level fields are skipped.
 */
export function decodeRawPointEntries(
  bytes: Uint8Array,
  start: number,
  end: number,
  no: number,
  cols: PointColumns,
  what: string,
): void {
  const n = cols.times.length;
  const tw = new Int32Array(cols.times.buffer, cols.times.byteOffset, n * 2);
  const vw = new Int32Array(cols.values.buffer, cols.values.byteOffset, n * 2);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b = bytes;
  const tag = (no << 3) | 2;
  const r = new ProtoReader(bytes, start, end);
  let p = start;
  let j = 0; // 2 × point index
  while (p < end) {
    if (b[p] === tag && b[p + 1] === 18 && b[p + 2] === T_TIME && b[p + 11] === T_VALUE) {
      tw[j] = dv.getInt32(p + 3, true);
      tw[j + 1] = dv.getInt32(p + 7, true);
      vw[j] = dv.getInt32(p + 12, true);
      vw[j + 1] = dv.getInt32(p + 16, true);
      j += 2;
      p += 20;
      continue;
    }
    r.pos = p;
    const t = r.tag(what);
    if (t === tag) {
      const len = r.length(what);
      if (j >= 2 * n) throw r.fail(`${what}: more points than counted`);
      readSlow(b, r.pos, r.pos + len, tw, vw, j, `${what}[${j / 2}]`);
      j += 2;
      r.pos += len;
    } else r.skip(t & 7, what, t >>> 3);
    p = r.pos;
  }
}

function readSlow(b: Uint8Array, start: number, end: number, tw: Int32Array, vw: Int32Array, j: number, what: string) {
  const r = new ProtoReader(b, start, end);
  let tlo = 0;
  let thi = 0;
  let vlo = 0;
  let vhi = 0;
  while (r.pos < end) {
    const t = r.tag(what);
    if (t === T_TIME) {
      r.fixed64(`${what}.time`);
      tlo = r.lo;
      thi = r.hi;
    } else if (t === T_VALUE) {
      r.fixed64(`${what}.value`);
      vlo = r.lo;
      vhi = r.hi;
    } else if (t >>> 3 === 1 || t >>> 3 === 2) {
      throw r.fail(`${what}.${t >>> 3 === 1 ? 'time' : 'value'} (field ${t >>> 3}): wire type ${t & 7}, expected 1`);
    } else {
      r.skip(t & 7, `${what} field ${t >>> 3}`, t >>> 3);
    }
  }
  if (r.pos !== end) throw r.fail(`${what}: field runs past the end of the point`);
  tw[j] = tlo;
  tw[j + 1] = thi;
  vw[j] = vlo;
  vw[j + 1] = vhi;
}

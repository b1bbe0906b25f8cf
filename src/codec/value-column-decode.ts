/** Reading the value column (inverse of value-column-encode.ts), in the same two phases as int columns. */
import type { ByteReader } from './byte-reader.ts';
import { CONST, type ColumnEncoding, DECIMAL, INT, RAW, RLE } from './column-encoding.ts';
import { MAX_DECIMALS, POW10 } from './decimal.ts';
import { decodeIntColumn, type IntColumn, readIntColumn } from './int-column-decode.ts';
import { HI as HI_IX, halves, IS_LITTLE_ENDIAN, LO as LO_IX } from './int64.ts';

// Hot loops read module constants, not imported bindings (see the note in int64.ts).
const HI = HI_IX;
const LO = LO_IX;
const TWO_32 = 4294967296;

/** A parsed, checked value column. */
export interface ValueColumn {
  readonly encoding: ColumnEncoding;
  readonly count: number;
  /** RAW / CONST: where the float bytes start. */
  readonly at: number;
  readonly ints?: IntColumn;
  readonly decimals?: number;
  /** RLE: the run lengths (already decoded and checked to sum to `count`) and the run values. */
  readonly lengths?: Int32Array;
  readonly nested?: ValueColumn;
}

let decimalScratch = new Int32Array(2048);

/** Parse the column of `count` ≥ 1 values at `r.pos`, check it, and move past it. */
export function readValueColumn(r: ByteReader, count: number, what: string, nested = false): ValueColumn {
  const at0 = r.pos;
  const encoding = r.u8(`${what} encoding`);
  switch (encoding) {
    case RAW: {
      const at = r.pos;
      r.need(8 * count, `${what} raw floats`);
      r.pos += 8 * count;
      return { encoding, count, at };
    }
    case CONST: {
      const at = r.pos;
      r.need(8, `${what} constant`);
      r.pos += 8;
      return { encoding, count, at };
    }
    case INT:
      return { encoding, count, at: r.pos, ints: readIntColumn(r, count, what) };
    case DECIMAL: {
      const kAt = r.pos;
      const decimals = r.u8(`${what} decimals`);
      if (decimals > MAX_DECIMALS) throw r.fail(`${what}: ${decimals} decimals > ${MAX_DECIMALS}`, kAt);
      return { encoding, count, at: r.pos, decimals, ints: readIntColumn(r, count, what) };
    }
    case RLE: {
      if (nested) throw r.fail(`${what}: run-length column inside a run-length column`, at0);
      const rAt = r.pos;
      const runs = r.varint(`${what} run count`, count);
      if (runs < 1) throw r.fail(`${what}: zero runs`, rAt);
      const lengthsAt = r.pos;
      const lengthCol = readIntColumn(r, runs, `${what} run lengths`);
      const lengths = new Int32Array(2 * runs);
      decodeIntColumn(lengthCol, r.bytes, lengths);
      let total = 0;
      for (let i = 0; i < runs; i++) {
        const len = lengths[2 * i + LO]!;
        if (lengths[2 * i + HI] !== 0 || len < 0 || len >= count) {
          throw r.fail(`${what}: run ${i} length out of range`, lengthsAt);
        }
        total += len + 1;
      }
      if (total !== count) throw r.fail(`${what}: runs cover ${total} values, expected ${count}`, lengthsAt);
      const inner = readValueColumn(r, runs, `${what} run values`, true);
      return { encoding, count, at: r.pos, lengths, nested: inner };
    }
    default:
      throw r.fail(`${what}: unknown encoding ${encoding}`, at0);
  }
}

/** Decode `col` into out[0..count). Throws DbError 500 (via `r`) for out-of-range decimals. */
export function decodeValueColumn(col: ValueColumn, r: ByteReader, out: Float64Array): void {
  const n = col.count;
  const bytes = r.bytes;
  switch (col.encoding) {
    case RAW: {
      const dst = new Uint8Array(out.buffer, out.byteOffset, 8 * n);
      dst.set(bytes.subarray(col.at, col.at + 8 * n));
      if (!IS_LITTLE_ENDIAN) for (let i = 0; i < n; i++) dst.subarray(8 * i, 8 * i + 8).reverse();
      return;
    }
    case CONST: {
      const h = halves(out);
      const one = new Float64Array(1);
      const oneBytes = new Uint8Array(one.buffer);
      oneBytes.set(bytes.subarray(col.at, col.at + 8));
      if (!IS_LITTLE_ENDIAN) oneBytes.reverse();
      const oh = halves(one);
      const a = oh[0]!;
      const b = oh[1]!;
      for (let i = 0; i < n; i++) {
        h[2 * i] = a;
        h[2 * i + 1] = b;
      }
      return;
    }
    case INT:
      decodeIntColumn(col.ints!, bytes, halves(out));
      return;
    case DECIMAL: {
      if (decimalScratch.length < 2 * n) decimalScratch = new Int32Array(4 * n);
      const m = decimalScratch;
      decodeIntColumn(col.ints!, bytes, m);
      const p = POW10[col.decimals!]!;
      for (let i = 0; i < n; i++) {
        const hi = m[2 * i + HI]!;
        if (hi > 0x1fffff || hi < -0x200000) throw r.fail(`decimal value ${i} exceeds 2^53`, col.ints!.bitsAt);
        out[i] = (hi * TWO_32 + (m[2 * i + LO]! >>> 0)) / p;
      }
      return;
    }
    case RLE: {
      const inner = col.nested!;
      const runs = inner.count;
      const vals = new Float64Array(runs);
      decodeValueColumn(inner, r, vals);
      const vh = halves(vals);
      const h = halves(out);
      const lengths = col.lengths!;
      for (let k = 0, i = 0; k < runs; k++) {
        const a = vh[2 * k]!;
        const b = vh[2 * k + 1]!;
        for (let end = i + lengths[2 * k + LO]! + 1; i < end; i++) {
          h[2 * i] = a;
          h[2 * i + 1] = b;
        }
      }
      return;
    }
  }
}

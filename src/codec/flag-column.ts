/**
 * The optional quality-flags column: n uint32s, usually constant or nearly so. Written as a
 * constant, a packed int column, or runs — whichever is smallest. Absent flags cost nothing (one
 * header bit), which is why this column exists at all instead of a flags value in every point.
 */
import type { ByteReader } from './byte-reader.ts';
import type { ByteWriter } from './byte-writer.ts';
import { CONST, INT, RLE } from './column-encoding.ts';
import { decodeIntColumn, type IntColumn, readIntColumn } from './int-column-decode.ts';
import { writeIntColumn } from './int-column-encode.ts';
import { type IntPlan, planIntColumn } from './int-column-plan.ts';
import { HI as HI_IX, LO as LO_IX, varintLength } from './int64.ts';

// Hot loops read module constants, not imported bindings (see the note in int64.ts).
const HI = HI_IX;
const LO = LO_IX;

const FLAG_PLAN = 'signal';

let flagHalves = new Int32Array(2048);
let runHalves = new Int32Array(2048);
let lengthHalves = new Int32Array(2048);

/** Append the flags column for flags[0..n), n ≥ 1. */
export function writeFlags(w: ByteWriter, flags: Uint32Array, n: number): void {
  let runs = 1;
  for (let i = 1; i < n; i++) if (flags[i] !== flags[i - 1]) runs++;
  if (runs === 1) {
    w.u8(CONST);
    w.u32(flags[0]!);
    return;
  }
  if (flagHalves.length < 2 * n) flagHalves = new Int32Array(4 * n);
  for (let i = 0; i < n; i++) {
    flagHalves[2 * i + LO] = flags[i]!;
    flagHalves[2 * i + HI] = 0;
  }
  const packed = planIntColumn(flagHalves, n, FLAG_PLAN);
  let rle: { lengths: IntPlan; values: IntPlan } | null = null;
  if (runs * 2 <= n) {
    collectRuns(flags, n, runs);
    const lengths = planIntColumn(lengthHalves, runs, FLAG_PLAN);
    const values = planIntColumn(runHalves, runs, FLAG_PLAN);
    if (varintLength(runs) + lengths.bytes + values.bytes < packed.bytes) rle = { lengths, values };
  }
  if (rle === null) {
    w.u8(INT);
    writeIntColumn(w, flagHalves, n, packed);
    return;
  }
  w.u8(RLE);
  w.varint(runs);
  writeIntColumn(w, lengthHalves, runs, rle.lengths);
  writeIntColumn(w, runHalves, runs, rle.values);
}

function collectRuns(flags: Uint32Array, n: number, runs: number): void {
  if (runHalves.length < 2 * runs) {
    runHalves = new Int32Array(4 * runs);
    lengthHalves = new Int32Array(4 * runs);
  }
  let r = 0;
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i === n || flags[i] !== flags[i - 1]) {
      runHalves[2 * r + LO] = flags[start]!;
      runHalves[2 * r + HI] = 0;
      lengthHalves[2 * r + LO] = i - start - 1;
      lengthHalves[2 * r + HI] = 0;
      r++;
      start = i;
    }
  }
}

/** A parsed, checked flags column. */
export interface FlagColumn {
  readonly encoding: typeof CONST | typeof INT | typeof RLE;
  readonly count: number;
  readonly constant: number;
  readonly ints?: IntColumn;
  readonly runValues?: IntColumn;
  readonly lengths?: Int32Array;
}

/** Parse the flags column of `count` ≥ 1 values at `r.pos` and move past it. */
export function readFlags(r: ByteReader, count: number): FlagColumn {
  const at = r.pos;
  const encoding = r.u8('flags encoding');
  if (encoding === CONST) return { encoding, count, constant: r.u32('flags constant') };
  if (encoding === INT) return { encoding, count, constant: 0, ints: readIntColumn(r, count, 'flags') };
  if (encoding !== RLE) throw r.fail(`flags: unknown encoding ${encoding}`, at);
  const runs = r.varint('flags run count', count);
  if (runs < 1) throw r.fail('flags: zero runs', at + 1);
  const lengthsAt = r.pos;
  const lengthCol = readIntColumn(r, runs, 'flags run lengths');
  const lengths = new Int32Array(2 * runs);
  decodeIntColumn(lengthCol, r.bytes, lengths);
  let total = 0;
  for (let i = 0; i < runs; i++) {
    const len = lengths[2 * i + LO]!;
    if (lengths[2 * i + HI] !== 0 || len < 0 || len >= count)
      throw r.fail(`flags: run ${i} length out of range`, lengthsAt);
    total += len + 1;
  }
  if (total !== count) throw r.fail(`flags: runs cover ${total} values, expected ${count}`, lengthsAt);
  return { encoding, count, constant: 0, lengths, runValues: readIntColumn(r, runs, 'flags run values') };
}

/** Decode `col` into a new Uint32Array. Throws DbError 500 (via `r`) for a flag ≥ 2^32. */
export function decodeFlags(col: FlagColumn, r: ByteReader): Uint32Array {
  const n = col.count;
  const out = new Uint32Array(n);
  if (col.encoding === CONST) {
    out.fill(col.constant);
    return out;
  }
  const ints = col.encoding === INT ? col.ints! : col.runValues!;
  const h = new Int32Array(2 * ints.count);
  decodeIntColumn(ints, r.bytes, h);
  for (let i = 0; i < ints.count; i++) {
    if (h[2 * i + HI] !== 0) throw r.fail(`flags: value ${i} exceeds 32 bits`, ints.bitsAt);
  }
  if (col.encoding === INT) {
    for (let i = 0; i < n; i++) out[i] = h[2 * i + LO]!;
    return out;
  }
  const lengths = col.lengths!;
  for (let k = 0, i = 0; k < ints.count; k++) {
    const v = h[2 * k + LO]!;
    const end = i + lengths[2 * k + LO]! + 1;
    out.fill(v, i, end);
    i = end;
  }
  return out;
}

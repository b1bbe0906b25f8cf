/**
 * Choosing and writing the value column: the smallest of raw, constant, integer-space (the float
 * bits as int64 with a predictor), decimal (m / 10^k) and run-length, decided per block from the
 * size each would take. Two shortcuts: the integer-space column is not planned when the decimal
 * one already takes ≤ 4 bytes per value, and run-length is only tried when runs ≤ n/2.
 */
import { DbError } from '../core/errors.ts';
import type { ByteWriter } from './byte-writer.ts';
import {
  CONST,
  type ColumnEncoding,
  DECIMAL,
  ENCODING_NAMES,
  type EncodingName,
  INT,
  RAW,
  RLE,
} from './column-encoding.ts';
import { decimalHalves } from './decimal.ts';
import { writeIntColumn } from './int-column-encode.ts';
import type { Predictor } from './int-column-format.ts';
import { type IntCandidates, type IntPlan, planIntColumn } from './int-column-plan.ts';
import { HI as HI_IX, halves, LO as LO_IX, varintLength } from './int64.ts';

// Hot loops read module constants, not imported bindings (see the note in int64.ts).
const HI = HI_IX;
const LO = LO_IX;

/** Overrides for tests and experiments; the default is to pick the smallest. */
export interface ValueOptions {
  readonly encoding?: EncodingName | undefined;
  readonly predictor?: Predictor | undefined;
}

/** A decided value column. */
export interface ValuePlan {
  readonly encoding: ColumnEncoding;
  /** Encoded size in bytes, including the encoding byte (estimate for wide int columns). */
  readonly bytes: number;
  /** INT / DECIMAL: the int column's plan. RLE: the run lengths' plan. */
  readonly ints?: IntPlan;
  /** DECIMAL: k. */
  readonly decimals?: number;
  /** RLE: number of runs and the nested plan of the run values. */
  readonly runs?: number;
  readonly nested?: ValuePlan;
}

let decimalScratch = new Int32Array(2048);
/** The values (and count) whose decimal integers are in decimalScratch. */
let decimalsOf: Float64Array | null = null;
let decimalsN = 0;
let runValues = new Float64Array(1024);
let runLengths = new Int32Array(2048);

/** Decide how to write `n` values (n ≥ 1). Throws DbError 421 if a forced encoding cannot apply. */
export function planValues(values: Float64Array, n: number, options: ValueOptions = {}, allowRle = true): ValuePlan {
  const forced = options.encoding === undefined ? -1 : ENCODING_NAMES.indexOf(options.encoding);
  const intOptions: IntCandidates =
    options.predictor === undefined ? 'signal' : { predictor: options.predictor, stride: 0 };
  const bits = halves(values);
  const raw: ValuePlan = { encoding: RAW, bytes: 1 + 8 * n };
  if (forced === RAW) return raw;
  const runs = countRuns(bits, n);
  if (runs === 1 && (forced === -1 || forced === CONST)) return { encoding: CONST, bytes: 9 };
  if (forced === CONST) throw new DbError(421, 'values are not constant');
  let best = raw;
  if (forced === -1 || forced === DECIMAL) {
    const k = toDecimalHalves(values, n);
    if (k >= 0) {
      const ints = planIntColumn(decimalScratch, n, intOptions);
      const plan: ValuePlan = { encoding: DECIMAL, bytes: 2 + ints.bytes, ints, decimals: k };
      if (forced === DECIMAL || plan.bytes < best.bytes) best = plan;
    } else if (forced === DECIMAL) throw new DbError(421, 'values are not decimals with at most 9 digits');
  }
  // Float bits beat decimal integers only when those are huge: skip the int plan otherwise.
  if (forced === INT || (forced === -1 && (best.encoding !== DECIMAL || best.bytes > 4 * n))) {
    const ints = planIntColumn(bits, n, intOptions);
    const plan: ValuePlan = { encoding: INT, bytes: 1 + ints.bytes, ints };
    if (forced === INT || plan.bytes < best.bytes) best = plan;
  }
  if ((forced === -1 && allowRle && runs * 2 <= n) || forced === RLE) {
    if (!allowRle) throw new DbError(421, 'run-length columns do not nest');
    const lengths = collectRuns(values, n, runs);
    const ints = planIntColumn(lengths, runs, 'signal');
    const nested = planValues(runValues.subarray(0, runs), runs, {}, false);
    const bytes = 1 + varintLength(runs) + ints.bytes + nested.bytes;
    if (forced === RLE || bytes < best.bytes) best = { encoding: RLE, bytes, ints, runs, nested };
  }
  return best;
}

/** Append the value column decided by `plan` (from `planValues` on the same values). */
export function writeValues(w: ByteWriter, values: Float64Array, n: number, plan: ValuePlan): void {
  w.u8(plan.encoding);
  switch (plan.encoding) {
    case RAW:
      w.f64Array(values, n);
      return;
    case CONST:
      w.f64Bits(values, 0);
      return;
    case INT:
      writeIntColumn(w, halves(values), n, plan.ints!);
      return;
    case DECIMAL:
      w.u8(plan.decimals!);
      if (decimalsOf !== values || decimalsN !== n) toDecimalHalves(values, n);
      decimalsOf = null; // do not keep the caller's array alive
      writeIntColumn(w, decimalScratch, n, plan.ints!);
      return;
    case RLE: {
      const runs = plan.runs!;
      w.varint(runs);
      writeIntColumn(w, collectRuns(values, n, runs), runs, plan.ints!);
      // collectRuns left the run values in runValues; the nested write does not touch it.
      writeValues(w, runValues.subarray(0, runs), runs, plan.nested!);
      return;
    }
  }
}

/** Number of maximal runs of bit-identical adjacent values. */
function countRuns(bits: Int32Array, n: number): number {
  let runs = 1;
  for (let i = 1; i < n; i++) {
    if (bits[2 * i] !== bits[2 * i - 2] || bits[2 * i + 1] !== bits[2 * i - 1]) runs++;
  }
  return runs;
}

/** Run values into `runValues` and run lengths − 1 as int64 halves; returns the halves. */
function collectRuns(values: Float64Array, n: number, runs: number): Int32Array {
  if (runValues.length < runs) runValues = new Float64Array(runs * 2);
  if (runLengths.length < 2 * runs) runLengths = new Int32Array(runs * 4);
  const bits = halves(values);
  const vbits = halves(runValues);
  let r = 0;
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i === n || bits[2 * i] !== bits[2 * i - 2] || bits[2 * i + 1] !== bits[2 * i - 1]) {
      vbits[2 * r] = bits[2 * start]!;
      vbits[2 * r + 1] = bits[2 * start + 1]!;
      runLengths[2 * r + LO] = i - start - 1;
      runLengths[2 * r + HI] = 0;
      r++;
      start = i;
    }
  }
  return runLengths;
}

/** decimalHalves into the shared scratch, remembering whose integers it holds. */
function toDecimalHalves(values: Float64Array, n: number): number {
  if (decimalScratch.length < 2 * n) decimalScratch = new Int32Array(n * 4);
  decimalsOf = values;
  decimalsN = n;
  return decimalHalves(values, n, decimalScratch, LO, HI);
}

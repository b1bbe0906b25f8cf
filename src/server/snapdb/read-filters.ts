/**
 * The read request's three optional parts (docs/protocols/snapdb.md §6): the timestamp seek filter
 * (a time range, or strided windows), the point-ID match filter and the reader options. Parsing
 * reads from a WireReader (throwing Underflow when incomplete); a malformed or unknown part is a
 * `FilterError` naming which response byte the server answers with.
 */
import { Guid, READER_OPTIONS_VERSION, Resp } from './protocol.ts';
import type { WireReader } from './wire-io.ts';

export class FilterError extends Error {
  constructor(
    readonly response: number,
    message: string,
  ) {
    super(message);
  }
  override get name(): string {
    return 'FilterError';
  }
}

/** Time selection in ticks. `range`: first ≤ t ≤ last. `windows`: strided windows (below). */
export type TimeFilter =
  | { readonly kind: 'all' }
  | { readonly kind: 'range'; readonly first: bigint; readonly last: bigint }
  | {
      readonly kind: 'windows';
      readonly first: bigint;
      readonly last: bigint;
      readonly main: bigint;
      readonly sub: bigint;
      readonly tolerance: bigint;
      /** Windows per main interval: round-half-even(main / sub) as SNAPdb computes it. */
      readonly perMain: bigint;
    };

export interface ReaderOptions {
  readonly timeoutTicks: bigint;
  /** 0 = unlimited. */
  readonly maxReturned: bigint;
  readonly maxScanned: bigint;
  readonly maxSeeks: bigint;
}

/** Most IDs a point-ID filter may list (each costs a stream lookup). */
export const MAX_FILTER_IDS = 1 << 20;

/** Round half to even, as .NET's Math.Round(double). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Build a strided-window filter; throws FilterError(14) where SNAPdb refuses the arguments. */
export function windowFilter(first: bigint, last: bigint, main: bigint, sub: bigint, tolerance: bigint): TimeFilter {
  const bad = (why: string) => new FilterError(Resp.unknownOrCorruptSeekFilter, `timestamp seek filter: ${why}`);
  if (first > last) throw bad(`first ${first} is after last ${last}`);
  if (main < sub) throw bad(`main interval ${main} is smaller than the sub-interval ${sub}`);
  if (tolerance > sub) throw bad(`tolerance ${tolerance} is larger than the sub-interval ${sub}`);
  if (sub === 0n) throw bad('the sub-interval is 0');
  const perMain = BigInt(roundHalfEven(Number(main) / Number(sub)));
  return { kind: 'windows', first, last, main, sub, tolerance, perMain };
}

export function readSeekFilter(r: WireReader): TimeFilter {
  const guid = r.guid();
  if (guid !== Guid.timestampSeekFilter) {
    throw new FilterError(Resp.unknownOrCorruptSeekFilter, `unknown seek filter ${guid}`);
  }
  const version = r.u8();
  if (version === 0) return { kind: 'all' };
  if (version === 1) {
    const first = r.u64();
    const last = r.u64();
    return { kind: 'range', first, last };
  }
  if (version === 2) {
    const first = r.u64();
    const last = r.u64();
    const main = r.u64();
    const sub = r.u64();
    const tol = r.u64();
    return windowFilter(first, last, main, sub, tol);
  }
  throw new FilterError(Resp.unknownOrCorruptSeekFilter, `timestamp seek filter version ${version} is unknown`);
}

/** The set of point IDs, or null for "every point". */
export function readMatchFilter(r: WireReader): Set<bigint> | null {
  const guid = r.guid();
  if (guid !== Guid.pointIdMatchFilter) {
    throw new FilterError(Resp.unknownOrCorruptMatchFilter, `unknown match filter ${guid}`);
  }
  const version = r.u8();
  if (version === 0) return null;
  if (version !== 1 && version !== 2) {
    throw new FilterError(Resp.unknownOrCorruptMatchFilter, `point-ID filter version ${version} is unknown`);
  }
  r.u64(); // the largest ID: a sizing hint, not needed here
  const count = r.i32();
  if (count < 0 || count > MAX_FILTER_IDS) {
    throw new FilterError(
      Resp.unknownOrCorruptMatchFilter,
      `point-ID filter of ${count} IDs (limit ${MAX_FILTER_IDS})`,
    );
  }
  const ids = new Set<bigint>();
  for (let i = 0; i < count; i++) ids.add(version === 1 ? BigInt(r.u32()) : r.u64());
  return ids;
}

export function readReaderOptions(r: WireReader): ReaderOptions {
  const version = r.u8();
  if (version !== READER_OPTIONS_VERSION) {
    throw new FilterError(Resp.unknownOrCorruptReaderOptions, `reader options version ${version} is unknown`);
  }
  return { timeoutTicks: r.u64(), maxReturned: r.u64(), maxScanned: r.u64(), maxSeeks: r.u64() };
}

/**
 * The tick range [lo, hi] (inclusive) that can hold selected points; hi may exceed u64 for
 * windows near the top (the caller clamps).
 */
export function tickBounds(f: TimeFilter): { lo: bigint; hi: bigint } {
  if (f.kind === 'all') return { lo: 0n, hi: (1n << 64n) - 1n };
  if (f.kind === 'range') return { lo: f.first, hi: f.last };
  // The last window starts at or before `last`, so it may end 2·tol after it.
  const lo = f.first > f.tolerance ? f.first - f.tolerance : 0n;
  return { lo, hi: f.last + 2n * f.tolerance };
}

const ceilDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a > 0n && q * b !== a ? q + 1n : q;
};
const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a < 0n && q * b !== a ? q - 1n : q;
};

/**
 * Whether a time (ticks) is selected. Strided windows: centres first + k·main + j·sub
 * (k ≥ 0, 0 ≤ j < perMain), each window [centre − tol, centre + tol] inclusive (its start clamped
 * at tick 0), and only windows whose start is ≤ last exist (SNAPdb stops at the first that is not;
 * centres strictly increase, so that is the same).
 */
export function timeSelected(f: TimeFilter, t: bigint): boolean {
  if (f.kind === 'all') return true;
  if (f.kind === 'range') return t >= f.first && t <= f.last;
  const { first, last, main, sub, tolerance: tol, perMain } = f;
  const d = t - first;
  let kLo = ceilDiv(d - tol - (perMain - 1n) * sub, main);
  if (kLo < 0n) kLo = 0n;
  const kHi = floorDiv(d + tol, main);
  for (let k = kLo; k <= kHi; k++) {
    const base = k * main;
    let jLo = ceilDiv(d - tol - base, sub);
    if (jLo < 0n) jLo = 0n;
    let jHi = floorDiv(d + tol - base, sub);
    if (jHi > perMain - 1n) jHi = perMain - 1n;
    if (jLo > jHi) continue;
    const centre = first + base + jLo * sub;
    const start = centre > tol ? centre - tol : 0n;
    return start <= last;
  }
  return false;
}

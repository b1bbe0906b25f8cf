/**
 * How an openHistorian point maps onto ArborDB (docs/protocols/snapdb.md §"Mapping"):
 *
 * - time: 100 ns ticks since 0001-01-01 ↔ ns since 1970, exactly: ns = (ticks − EPOCH_TICKS)·100.
 *   A stored ns time that is not a multiple of 100 (written through another API) is reported as
 *   the tick it falls in (floor).
 * - value1 (float32 bits) ↔ a float64 value. Every non-NaN float32 widens to float64 exactly and
 *   narrows back to the same bits. A float32 NaN (any sign, payload, quiet or signalling) is
 *   stored as the quiet float64 NaN 0x7FF8_0000_xxxx_xxxx whose low 32 bits are the float32 bits
 *   themselves, so the bits come back exactly and no hardware conversion can quiet them. A float64
 *   NaN of any other shape (written through another API) reads back as 0x7FC00000.
 * - value3 (quality flags) ↔ the engine's per-point u32 flags column.
 */
import { MAX_INSERT_TIME, MIN_TIME } from '../../core/time.ts';

/** Ticks of 1970-01-01T00:00:00Z. */
export const EPOCH_TICKS = 621_355_968_000_000_000n;

export const ticksToNs = (ticks: bigint): bigint => (ticks - EPOCH_TICKS) * 100n;

/** The tick a ns time falls in (floor division). */
export function nsToTicks(ns: bigint): bigint {
  const q = ns / 100n;
  return (ns < 0n && q * 100n !== ns ? q - 1n : q) + EPOCH_TICKS;
}

/** Whether a tick value can be stored: its ns time lies in [MIN_TIME, MAX_INSERT_TIME). */
export function ticksStorable(ticks: bigint): boolean {
  const ns = ticksToNs(ticks);
  return ns >= MIN_TIME && ns < MAX_INSERT_TIME;
}

/** Smallest and largest storable tick values (inclusive), for messages and clamping. */
export const FIRST_TICKS = nsToTicks(MIN_TIME) + (ticksToNs(nsToTicks(MIN_TIME)) < MIN_TIME ? 1n : 0n);
export const LAST_TICKS = nsToTicks(MAX_INSERT_TIME - 1n);

const scratch = new DataView(new ArrayBuffer(8));

/** float32 bits (u32) → the float64 stored for them. */
export function float32BitsToValue(bits: number): number {
  const b = bits >>> 0;
  if ((b & 0x7f80_0000) === 0x7f80_0000 && (b & 0x007f_ffff) !== 0) {
    scratch.setUint32(0, b, true); // low word: the float32 bits
    scratch.setUint32(4, 0x7ff8_0000, true); // high word: a quiet float64 NaN
    return scratch.getFloat64(0, true);
  }
  scratch.setUint32(0, b, true);
  return scratch.getFloat32(0, true);
}

/** The stored float64 → float32 bits (u32). */
export function valueToFloat32Bits(v: number): number {
  if (Number.isNaN(v)) {
    scratch.setFloat64(0, v, true);
    const lo = scratch.getUint32(0, true);
    const hi = scratch.getUint32(4, true);
    if (hi === 0x7ff8_0000 && (lo & 0x7f80_0000) === 0x7f80_0000 && (lo & 0x007f_ffff) !== 0) return lo;
    return 0x7fc0_0000;
  }
  scratch.setFloat32(0, v, true);
  return scratch.getUint32(0, true);
}

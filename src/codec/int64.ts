/**
 * int64 without bigint: a 64-bit integer is carried as two 32-bit halves, `hi` (signed) and `lo`
 * (unsigned, 0 ≤ lo < 2^32), so value = hi·2^32 + lo. The hot loops inline these formulas; the
 * helpers here serve the cold paths (headers, tests). Arithmetic wraps modulo 2^64 like int64.
 *
 * PERF: a loop that reads an imported binding (even a `const`) ran 20–50× slower than one reading a
 * module-local constant when measured under tsx, so hot modules copy what they need
 * (`const HI = HI_IX`) instead of using these exports inside loops.
 */

/** True on little-endian hosts (every platform Node ships for in practice). */
export const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Index of the low / high 32-bit half of element i in an Int32Array view of an int64 array: 2i + LO. */
export const LO = IS_LITTLE_ENDIAN ? 0 : 1;
export const HI = IS_LITTLE_ENDIAN ? 1 : 0;

export const TWO_32 = 4294967296;
/** 2^52: residuals below this magnitude take the exact double ("small") path. */
export const TWO_52 = 4503599627370496;
/** 2^53: doubles represent every integer of smaller magnitude exactly. */
export const TWO_53 = 9007199254740992;

/** An Int32Array over the same memory as a BigInt64Array or Float64Array (two halves per element). */
export function halves(a: BigInt64Array | Float64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** Number of bits needed for a non-negative integer held in a double (0 → 0), capped at 64. */
export function bitsOf(x: number): number {
  if (x < TWO_32) return 32 - Math.clz32(x);
  const h = Math.floor(x / TWO_32);
  return h >= TWO_32 ? 64 : 64 - Math.clz32(h);
}

/** Length in bytes of the LEB128 varint of a non-negative integer held in a double. */
export function varintLength(x: number): number {
  let n = 1;
  while (x >= 128) {
    x = Math.floor(x / 128);
    n++;
  }
  return Math.min(n, 10);
}

/** Length in bytes of the zigzag LEB128 varint of an int64 given as halves. */
export function zigzagVarintLength64(hi: number, lo: number): number {
  const sign = hi >> 31;
  const zh = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
  const zl = ((lo << 1) ^ sign) >>> 0;
  const bits = zh !== 0 ? 64 - Math.clz32(zh) : 32 - Math.clz32(zl);
  return Math.max(1, Math.ceil(bits / 7));
}

/** Zigzag of an integer held in a double: 0, −1, 1, −2 … → 0, 1, 2, 3 … (exact for |v| < 2^52). */
export function zigzagNumber(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** Greatest common divisor of two non-negative integers held in doubles (gcd(0, b) = b). */
export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** A bigint (taken modulo 2^64) → [hi, lo]. For tests and cold paths. */
export function splitBig(v: bigint): [number, number] {
  const u = BigInt.asUintN(64, v);
  return [Number(BigInt.asIntN(32, u >> 32n)), Number(u & 0xffffffffn)];
}

/** [hi, lo] → signed bigint. For tests and cold paths. */
export function joinBig(hi: number, lo: number): bigint {
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0));
}

/** Split a safe integer held in a double into [hi, lo] halves (two's complement). */
export function splitNumber(v: number): [number, number] {
  const lo = v >>> 0;
  return [((v - lo) / TWO_32) | 0, lo];
}

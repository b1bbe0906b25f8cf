import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_INSERT_TIME, MIN_TIME } from '../../core/time.ts';
import {
  EPOCH_TICKS,
  FIRST_TICKS,
  float32BitsToValue,
  LAST_TICKS,
  nsToTicks,
  ticksStorable,
  ticksToNs,
  valueToFloat32Bits,
} from './historian-mapping.ts';

test('ticks map to ns since 1970 exactly, beyond 2^53', () => {
  // 2024-01-01T00:00:00.0000001Z: Date.UTC gives ms; ticks are 100 ns.
  const ms = BigInt(Date.UTC(2024, 0, 1));
  const ticks = EPOCH_TICKS + ms * 10_000n + 1n;
  assert.equal(ticksToNs(ticks), ms * 1_000_000n + 100n);
  assert.equal(nsToTicks(ticksToNs(ticks)), ticks);
  assert.equal(ticksToNs(EPOCH_TICKS), 0n);
});

test('a ns time between two ticks reads as the earlier tick, before 1970 too', () => {
  assert.equal(nsToTicks(150n), EPOCH_TICKS + 1n);
  assert.equal(nsToTicks(-1n), EPOCH_TICKS - 1n);
  assert.equal(nsToTicks(-100n), EPOCH_TICKS - 1n);
  assert.equal(nsToTicks(-101n), EPOCH_TICKS - 2n);
});

test('the storable tick range is exactly ArborDB time range', () => {
  assert.ok(ticksStorable(FIRST_TICKS) && ticksStorable(LAST_TICKS));
  assert.ok(!ticksStorable(FIRST_TICKS - 1n) && !ticksStorable(LAST_TICKS + 1n));
  assert.ok(ticksToNs(FIRST_TICKS) >= MIN_TIME && ticksToNs(FIRST_TICKS) - 100n < MIN_TIME);
  assert.ok(ticksToNs(LAST_TICKS) < MAX_INSERT_TIME && ticksToNs(LAST_TICKS) + 100n >= MAX_INSERT_TIME);
  assert.ok(!ticksStorable(0n), 'tick 0 (year 1) is outside');
});

/** Bits of a float32 computed independently through a DataView. */
const bitsOf = (x: number) => {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, x);
  return v.getUint32(0);
};

test('every non-NaN float32 is stored as its exact float64 value', () => {
  for (const x of [0, -0, 1, -1.5, 1000.98, 3.4028234663852886e38, 1.401298464324817e-45, Infinity, -Infinity]) {
    const bits = bitsOf(x);
    const v = float32BitsToValue(bits);
    assert.ok(Object.is(v, Math.fround(x)));
    assert.equal(valueToFloat32Bits(v), bits);
  }
});

test('float32 bits survive the round trip exactly, signalling and quiet NaN payloads included', () => {
  const samples: number[] = [
    0x7f800001, 0xff800001, 0x7fbfffff, 0x7fc00000, 0xffc00000, 0x7fffffff, 0xffffffff, 0x7fc12345,
  ];
  let seed = 12345;
  for (let i = 0; i < 200_000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    samples.push(seed);
  }
  for (const bits of samples) {
    const stored = float32BitsToValue(bits);
    // Through a Float64Array, as the engine's columns hold it (a plain JS array literal would
    // canonicalise the NaN: V8 keeps double arrays with one NaN pattern).
    const column = new Float64Array(1);
    column[0] = stored;
    const copy = new Float64Array(1);
    copy.set(column);
    assert.equal(valueToFloat32Bits(copy[0]!), bits >>> 0, `bits 0x${bits.toString(16)}`);
  }
});

test('a float64 NaN of another shape reads back as the canonical float32 NaN', () => {
  assert.equal(valueToFloat32Bits(Number.NaN), 0x7fc00000);
});

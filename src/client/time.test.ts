import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { MAXIMUM_TIME, MINIMUM_TIME, nsDelta, nsToDate, nsToIso, toNanoseconds } from './time.ts';

test('MINIMUM_TIME and MAXIMUM_TIME are btrdb-python constants', () => {
  assert.equal(MINIMUM_TIME, -1152921504606846976n);
  assert.equal(MAXIMUM_TIME, 3458764513820540927n);
});

test('toNanoseconds keeps every nanosecond of an ISO string and of a bigint', () => {
  assert.equal(toNanoseconds('2018-01-01T12:30:00.123456789Z'), 1514809800123456789n);
  assert.equal(toNanoseconds(9007199254740993n), 9007199254740993n);
  assert.equal(toNanoseconds('1514809800123456789'), 1514809800123456789n);
  assert.equal(toNanoseconds(new Date(1000)), 1_000_000_000n);
});

test('toNanoseconds rejects a number that is not a safe integer with 413', () => {
  assert.throws(
    () => toNanoseconds(1.5e18),
    (e) => isDbError(e, 413),
  );
});

test('nsToIso and toNanoseconds round-trip exactly, also before 1970', () => {
  for (const t of [0n, 1n, -1n, 1514809800123456789n, MINIMUM_TIME, MAXIMUM_TIME]) {
    assert.equal(toNanoseconds(nsToIso(t)), t);
  }
});

test('nsToDate floors to the millisecond, also for negative times', () => {
  assert.equal(nsToDate(1_999_999n).getTime(), 1);
  assert.equal(nsToDate(-1n).getTime(), -1);
});

test('nsDelta sums parts exactly, reading fractions as decimals', () => {
  assert.equal(nsDelta({ days: 1, hours: 2, minutes: 3, seconds: 4, ms: 5, us: 6, ns: 7 }), 93784005006007n);
  assert.equal(nsDelta({ seconds: 0.1 }), 100_000_000n);
  assert.equal(nsDelta({ hours: 1.5 }), 5_400_000_000_000n);
  assert.equal(nsDelta({ seconds: 1e-9 }), 1n);
  assert.equal(nsDelta({ days: 100_000n }), 8_640_000_000_000_000_000n);
  assert.equal(nsDelta({ seconds: -2.5 }), -2_500_000_000n);
  assert.equal(nsDelta({}), 0n);
});

test('nsDelta truncates a fraction of a nanosecond toward zero, like int() in Python', () => {
  assert.equal(nsDelta({ ns: 1.7 }), 1n);
  assert.equal(nsDelta({ ns: -1.7 }), -1n);
});

test('nsDelta rejects a non-finite part with 438', () => {
  assert.throws(
    () => nsDelta({ seconds: Number.POSITIVE_INFINITY }),
    (e) => isDbError(e, 438),
  );
});

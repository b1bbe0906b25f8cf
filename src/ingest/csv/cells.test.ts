import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_INSERT_TIME, MIN_TIME } from '../../core/time.ts';
import { parseTimeCell } from './time-cell.ts';
import { parseValueCell } from './value-cell.ts';

const ns = (text: string, format: Parameters<typeof parseTimeCell>[1]): bigint => {
  const r = parseTimeCell(text, format);
  if (!r.ok) throw new Error(r.reason);
  return r.ns;
};

describe('time cells', () => {
  test('integers and decimals of every unit convert to ns exactly', () => {
    assert.equal(ns('1355290255900000001', 'ns'), 1355290255900000001n);
    assert.equal(ns('1355290255.900000001', 's'), 1355290255900000001n);
    assert.equal(ns('1355290255900.5', 'ms'), 1355290255900500000n);
    assert.equal(ns('-1.5', 'us'), -1500n);
    assert.equal(ns('2.000000000000', 's'), 2_000_000_000n);
  });

  test('auto reads integers as ns and anything else as ISO-8601, to the ns', () => {
    assert.equal(ns('17', 'auto'), 17n);
    assert.equal(ns('2012-12-12T04:50:55.900000001Z', 'auto'), 1355287855900000001n);
    assert.equal(ns('2012-12-12 04:50:55.9', 'iso'), 1355287855900000000n);
  });

  test('bad, inexact and unstorable times are rejected with a reason', () => {
    for (const [text, format, why] of [
      ['', 'ns', /empty/],
      ['1.5', 'ns', /fraction of a nanosecond/],
      ['1.0000000001', 's', /fraction of a nanosecond/],
      ['12:00', 'auto', /not an ISO-8601/],
      ['2012-13-01T00:00:00Z', 'iso', /not an ISO-8601/],
      ['1e9', 's', /not a number of s/],
      [String(MAX_INSERT_TIME), 'ns', /outside the storable range/],
      [String(MIN_TIME - 1n), 'ns', /outside the storable range/],
    ] as const) {
      const r = parseTimeCell(text, format);
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.match(r.reason, why);
    }
  });
});

describe('value cells', () => {
  test('decimal text parses to the double that prints back the same', () => {
    for (const text of ['2.959', '-57.453', '0.1', '1e-7', '123456789.125']) {
      const r = parseValueCell(text, false);
      assert.ok(r.ok);
      if (r.ok) assert.equal(String(r.value), text === '1e-7' ? '1e-7' : text);
    }
  });

  test('NaN and infinities need allowNonFinite', () => {
    assert.equal(parseValueCell('NaN', false).ok, false);
    const r = parseValueCell('-inf', true);
    assert.ok(r.ok && r.value === Number.NEGATIVE_INFINITY);
    assert.ok(Number.isNaN((parseValueCell('nan', true) as { value: number }).value));
  });

  test('empty cells, hex, commas and overflow are not numbers', () => {
    for (const text of ['', '0x10', '1,5', 'abc', '1e400']) assert.equal(parseValueCell(text, true).ok, false, text);
  });
});

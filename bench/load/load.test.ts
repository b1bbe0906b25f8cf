/**
 * The load generator's pure parts: the histogram against exact sorted quantiles, the option
 * parser, and the fleet data (frame times, batches, shuffles, late decisions) against direct
 * computations. (The generator as a whole runs in `npm run bench -- --smoke --only load`.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mulberry32 } from '../../src/core/random.ts';
import {
  ChannelValues,
  framesPerBatch,
  lateSlots,
  loadValueSeries,
  shuffled,
  slotStart,
  slotTimes,
} from './fleet-data.ts';
import { BUCKETS, bucketOf, bucketUpperMs, Histogram } from './histogram.ts';
import { FleetUsageError, parseFleetOptions } from './options.ts';

describe('Histogram', () => {
  test('quantiles are within one 2 % bucket above the exact sorted quantile', () => {
    const rnd = mulberry32(5);
    const xs = Array.from({ length: 20_000 }, () => Math.exp(rnd() * 12 - 4)); // 0.018 ms … 2980 ms
    const h = new Histogram();
    for (const x of xs) h.record(x);
    const sorted = [...xs].sort((a, b) => a - b);
    for (const q of [0.01, 0.5, 0.9, 0.99, 0.999, 1]) {
      const exact = sorted[Math.max(0, Math.ceil(q * xs.length) - 1)]!;
      const got = h.quantile(q);
      assert.ok(got >= exact && got <= exact * 1.0201, `q${q}: ${got} vs exact ${exact}`);
    }
    assert.equal(h.count, xs.length);
    assert.ok(Math.abs(h.meanMs - xs.reduce((a, b) => a + b, 0) / xs.length) < 1e-9);
  });

  test('merging shipped data equals recording everything in one', () => {
    const a = new Histogram();
    const b = new Histogram();
    const both = new Histogram();
    for (let i = 1; i <= 1000; i++) {
      (i % 3 === 0 ? a : b).record(i / 7);
      both.record(i / 7);
    }
    const merged = Histogram.from(a.take(), b.data());
    assert.equal(a.count, 0);
    for (const q of [0.5, 0.99]) assert.equal(merged.quantile(q), both.quantile(q));
    assert.equal(merged.maxMs, both.maxMs);
  });

  test('bucket bounds: every value lies in its bucket, extremes are clamped', () => {
    for (const v of [0.0011, 0.5, 1, 49.9, 1234.5]) {
      const i = bucketOf(v);
      assert.ok(v <= bucketUpperMs(i) * (1 + 1e-12) && v > bucketUpperMs(i - 1) * (1 - 1e-12), `${v}`);
    }
    assert.equal(bucketOf(0), 0);
    assert.equal(bucketOf(1e12), BUCKETS - 1);
    assert.ok(Number.isNaN(new Histogram().quantile(0.5)));
  });
});

describe('parseFleetOptions', () => {
  test('defaults describe a 1200-stream 120 Hz fleet in real time', () => {
    const o = parseFleetOptions([]);
    assert.equal(o.pmus * o.channels, 1200);
    assert.equal(o.hz, 120);
    assert.equal(o.pacing, 'realtime');
    assert.equal(o.maxLagMs, 2000);
    assert.equal(o.maxReadP99Ms, 50);
    assert.deepEqual(o.steps, [1000, 2000, 4000, 8000, 12000, 16000, 24000]);
  });

  test('flags are read and checked', () => {
    const o = parseFleetOptions(['--pmus', '7', '--hz', '30', '--batch-ms', '200', '--pacing', 'max', '--find-max']);
    assert.equal(o.pmus, 7);
    assert.equal(o.pacing, 'max');
    assert.equal(o.findMax, true);
    assert.equal(framesPerBatch(o.hz, o.batchMs), 6);
    for (const bad of [
      ['--hz', '30', '--batch-ms', '10'], // 0.3 frames
      ['--pacing', 'fast'],
      ['--late-frac', '2'],
      ['--steps', '4000,2000'],
      ['--pmus', '1.5'],
      ['--bogus'],
    ]) {
      assert.throws(() => parseFleetOptions(bad), FleetUsageError, bad.join(' '));
    }
    assert.equal(framesPerBatch(120, 125), 15);
  });
});

describe('fleet data', () => {
  test('slot times are the PMU frame times t0 + ⌊i·10⁹/F⌋, contiguous from slot to slot', () => {
    const t0 = 1_700_000_000_000_000_000n;
    const per = framesPerBatch(120, 1000);
    const a = slotTimes(t0, 120, 0, per);
    const b = slotTimes(t0, 120, 1, per);
    assert.equal(a.length, 120);
    for (let i = 0; i < 240; i++) {
      const expected = t0 + BigInt(Math.floor((i * 1e9) / 120));
      assert.equal(i < 120 ? a[i] : b[i - 120], expected, `frame ${i}`);
    }
    assert.equal(slotStart(t0, 120, 1, per), b[0]);
    assert.equal(slotStart(t0, 120, 3, per), t0 + 3_000_000_000n);
  });

  test('channel values replay the series from the stream offset, wrapping around', () => {
    const series = loadValueSeries('synthetic');
    const base = series.kinds[1]!;
    const per = 500;
    const v = new ChannelValues(series, 3, 4, per);
    const offset = (3 * 7919 + 4 * 104_729) % base.length;
    for (const slot of [0, 1, 23, 24, 25]) {
      const got = v.batch(slot, per);
      assert.equal(got.length, per);
      for (let i = 0; i < per; i += 37) assert.equal(got[i], base[(offset + slot * per + i) % base.length]);
    }
  });

  test('the OpenPMU series is used when present (this machine has the recording)', () => {
    const s = loadValueSeries('openpmu');
    assert.equal(s.source, 'openpmu', 'shared/data/openpmu-rio-2012 is missing');
    assert.ok(s.kinds[0]!.length > 1000);
  });

  test('a shuffle is a permutation that keeps each time with its value', () => {
    const times = BigInt64Array.from({ length: 300 }, (_, i) => BigInt(i * 10));
    const values = Float64Array.from({ length: 300 }, (_, i) => i * 0.5);
    const s = shuffled(times, values, mulberry32(9));
    assert.notDeepEqual([...s.times], [...times]);
    assert.deepEqual(
      [...s.times].sort((a, b) => (a < b ? -1 : 1)),
      [...times],
    );
    for (let i = 0; i < 300; i++) assert.equal(s.values[i], Number(s.times[i]!) / 20);
  });

  test('late decisions: about `frac` of batches, each 1…max slots late', () => {
    const rnd = mulberry32(3);
    let late = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const d = lateSlots(rnd, 0.1, 5);
      assert.ok(d >= 0 && d <= 5);
      if (d > 0) late++;
    }
    assert.ok(Math.abs(late / n - 0.1) < 0.01, `${late / n}`);
    assert.equal(lateSlots(rnd, 0, 5), 0);
  });
});

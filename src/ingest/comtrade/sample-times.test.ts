import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../../core/errors.ts';
import { parseCfg } from './cfg.ts';
import { parseDat } from './dat.ts';
import { sampleTimes, type TimeSource } from './sample-times.ts';

/** Times of an ASCII record with one analog channel: rates as "samp,endsamp" lines, timestamps as written. */
function times(
  rates: string[],
  stamps: string[],
  o: { rev?: string; timemult?: string; start?: string; source?: TimeSource } = {},
): bigint[] {
  const start = o.start ?? '06/05/2021,07:08:09.5';
  const cfgText = [
    `S,D,${o.rev ?? '1999'}`,
    '1,1A,0D',
    '1,V,,,V,1,0,0,-9,9,1,1,P',
    '50',
    String(rates.length === 1 && rates[0]!.startsWith('0,') ? 0 : rates.length),
    ...rates,
    start,
    start,
    'ASCII',
    o.timemult ?? '1',
  ].join('\n');
  const cfg = parseCfg(cfgText);
  const dat = parseDat(cfg, new TextEncoder().encode(stamps.map((s, i) => `${i + 1},${s},1`).join('\n')));
  return [...sampleTimes(cfg, dat, o.source ?? 'auto', 't.dat').times].map((t) => t - cfg.start.ns);
}

describe('COMTRADE sample times', () => {
  it('come from the rate, exact to the ns and rounded half up, whatever the timestamp column says', () => {
    // 3 samples per second: 333 333 333.3 ns → …333, 666 666 666.7 → …667.
    assert.deepEqual(times(['3,4'], ['', '', '', '']), [0n, 333_333_333n, 666_666_667n, 1_000_000_000n]);
    // 1.6 samples per second: 625 000 000 ns per sample; the column (garbage here) is ignored.
    assert.deepEqual(times(['1.6,3'], ['5', '1', '9']), [0n, 625_000_000n, 1_250_000_000n]);
    // 2 000 000 000 samples/s: half a ns per sample rounds half up.
    assert.deepEqual(times(['2000000000,4'], ['', '', '', '']), [0n, 1n, 1n, 2n]);
  });

  it('follow rate segments one after the other, with exact sums across segments', () => {
    // 3/s for samples 1–2, then 1000/s for 3–4: sample 3 is at 2/3 s.
    assert.deepEqual(times(['3,2', '1000,4'], ['', '', '', '']), [0n, 333_333_333n, 666_666_667n, 667_666_667n]);
  });

  it('in auto mode place a later segment at its column time when the column shows a gap', () => {
    const stamps = ['100', '1100', '5000100', '5001100']; // µs; the second burst starts 5 s after the first
    assert.deepEqual(times(['1000,2', '1000,4'], stamps), [0n, 1_000_000n, 5_000_000_000n, 5_001_000_000n]);
    // rate only: the bursts are joined
    assert.deepEqual(times(['1000,2', '1000,4'], stamps, { source: 'rate' }), [0n, 1_000_000n, 2_000_000n, 3_000_000n]);
    // a column that goes backwards is never used to place segments
    assert.deepEqual(times(['1000,2', '1000,4'], ['100', '1100', '50', '5001100']), [
      0n,
      1_000_000n,
      2_000_000n,
      3_000_000n,
    ]);
    // a column within half a sample of the rate times changes nothing
    assert.deepEqual(times(['1000,2', '1000,4'], ['0', '1000', '2400', '3000']), [
      0n,
      1_000_000n,
      2_000_000n,
      3_000_000n,
    ]);
  });

  it('come from the timestamp column × timemult when nrates is 0, relative to the first sample', () => {
    assert.deepEqual(times(['0,3'], ['-20', '0', '35']), [0n, 20_000n, 55_000n]); // µs
    assert.deepEqual(times(['0,3'], ['0', '3', '1']), [0n, 3_000n, 1_000n]); // out of order is kept
    assert.deepEqual(times(['0,2'], ['0', '1'], { timemult: '0.0005' }), [0n, 1n]); // 0.5 ns rounds up
    assert.deepEqual(times(['0,2'], ['0', '7'], { timemult: '2.5' }), [0n, 17_500n]);
    // 2013 with ns start times: the column counts ns
    assert.deepEqual(times(['0,2'], ['0', '7'], { rev: '2013', start: '06/05/2021,07:08:09.500000000' }), [0n, 7n]);
    assert.deepEqual(times(['0,2'], ['0', '7'], { rev: '2013' }), [0n, 7_000n]);
    // forced column with rates present
    assert.deepEqual(times(['1000,2'], ['0', '1234'], { source: 'column' }), [0n, 1_234_000n]);
  });

  it('refuse a missing timestamp without rates, rate mode without rates, and times outside the storable range', () => {
    assert.throws(
      () => times(['0,2'], ['0', '']),
      (e) => isDbError(e, 413) && /^t\.dat: sample 2 has no timestamp/.test(e.message),
    );
    assert.throws(
      () => times(['0,2'], ['0', '1'], { source: 'rate' }),
      (e) => isDbError(e, 438) && /needs sample rates in the cfg/.test(e.message),
    );
    assert.throws(
      () => times(['0,2'], ['0', '4000000000'], { timemult: '1000000', start: '01/01/2900,00:00:00' }),
      (e) => isDbError(e, 413) && /sample 1 would be at .* outside the storable range/.test(e.message),
    );
    // Year 9999 is past 2^63 ns: refused, not wrapped around by the BigInt64Array.
    assert.throws(
      () => times(['1000,2'], ['', ''], { start: '31/12/9999,00:00:00' }),
      (e) => isDbError(e, 413) && /sample 1 would be at 253402214400000000000 ns/.test(e.message),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../../core/errors.ts';
import { parseCfg, parseTimeCode } from './cfg.ts';

const ns = (iso: string, frac: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n + BigInt(frac.padEnd(9, '0'));

/** A small 2013 cfg (ns start times, time code −5h30, timemult 0.5). */
const CFG_2013 = [
  'Sub Ä,relay 7,2013',
  '3,2A,1D',
  '1,Va,A,Line 1,kV,0.01,-0.5,2.5,-32767,32767,132000,110,P',
  '2,Ia,A,Line 1,A,0.002,0,0,-32767,32767,600,5,s',
  '1,Trip,,Line 1,0',
  '50.0',
  '1',
  '4000,3',
  '02/03/2024,23:59:59.123456789',
  '03/03/2024,00:00:00.000000001',
  'binary32',
  '0.5',
  '-5h30,-5h30',
  'B,3',
].join('\r\n');

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseCfg(text, { file: 'x.cfg' }),
    (e) => isDbError(e, 438) && pattern.test(e.message),
    pattern.source,
  );
}

describe('COMTRADE .cfg parser', () => {
  it('reads every field of a 2013 cfg, with the time code applied to both times', () => {
    const c = parseCfg(CFG_2013);
    assert.equal(c.station, 'Sub Ä');
    assert.equal(c.device, 'relay 7');
    assert.equal(c.revision, 2013);
    assert.equal(c.format, 'BINARY32');
    assert.deepEqual(
      c.analog.map((a) => [a.index, a.id, a.phase, a.ccbm, a.unit, a.a, a.b, a.skew, a.primary, a.secondary, a.ps]),
      [
        [1, 'Va', 'A', 'Line 1', 'kV', 0.01, -0.5, 2.5, 132000, 110, 'P'],
        [2, 'Ia', 'A', 'Line 1', 'A', 0.002, 0, 0, 600, 5, 'S'],
      ],
    );
    assert.deepEqual(c.digital, [{ index: 1, id: 'Trip', phase: '', ccbm: 'Line 1', normal: 0 }]);
    assert.equal(c.lineFrequency, 50);
    assert.deepEqual(c.rates, [{ rate: { num: 4000n, den: 1n }, rateText: '4000', endSample: 3 }]);
    assert.equal(c.endSample, 3);
    // Local 23:59:59.123456789 at UTC−5:30 is 05:29:59.123456789 UTC the next day.
    assert.equal(c.start.ns, ns('2024-03-03T05:29:59Z', '123456789'));
    assert.equal(c.trigger.ns, ns('2024-03-03T05:30:00Z', '000000001'));
    assert.equal(c.start.fractionDigits, 9);
    assert.equal(c.timestampUnitNs, 1n); // ns start times: the timestamp column counts ns
    assert.deepEqual(c.timeMultiplier, { num: 5n, den: 10n });
    assert.equal(c.timeCode, '-5h30');
    assert.equal(c.timeCodeMinutes, -330);
    assert.equal(c.tmqCode, 'B');
    assert.equal(c.leapSecond, '3');
  });

  it('reads a 1991 cfg: no revision year, 10-field analog and 3-field digital lines, mm/dd/yy dates', () => {
    const c = parseCfg(
      [
        'OLD STATION,DEV',
        '2,1A,1D',
        '1,Ia,A,,A,0.001,0,0,-1000,1000',
        '1,Trip,1',
        '60',
        '0',
        '0,2',
        '12/31/99,23:59:59.5',
        '01/01/00,00:00:00',
        'ASCII',
      ].join('\n'),
    );
    assert.equal(c.revision, 1991);
    assert.equal(c.analog[0]!.primary, undefined);
    assert.equal(c.analog[0]!.ps, undefined);
    assert.deepEqual(c.digital[0], { index: 1, id: 'Trip', phase: '', ccbm: '', normal: 1 });
    assert.deepEqual(c.rates, []); // nrates 0: times from the timestamp column
    assert.equal(c.endSample, 2);
    assert.equal(c.start.ns, ns('1999-12-31T23:59:59Z', '5')); // 99 → 1999
    assert.equal(c.trigger.ns, ns('2000-01-01T00:00:00Z', '')); // 00 → 2000
    assert.equal(c.timestampUnitNs, 1000n);
    assert.deepEqual(c.timeMultiplier, { num: 1n, den: 1n });
  });

  it('reads a 1999 cfg without the timemult line, and applies a time code given by the caller', () => {
    const text = [
      'S,D,1999',
      '1,1A,0D',
      '1,V,,,V,1,0,,-1,1,1,1,P',
      '50',
      '1',
      '1000,1',
      '01/02/2020,00:00:00',
      '01/02/2020,00:00:00',
      'ASCII',
    ].join('\n');
    const c = parseCfg(text, { timeCode: '+10' });
    assert.equal(c.start.ns, ns('2020-02-01T00:00:00Z', '') - 36_000_000_000_000n);
    assert.equal(c.analog[0]!.skew, 0);
    assert.throws(() => parseCfg(text, { timeCode: 'ten' }), /time code must read like/);
  });

  it('reads mm/dd dates in a 1999 file when told to, and points at --date-order when a date is impossible', () => {
    const text = [
      'S,D,1999',
      '1,1A,0D',
      '1,V,,,V,1,0,0,-1,1,1,1,P',
      '50',
      '1',
      '1000,1',
      '12/31/2020,01:02:03',
      '12/31/2020,01:02:03',
      'ASCII',
      '1',
    ].join('\n');
    assert.throws(
      () => parseCfg(text),
      /line 7: the start time has no such date: "12\/31\/2020" \(read as dd\/mm\/yyyy; see --date-order\)/,
    );
    assert.equal(parseCfg(text, { dateOrder: 'mdy' }).start.ns, ns('2020-12-31T01:02:03Z', ''));
  });

  it('parses time codes', () => {
    assert.equal(parseTimeCode('+10'), 600);
    assert.equal(parseTimeCode('-5h30'), -330);
    assert.equal(parseTimeCode('0'), 0);
    assert.equal(parseTimeCode('x'), undefined);
    assert.equal(parseTimeCode('+25h'), null);
  });

  it('names the line and the problem in every error', () => {
    const lines = CFG_2013.split('\r\n');
    const edit = (i: number, text: string): string => lines.map((l, k) => (k === i ? text : l)).join('\n');
    rejects(edit(0, 'S,D,2001'), /^x\.cfg line 1: the revision year must be 1991, 1999 or 2013/);
    rejects(edit(1, '4,2A,1D'), /^x\.cfg line 2: TT \(4\) is not the sum of 2 analog and 1 digital/);
    rejects(edit(1, '3,2,1'), /^x\.cfg line 2: the channel counts must read TT,nnA,nnD/);
    rejects(
      edit(2, '1,Va,A,Line 1,kV,ten,0,0,-1,1,1,1,P'),
      /^x\.cfg line 3: the multiplier a must be a number, got "ten"/,
    );
    rejects(edit(3, '2,Ia,A,L,A,1,0,0,-1,1,1,1,Q'), /^x\.cfg line 4: the P\/S field must be P or S/);
    rejects(edit(3, '2,Ia,A'), /^x\.cfg line 4: an analog channel line has at least 10 fields/);
    rejects(edit(4, '1,Trip,,Line 1,2'), /^x\.cfg line 5: the normal state y must be 0 or 1/);
    rejects(edit(7, '-4000,3'), /^x\.cfg line 8: the sample rate samp must be a number ≥ 0/);
    rejects(edit(8, '30/02/2024,00:00:00'), /^x\.cfg line 9: the start time has no such date: "30\/02\/2024"/);
    rejects(edit(8, '2024-02-03,00:00:00'), /^x\.cfg line 9: the start time must be dd\/mm\/yyyy,hh:mm:ss/);
    rejects(edit(9, '03/03/2024,24:00:00'), /^x\.cfg line 10: the trigger time has no such time of day/);
    rejects(
      edit(10, 'BINARY64'),
      /^x\.cfg line 11: the data file type must be one of ASCII, BINARY, BINARY32, FLOAT32/,
    );
    rejects(edit(11, '-1'), /^x\.cfg line 12: timemult must be a number > 0/);
    rejects(edit(12, 'UTC+1,x'), /^x\.cfg line 13: time_code must read like/);
    rejects(lines.slice(0, 4).join('\n'), /^x\.cfg line 5: missing digital channel 1 of 1 \(the file ends\)/);
    rejects(
      ['S,D,1999', '1,1A,0D', '1,V,,,V,1,0,0,-1,1,1,1,P', '50', '2', '100,5', '200,4'].join('\n'),
      /line 7: endsamp 4 is below/,
    );
  });
});

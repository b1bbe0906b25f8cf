import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../../core/errors.ts';
import { decodeRecord } from './comtrade-record.ts';
import { channelStreams } from './comtrade-streams.ts';

const CFG = [
  'North Sub,DFR-1,1999',
  '5,3A,2D',
  '1,Va,A,Bus 1,kV,0.5,1,3,-999,999,132,0.11,P',
  '2,Ia,A,Feeder 2,A,2,0,0,-999,999,600,5,S',
  '3,,,,V,1,0,0,-999,999,1,1,P',
  '1,Trip,,Feeder 2,0',
  '2,Trip,,Feeder 3,1',
  '60',
  '1',
  '1000,3',
  '01/01/2020,00:00:00',
  '01/01/2020,00:00:00.001',
  'ASCII',
  '1',
].join('\n');
const DAT = ['1,0,10,1,5,1,0', '2,1000,,2,6,0,1', '3,2000,30,3,7,1,1'].join('\n');

const record = () =>
  decodeRecord(new TextEncoder().encode(CFG), new TextEncoder().encode(DAT), { cfg: 'dir/n.cfg', dat: 'dir/n.dat' });

describe('COMTRADE channels as streams', () => {
  it('scale analog values with a·x + b, skip missing samples, and give digitals 0/1', () => {
    const s = channelStreams(record());
    assert.deepEqual(
      s.map((x) => [x.kind, x.name, x.unit, x.missing]),
      [
        ['analog', 'Va', 'kV', 1],
        ['analog', 'Ia', 'A', 0],
        ['analog', 'A3', 'V', 0], // empty id
        ['digital', 'Trip (D1)', '', 0], // the same id twice
        ['digital', 'Trip (D2)', '', 0],
      ],
    );
    assert.deepEqual([...s[0]!.values], [0.5 * 10 + 1, 0.5 * 30 + 1]);
    assert.deepEqual(
      [...s[0]!.times].map((t) => t - s[1]!.times[0]!),
      [0n, 2_000_000n],
    ); // sample 2 skipped
    assert.deepEqual([...s[1]!.values], [2, 4, 6]);
    assert.deepEqual([...s[3]!.values], [1, 0, 1]);
    assert.deepEqual([...s[4]!.values], [0, 1, 1]);
  });

  it('annotate each stream with the station, the channel and its scaling', () => {
    const [va, , , trip] = channelStreams(record());
    assert.deepEqual(va!.annotations, {
      station: 'North Sub',
      device: 'DFR-1',
      rev_year: '1999',
      line_frequency: '60',
      source_file: 'n.cfg',
      start_time: '01/01/2020,00:00:00',
      trigger_time: '01/01/2020,00:00:00.001',
      trigger_ns: String(BigInt(Date.UTC(2020, 0, 1)) * 1_000_000n + 1_000_000n),
      time_source: 'rate',
      channel: 'A1',
      channel_id: 'Va',
      phase: 'A',
      ccbm: 'Bus 1',
      a: '0.5',
      b: '1',
      skew: '3',
      min: '-999',
      max: '999',
      primary: '132',
      secondary: '0.11',
      ps: 'P',
      values: 'primary',
    });
    assert.equal(trip!.annotations.channel, 'D1');
    assert.equal(trip!.annotations.normal_state, '0');
    assert.equal(trip!.annotations.ccbm, 'Feeder 2');
  });

  it('keep missing samples as NaN when asked', () => {
    const va = channelStreams(record(), { missing: 'nan' })[0]!;
    assert.equal(va.times.length, 3);
    assert.deepEqual([...va.values], [6, Number.NaN, 16]);
    assert.equal(va.missing, 1);
  });

  it('convert to primary or secondary values with the channel ratio', () => {
    const p = channelStreams(record(), { values: 'primary' });
    assert.deepEqual([...p[0]!.values], [6, 16]); // recorded primary: unchanged
    assert.deepEqual([...p[1]!.values], [2 * 120, 4 * 120, 6 * 120]); // secondary × 600/5
    assert.equal(p[1]!.annotations.values, 'primary');
    const s = channelStreams(record(), { values: 'secondary' });
    assert.deepEqual([...s[0]!.values], [6 * (0.11 / 132), 16 * (0.11 / 132)]);
    assert.deepEqual([...s[1]!.values], [2, 4, 6]);
  });

  it('refuse a conversion when the cfg has no ratio (1991 layout)', () => {
    const cfg = CFG.replace('1999', '1991').replace(
      '1,Va,A,Bus 1,kV,0.5,1,3,-999,999,132,0.11,P',
      '1,Va,A,Bus 1,kV,0.5,1,3,-999,999',
    );
    const rec = decodeRecord(
      new TextEncoder().encode(cfg.split('\n').slice(0, -1).join('\n')),
      new TextEncoder().encode(DAT),
      {
        cfg: 'o.cfg',
        dat: 'o.dat',
      },
    );
    assert.equal(channelStreams(rec)[0]!.annotations.values, 'recorded');
    assert.throws(
      () => channelStreams(rec, { values: 'secondary' }),
      (e) => isDbError(e, 438) && /analog channel 1 \(Va\) has no primary\/secondary ratio/.test(e.message),
    );
  });
});

/**
 * Every capture of ../shared/data/pmu-stream-captures decoded, with the figures of that folder's
 * README asserted (frame counts, stations, IDCODEs, phasor names, FORMAT words, first/last PMU
 * time stamps, value ranges), plus a few values recomputed by hand from the raw bytes of the file.
 * The captures are required: a missing folder fails the suite.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sharedDataDir } from '../../../test/shared-data.ts';
import { DbError } from '../../core/errors.ts';
import { type PcapFrameStats, pcapFrames } from './pcap-frames.ts';
import { C37Session } from './session.ts';
import type { ConfigFrame, DataFrame } from './types.ts';

const DIR = sharedDataDir('pmu-stream-captures');

interface Decoded {
  readonly session: C37Session;
  readonly data: DataFrame[];
  readonly configs: ConfigFrame[];
  readonly stats: PcapFrameStats;
  readonly connections: Map<string, number>;
}

function decodeCapture(name: string): Decoded {
  const file = path.join(DIR, name);
  assert.ok(fs.existsSync(file), `capture ${file} is missing (shared data not installed?)`);
  const session = new C37Session();
  const stats: PcapFrameStats = { records: 0, skippedRecords: 0, skippedBytes: 0, lostBytes: 0, outOfSequence: 0 };
  const data: DataFrame[] = [];
  const configs: ConfigFrame[] = [];
  const connections = new Map<string, number>();
  for (const f of pcapFrames(fs.readFileSync(file), {}, stats)) {
    const d = session.decode(f.bytes, f.offset);
    assert.ok(!(d instanceof DbError), `${name}: ${d instanceof DbError ? d.message : ''}`);
    if (d.type === 'data') {
      data.push(d);
      connections.set(f.connection, (connections.get(f.connection) ?? 0) + 1);
    } else if (d.type === 'cfg1' || d.type === 'cfg2' || d.type === 'cfg3') configs.push(d);
  }
  return { session, data, configs, stats, connections };
}

/** "2008-08-01 16:05:30.12" → ns, for the README's 10 ms-precision stamps. */
const at = (s: string): bigint => BigInt(Date.parse(`${s.replace(' ', 'T')}Z`)) * 1_000_000n;
/** Time floored to 10 ms (the README prints two decimals, truncated). */
const cs = (t: bigint): bigint => (t / 10_000_000n) * 10_000_000n;
const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

describe('the pmu-stream-captures README figures', () => {
  it('C37.118_1PMU_TCP.pcap: Blue PMU, 1 CFG-2, 3 commands, 252 rectangular-float data frames', () => {
    const d = decodeCapture('C37.118_1PMU_TCP.pcap');
    assert.equal(d.stats.records, 417);
    assert.deepEqual({ ...d.session.counts }, { data: 252, cfg1: 0, cfg2: 1, cfg3: 0, command: 3, header: 0, bad: 0 });
    const cfg = d.configs[0]!;
    assert.equal(cfg.idcode, 241);
    assert.equal(cfg.timeBase, 16_777_215);
    assert.equal(cfg.dataRate, 50);
    const p = cfg.pmus[0]!;
    assert.equal(p.station, 'Blue PMU');
    assert.deepEqual(p.phasorNames, ['V1LPM', 'VALPM', 'VBLPM', 'VCLPM']);
    assert.equal(p.format, 0x0006);
    assert.equal(p.nominalHz, 50);
    assert.equal(cs(d.data[0]!.time), at('2008-08-01 16:05:30.12'));
    assert.equal(cs(d.data.at(-1)!.time), at('2008-08-01 16:05:35.13')); // 35.139…, README rounds to .14
    assert.ok(d.data.at(-1)!.time > at('2008-08-01 16:05:35.135'));
    // README "V ≈ 100 041–100 047": the magnitude of the first phasor, V1LPM (rectangular → polar).
    const mags = d.data.map((f) => Math.hypot(f.pmus[0]!.phasors[0]!, f.pmus[0]!.phasors[1]!));
    const [lo, hi] = range(mags);
    assert.ok(lo >= 100_040.5 && lo < 100_041.5 && hi >= 100_046.5 && hi < 100_047.5, `|V1LPM| ${lo}–${hi}`);
    assert.deepEqual(new Set(d.data.map((f) => f.pmus[0]!.freq)), new Set([50]));
  });

  it('C37.118_1PMU_UDP.pcap: PMU1 (ID 61) under IDCODE 60, polar float, one digital word', () => {
    const d = decodeCapture('C37.118_1PMU_UDP.pcap');
    assert.equal(d.stats.records, 361);
    assert.deepEqual({ ...d.session.counts }, { data: 356, cfg1: 0, cfg2: 1, cfg3: 0, command: 4, header: 0, bad: 0 });
    const cfg = d.configs[0]!;
    assert.equal(cfg.idcode, 60);
    const p = cfg.pmus[0]!;
    assert.deepEqual(
      [p.station, p.idcode, p.format, p.phasorNames, p.digitalNames.length],
      ['PMU1', 61, 7, ['VA', 'VB', 'VC'], 1],
    );
    assert.ok([...d.connections.keys()].every((k) => k.startsWith('udp ')));
    assert.equal(cs(d.data[0]!.time), at('2008-08-01 16:18:11.58'));
    assert.equal(cs(d.data.at(-1)!.time), at('2008-08-01 16:18:18.68'));
    const [lo, hi] = range(d.data.map((f) => f.pmus[0]!.phasors[0]!));
    assert.ok(lo >= 100.055 && hi < 100.085, `VA ${lo}–${hi}`); // README rounds to 100.06–100.08
    const freqs = new Set(d.data.map((f) => Math.round(f.pmus[0]!.freq * 1000)));
    assert.deepEqual([...freqs].sort(), [50000, 50001]);
  });

  it('C37.118_2PMUsInSync_TCP.pcap: two TCP streams of 1 501 aligned frames each', () => {
    const d = decodeCapture('C37.118_2PMUsInSync_TCP.pcap');
    assert.equal(d.stats.records, 4187);
    assert.deepEqual({ ...d.session.counts }, { data: 3002, cfg1: 0, cfg2: 2, cfg3: 0, command: 6, header: 0, bad: 0 });
    assert.deepEqual(
      d.configs.map((c) => [c.idcode, c.pmus[0]!.station, c.pmus[0]!.format]).sort(),
      [
        [241, 'Blue PMU', 7],
        [60, 'PMU1', 7],
      ].sort(),
    );
    assert.deepEqual([...d.connections.values()], [1501, 1501]);
    // Blue PMU's TIME_BASE is 16 777 215, so its stamps sit within 1 µs of PMU1's: compare in ms.
    const ms = (t: bigint): bigint => ((t + 500_000n) / 1_000_000n) * 1_000_000n;
    const byId = (id: number): bigint[] => d.data.filter((f) => f.idcode === id).map((f) => ms(f.time));
    const a = byId(241);
    const b = byId(60);
    assert.equal(a.length, 1501);
    assert.deepEqual(a, b, 'the two PMUs are aligned (same 20 ms slots)');
    assert.equal(cs(d.data.filter((f) => f.idcode === 60)[0]!.time), at('2008-08-01 16:01:19.24'));
    assert.equal(a[0], at('2008-08-01 16:01:19.24'));
    assert.equal(a.at(-1), at('2008-08-01 16:01:49.24'));
  });

  it('C37.118_4in1PMU_TCP.pcap: a 4-station PDC frame, 45 phasors + 12 analogs, one 3.56 s hole', () => {
    const d = decodeCapture('C37.118_4in1PMU_TCP.pcap');
    assert.equal(d.stats.records, 1032);
    assert.deepEqual({ ...d.session.counts }, { data: 1342, cfg1: 0, cfg2: 3, cfg3: 0, command: 8, header: 0, bad: 0 });
    const cfg = d.configs.at(-1)!;
    assert.equal(cfg.idcode, 60);
    assert.deepEqual(
      cfg.pmus.map((p) => [p.station, p.phasorNames.length, p.analogNames.length]),
      [
        ['PMU1', 3, 0],
        ['PMU2', 14, 8],
        ['PMU3', 14, 4],
        ['PMU4', 14, 0],
      ],
    );
    assert.equal(
      cfg.pmus.reduce((s, p) => s + p.phasorNames.length, 0),
      45,
    );
    assert.deepEqual(
      cfg.pmus.map((p) => [p.idcode, p.format]),
      [
        [61, 7],
        [62, 7],
        [63, 7],
        [64, 7],
      ],
    );
    assert.deepEqual(cfg.pmus[0]!.phasorNames, ['VA', 'VB', 'VC']);
    assert.equal(cs(d.data[0]!.time), at('2008-08-01 16:10:02.14'));
    assert.equal(cs(d.data.at(-1)!.time), at('2008-08-01 16:10:32.50'));
    const gaps = d.data.slice(1).map((f, i) => f.time - d.data[i]!.time);
    assert.deepEqual(
      gaps.filter((g) => g > 20_000_000n),
      [3_560_000_000n],
    );
    for (const f of d.data) {
      for (const p of f.pmus.slice(1)) {
        assert.ok(p.phasors.every((v) => v === 0));
        assert.equal(p.freq, 65.536);
      }
    }
  });

  for (const name of ['c37_pmu_clean.pcap', 'c37_pmu_unclean.pcap']) {
    it(`${name}: Reporting1, 4 707 data frames in four sessions plus 4 stale-clock strays`, () => {
      const d = decodeCapture(name);
      assert.equal(d.stats.records, name.includes('unclean') ? 7309 : 7103);
      assert.deepEqual(
        { ...d.session.counts },
        { data: 4707, cfg1: 0, cfg2: 3, cfg3: 0, command: 12, header: 0, bad: 0 },
      );
      const p = d.configs[0]!.pmus[0]!;
      assert.equal(p.station, 'Reporting1');
      assert.equal(p.idcode, 1);
      assert.equal(p.format, 0x000f);
      assert.deepEqual(
        p.phasorNames.map((n) => n.split(' ')[0]),
        ['IA', 'IB', 'IC', 'IN', 'IP', 'VA', 'VB', 'VC', 'VN', 'VP'],
      );
      assert.equal(p.digitalNames.length, 3);
      const stray = d.data.filter((f) => f.time < at('2017-09-01 00:00:00'));
      assert.equal(stray.length, 4);
      for (const f of stray) assert.equal(cs(f.time), at('2017-07-18 09:47:30.20'));
      assert.equal(d.stats.outOfSequence, 4);
      // Sessions: a new one after a stray frame or wherever PMU time jumps by more than 1 s.
      const isStray = (f: DataFrame): boolean => f.time < at('2017-09-01 00:00:00');
      const good = d.data.filter((f) => !isStray(f));
      const sessions: { start: bigint; n: number; last: bigint }[] = [];
      let afterStray = true;
      for (const f of d.data) {
        if (isStray(f)) {
          afterStray = true;
          continue;
        }
        const s = sessions.at(-1);
        if (s === undefined || afterStray || f.time - s.last > 1_000_000_000n) {
          sessions.push({ start: f.time, n: 1, last: f.time });
          afterStray = false;
        } else {
          s.n++;
          s.last = f.time;
        }
      }
      assert.deepEqual(
        sessions.map((s) => [cs(s.start), s.n]),
        [
          [at('2017-09-19 13:44:40.31'), 61], // 40.316 (README: 40.32)
          [at('2017-09-19 13:44:41.33'), 2519],
          [at('2017-09-19 13:45:34.50'), 825],
          [at('2017-09-19 13:45:52.11'), 1298], // 52.116 (README: 52.12)
        ],
      );
      const steps = new Set(
        good
          .slice(1)
          .map((f, i) => f.time - good[i]!.time)
          .filter((g) => g < 20_000_000n),
      );
      assert.deepEqual([...steps].sort(), [16_666_000n, 16_667_000n]);
      // FREQ only 60.000 / 60.0025 (float32; the strays carry the latter).
      const freqs = new Set(d.data.map((f) => Math.round(f.pmus[0]!.freq * 1e4) / 1e4));
      assert.deepEqual([...freqs].sort(), [60, 60.0025]);
      const [, iaMax] = range(good.map((f) => f.pmus[0]!.phasors[0]!));
      assert.ok(iaMax <= 600, `IA up to ${iaMax}`);
    });
  }

  it('c37_1100_fullclean.pcap: 422 frames, IA ≈ 332 A, 418 distinct FREQ values in 59.61–60.54 Hz', () => {
    const d = decodeCapture('c37_1100_fullclean.pcap');
    assert.equal(d.stats.records, 426);
    assert.deepEqual({ ...d.session.counts }, { data: 422, cfg1: 0, cfg2: 1, cfg3: 0, command: 3, header: 0, bad: 0 });
    const p = d.configs[0]!.pmus[0]!;
    assert.deepEqual(
      [p.station, p.idcode, p.format, p.phasorNames.length, p.digitalNames.length],
      ['Reporting1', 1, 15, 10, 3],
    );
    assert.equal(d.configs[0]!.dataRate, 60);
    assert.equal(cs(d.data[0]!.time), at('2017-07-24 05:44:19.30'));
    assert.equal(cs(d.data.at(-1)!.time), at('2017-07-24 05:44:26.31')); // 26.316 (README: 26.32)
    const ia = d.data.map((f) => f.pmus[0]!.phasors[0]!);
    const [lo, hi] = range(ia);
    assert.ok(lo > 320 && hi < 345, `IA ${lo}–${hi}`);
    const freqs = d.data.map((f) => f.pmus[0]!.freq);
    assert.equal(new Set(freqs).size, 418);
    const [flo, fhi] = range(freqs);
    assert.ok(flo >= 59.6 && flo < 59.62 && fhi > 60.53 && fhi <= 60.55, `FREQ ${flo}–${fhi}`);
    for (let i = 1; i < d.data.length; i++) assert.ok(d.data[i]!.time > d.data[i - 1]!.time);
  });

  for (const name of ['c37_1100_clean_tcp.pcap', 'c37118_1100_unclean.pcap']) {
    it(`${name}: 1 CFG-2, 1 header frame, 3 commands, 425 data frames of which 3 repeat a time stamp`, () => {
      const d = decodeCapture(name);
      assert.equal(d.stats.records, name.includes('unclean') ? 2167 : 669);
      assert.deepEqual(
        { ...d.session.counts },
        { data: 425, cfg1: 0, cfg2: 1, cfg3: 0, command: 3, header: 1, bad: 0 },
      );
      assert.deepEqual(
        [d.configs[0]!.pmus[0]!.station, d.configs[0]!.idcode, d.configs[0]!.pmus[0]!.format],
        ['Reporting1', 1, 15],
      );
      assert.equal(cs(d.data[0]!.time), at('2017-07-24 05:44:19.30'));
      const repeats = d.data.filter((f, i) => i > 0 && f.time === d.data[i - 1]!.time);
      assert.equal(repeats.length, 3);
      assert.equal(d.stats.outOfSequence, 3, 'the repeats are TCP retransmissions');
      const distinct = new Set(d.data.map((f) => f.time));
      assert.equal(distinct.size, 422);
    });
  }
});

/** A bitwise CRC-CCITT (no table), as a reference for the decoder's. */
function crcRef(b: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of b) {
    crc ^= byte << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

describe('capture values recomputed from raw bytes', () => {
  it('the first Blue PMU data frame of C37.118_1PMU_TCP.pcap matches a hand decode of its bytes', () => {
    const file = fs.readFileSync(path.join(DIR, 'C37.118_1PMU_TCP.pcap'));
    // Data frame: SYNC 0xAA01, IDCODE 241 (0x00F1) at +4; 4 float rectangular phasors + int16 FREQ/DFREQ
    // → 14 + 2 + 32 + 4 + 2 = 54 bytes.
    let o = -1;
    for (let i = 0; i + 54 <= file.length; i++) {
      if (file[i] === 0xaa && file[i + 1] === 0x01 && file[i + 2] === 0 && file[i + 3] === 54 && file[i + 5] === 0xf1) {
        o = i;
        break;
      }
    }
    assert.ok(o > 0);
    const raw = file.subarray(o, o + 54);
    const dv = new DataView(raw.buffer, raw.byteOffset, 54);
    assert.equal(crcRef(raw.subarray(0, 52)), dv.getUint16(52));
    const soc = dv.getUint32(6);
    const frac = dv.getUint32(10) & 0xffffff;
    const expectNs = BigInt(soc) * 1_000_000_000n + BigInt(Math.round((frac / 16_777_215) * 1e9));
    const first = decodeCapture('C37.118_1PMU_TCP.pcap').data[0]!;
    assert.equal(first.time, expectNs);
    const ph = first.pmus[0]!.phasors;
    for (let i = 0; i < 8; i++) assert.equal(ph[i], dv.getFloat32(16 + 4 * i));
    assert.equal(first.pmus[0]!.freq, 50 + dv.getInt16(48) / 1000);
    assert.equal(first.pmus[0]!.stat, dv.getUint16(14));
  });
});

/**
 * Every COMTRADE record in shared/data (comtrade-hydro-2007, comtrade-relay-fixtures) read by the
 * importer and checked against an independent reading in this file: the cfg split by hand, the
 * raw samples taken straight from the .dat bytes (Buffer.readInt16LE / the ASCII text), the times
 * from the start time and rate written out here, and the facts the folders' READMEs list.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sharedDataDir } from '../../../test/shared-data.ts';
import { isDbError } from '../../core/errors.ts';
import { type ComtradeRecord, decodeCfgText, readComtrade } from './comtrade-record.ts';
import { channelStreams, comtradeCollection } from './comtrade-streams.ts';

const HYDRO = sharedDataDir('comtrade-hydro-2007');
const RELAY = sharedDataDir('comtrade-relay-fixtures');

/** The analog lines of a cfg as this test reads them: id, unit, a, b. */
function refAnalog(cfgText: string): { id: string; unit: string; a: number; b: number }[] {
  const lines = cfgText.split(/\r?\n/);
  const nA = Number.parseInt(lines[1]!.split(',')[1]!, 10);
  return lines.slice(2, 2 + nA).map((l) => {
    const f = l.split(',');
    return { id: f[1]!, unit: f[4]!, a: Number(f[5]), b: Number(f[6]) };
  });
}

/** ns since 1970 of a UTC wall time with a fraction of up to 9 digits. */
function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string): bigint {
  return BigInt(Date.UTC(y, mo - 1, d, h, mi, s)) * 1_000_000n + BigInt(frac.padEnd(9, '0'));
}

/** round(n·10⁹/rate) ns for a rate given as num/den, half up. */
const afterSamples = (n: bigint, num: bigint, den: bigint): bigint => (2n * n * den * 10n ** 9n + num) / (2n * num);

interface Expect {
  readonly file: string;
  readonly station: string;
  readonly revision: number;
  readonly format: string;
  readonly analog: number;
  readonly digital: number;
  readonly samples: number;
  readonly start: bigint;
  readonly last: bigint;
  readonly names: readonly string[];
  readonly units: readonly string[];
}

const TEST3_START = utc(2007, 6, 25, 19, 13, 57, '789757');
const RECORDS: readonly Expect[] = [
  {
    file: path.join(HYDRO, 'test1.cfg'),
    station: 'TestStation1',
    revision: 1999,
    format: 'BINARY',
    analog: 6,
    digital: 0,
    samples: 24_768,
    start: TEST3_START,
    last: TEST3_START + afterSamples(24_767n, 5760n, 1n),
    names: ['IA_G1', 'IB_G1', 'IC_G1', 'VA_G1', 'VB_G1', 'VC_G1'],
    units: ['A', 'A', 'A', 'kV', 'kV', 'kV'],
  },
  {
    file: path.join(HYDRO, 'test2.cfg'),
    station: 'TestStation2',
    revision: 1999,
    format: 'BINARY',
    analog: 26,
    digital: 13,
    samples: 13_248,
    start: utc(2007, 1, 1, 12, 22, 50, '4075'),
    last: utc(2007, 1, 1, 12, 22, 50, '4075') + afterSamples(13_247n, 5760n, 1n),
    names: ['VA_GC1', 'VB_GC1', 'VC_GC1', 'VN_GC1', 'IA_GC1'],
    units: ['kV', 'kV', 'kV', 'kV', 'A'],
  },
  {
    file: path.join(HYDRO, 'test3.cfg'),
    station: 'TestStation3',
    revision: 1999,
    format: 'BINARY',
    analog: 31,
    digital: 32,
    samples: 24_768,
    start: TEST3_START,
    last: TEST3_START + afterSamples(24_767n, 5760n, 1n),
    names: ['IA_G1', 'IB_G1', 'IC_G1', 'VA_G1'],
    units: ['A', 'A', 'A', 'kV'],
  },
  {
    file: path.join(RELAY, 'keating_1999.CFG'),
    station: '4_Victoria_Keating.main_7650',
    revision: 1999,
    format: 'ASCII',
    analog: 8,
    digital: 0,
    samples: 2048,
    start: utc(2015, 11, 18, 5, 33, 3, '765333'),
    last: utc(2015, 11, 18, 5, 33, 3, '765333') + afterSamples(2047n, 30_707_244_140_625n, 1_000_000_000n),
    names: ['I1', 'I2', 'I3', 'I4', 'U1', 'U2', 'U3', 'U4'],
    units: ['ampere', 'ampere', 'ampere', 'ampere', 'volt', 'volt', 'volt', 'volt'],
  },
  {
    file: path.join(RELAY, 'ascii_1991.cfg'),
    station: 'UNREAL SUBSTATION',
    revision: 1991,
    format: 'ASCII',
    analog: 24,
    digital: 37,
    samples: 2131,
    // mm/dd/yy: 09/17/15 is 17 September 2015. The timestamp column starts at −77 500 µs (from
    // the trigger) at the start time; the last burst starts at sample 2100, column 17 232 500 µs,
    // and is placed there, then 31 samples at 1200/s follow (column of the last: 17 258 333).
    start: utc(2015, 9, 17, 10, 52, 52, '987545'),
    last: utc(2015, 9, 17, 10, 52, 52, '987545') + (17_232_500n - -77_500n) * 1000n + afterSamples(31n, 1200n, 1n),
    names: ['Ia1', 'Ib1', 'Ic1', '3I0', 'Ua1', 'Ub1', 'Uc1', '3U0', 'Ux', 'Ua对侧'],
    units: ['A', 'A', 'A', 'A', 'V', 'V', 'V', 'V', 'V', 'V'],
  },
];

/** The raw analog value of channel k, sample i, read from the .dat directly. */
function rawReader(rec: ComtradeRecord, e: Expect): (k: number, i: number) => number {
  const bytes = fs.readFileSync(rec.datFile);
  if (e.format === 'BINARY') {
    const size = 8 + 2 * e.analog + 2 * Math.ceil(e.digital / 16);
    assert.equal(bytes.length, size * e.samples, 'the .dat is one record per sample');
    return (k, i) => bytes.readInt16LE(i * size + 8 + 2 * k);
  }
  const rows = bytes
    .toString('latin1')
    .split(/\r?\n/)
    .filter((l) => /^\d/.test(l));
  assert.equal(rows.length, e.samples);
  return (k, i) => Number(rows[i]!.split(',')[2 + k]);
}

describe('COMTRADE records in shared/data', () => {
  it('has both folders of recordings (shared/data; set ARBOR_SHARED_DATA when elsewhere)', () => {
    for (const e of RECORDS) assert.ok(fs.existsSync(e.file), `missing ${e.file}`);
  });

  for (const e of RECORDS) {
    it(`${path.basename(e.file)} reads with its channels, samples, exact first/last times and scaled values`, () => {
      const rec = readComtrade(e.file);
      const { cfg, dat, times } = rec;
      assert.equal(cfg.station, e.station);
      assert.equal(cfg.revision, e.revision);
      assert.equal(cfg.format, e.format);
      assert.equal(cfg.analog.length, e.analog);
      assert.equal(cfg.digital.length, e.digital);
      assert.equal(dat.count, e.samples);
      assert.equal(times.times.length, e.samples);
      assert.equal(times.times[0], e.start);
      assert.equal(times.times[e.samples - 1], e.last);
      for (let i = 1; i < e.samples; i++) assert.ok(times.times[i]! > times.times[i - 1]!, `time ${i} increases`);

      const streams = channelStreams(rec);
      assert.equal(streams.length, e.analog + e.digital);
      assert.deepEqual(
        streams.slice(0, e.names.length).map((s) => s.name),
        e.names,
      );
      assert.deepEqual(
        streams.slice(0, e.units.length).map((s) => s.unit),
        e.units,
      );
      const cfgText =
        rec.encoding === 'gbk'
          ? new TextDecoder('gbk').decode(fs.readFileSync(rec.cfgFile))
          : fs.readFileSync(rec.cfgFile, 'utf8');
      const ref = refAnalog(cfgText);
      const raw = rawReader(rec, e);
      for (const [k, ch] of ref.entries()) {
        const s = streams[k]!;
        assert.equal(s.times.length, e.samples, `${ch.id}: no sample is missing`);
        for (const i of [0, 1, 2, e.samples >> 1, e.samples - 1]) {
          assert.equal(s.values[i], ch.a * raw(k, i) + ch.b, `${ch.id} sample ${i + 1}`);
        }
      }
      for (const s of streams.slice(e.analog)) {
        assert.ok(
          s.values.every((v) => v === 0 || v === 1),
          `${s.name} is 0/1`,
        );
      }
    });
  }

  it('test3: digital 32_G4 (reverse power) asserts at 0.300 s and clears at 0.639 s, as the README says', () => {
    const rec = readComtrade(path.join(HYDRO, 'test3.cfg'));
    const s = channelStreams(rec).find((x) => x.name === '32_G4')!;
    const on = s.values.indexOf(1);
    const off = s.values.indexOf(0, on);
    assert.equal(s.times[on]! - TEST3_START, 300_000_000n); // sample 1729: 1728/5760 s exactly
    assert.equal(Number(s.times[off]! - TEST3_START) / 1e9, 0.638715278); // 3679/5760 s, rounded to ns
    // Independently from the bytes: digitals after 31 analog words, channel 32 = bit 15 of word 2.
    const bytes = fs.readFileSync(rec.datFile);
    const size = 8 + 62 + 4;
    assert.equal((bytes.readUInt16LE(on * size + 8 + 62 + 2) >> 15) & 1, 1);
    assert.equal((bytes.readUInt16LE((on - 1) * size + 8 + 62 + 2) >> 15) & 1, 0);
  });

  it('test2: two digital channels both named 50/51N_T get distinct stream names', () => {
    const names = channelStreams(readComtrade(path.join(HYDRO, 'test2.cfg'))).map((s) => s.name);
    assert.ok(names.includes('50/51N_T (D10)') && names.includes('50/51N_T (D13)'));
    assert.equal(new Set(names).size, names.length);
  });

  it('test1: times come from the rate, not the wrapping 16-bit µs timestamp column', () => {
    const rec = readComtrade(path.join(HYDRO, 'test1.cfg'));
    assert.equal(rec.times.source, 'rate');
    const ts = rec.dat.timestamps;
    let wraps = 0;
    for (let i = 1; i < ts.length; i++) if (ts[i]! < ts[i - 1]!) wraps++;
    assert.ok(wraps > 50, `the column wraps (${wraps} times)`);
    // Sample 5760 (0-based) is exactly one second after the start.
    assert.equal(rec.times.times[5760]! - rec.times.times[0]!, 1_000_000_000n);
  });

  it('ascii_1991: GBK channel names, mm/dd/yy start, and the five gaps between rate segments', () => {
    const rec = readComtrade(path.join(RELAY, 'ascii_1991.cfg'));
    assert.equal(rec.encoding, 'gbk');
    assert.equal(rec.cfg.rates.length, 8);
    assert.deepEqual(
      rec.cfg.rates.map((r) => r.endSample),
      [289, 506, 1045, 1451, 1629, 1812, 2099, 2131],
    );
    assert.equal(rec.times.source, 'rate+column');
    assert.equal(rec.cfg.digital[0]!.id, '纵联差动保护');
    const t = rec.times.times;
    const gaps: number[] = [];
    for (let i = 1; i < t.length; i++) if (t[i]! - t[i - 1]! > 1_000_000n) gaps.push(i);
    assert.deepEqual(gaps, [289, 506, 1045, 1812, 2099]);
    // Every time within 1 µs of the timestamp column (whole µs from the trigger).
    const rows = fs.readFileSync(rec.datFile, 'latin1').trim().split(/\r?\n/);
    assert.equal(rows.length, 2131);
    const col0 = BigInt(rows[0]!.split(',')[1]!);
    for (const [i, row] of rows.entries()) {
      const want = rec.cfg.start.ns + (BigInt(row.split(',')[1]!) - col0) * 1000n;
      const d = t[i]! - want;
      assert.ok(d >= -1000n && d <= 1000n, `sample ${i + 1}: ${t[i]} vs column ${want}`);
    }
    // With --time-source rate the bursts are joined: 2130 periods of 1/1200 s.
    const joined = readComtrade(path.join(RELAY, 'ascii_1991.cfg'), { timeSource: 'rate' }).times.times;
    assert.equal(joined[2130]! - joined[0]!, afterSamples(2130n, 1200n, 1n));
  });

  it('keating_1999: upper-case .CFG finds .DAT, the empty timestamp column and the trailing EOF byte are accepted', () => {
    const rec = readComtrade(path.join(RELAY, 'keating_1999.CFG'));
    assert.equal(path.basename(rec.datFile), 'keating_1999.DAT');
    assert.ok(rec.dat.timestamps.every((v) => Number.isNaN(v)));
    const bytes = fs.readFileSync(rec.datFile);
    assert.equal(bytes[bytes.length - 1], 0x1a);
    // Passing the .DAT finds the .CFG.
    assert.equal(readComtrade(path.join(RELAY, 'keating_1999.DAT')).cfgFile, rec.cfgFile);
  });

  it('reads the cfg as UTF-8, else GBK when it looks like GB2312, else Latin-1, or as told', () => {
    const latin1 = Buffer.from('Usina,Tensões Área,1999', 'latin1');
    assert.deepEqual(decodeCfgText(latin1), { text: 'Usina,Tensões Área,1999', encoding: 'windows-1252' });
    assert.ok(new TextDecoder('gbk', { fatal: true }).decode(latin1).length > 0, 'the Latin-1 bytes are valid GBK too');
    const gbk = fs.readFileSync(path.join(RELAY, 'ascii_1991.cfg'));
    assert.equal(decodeCfgText(gbk).encoding, 'gbk');
    assert.equal(decodeCfgText(new TextEncoder().encode('Ünterwerk,Ä,1999')).encoding, 'utf-8');
    assert.equal(decodeCfgText(gbk, 'latin1').encoding, 'windows-1252');
    assert.throws(
      () => decodeCfgText(gbk, 'utf-8'),
      (e) => isDbError(e, 438) && /not valid utf-8 text/.test(e.message),
    );
    assert.throws(
      () => decodeCfgText(gbk, 'klingon'),
      (e) => isDbError(e, 438) && /unknown text encoding "klingon"/.test(e.message),
    );
  });

  it('collections are comtrade/<station> with unsafe characters replaced', () => {
    assert.equal(comtradeCollection('UNREAL SUBSTATION'), 'comtrade/UNREAL_SUBSTATION');
    assert.equal(comtradeCollection('4_Victoria_Keating.main_7650'), 'comtrade/4_Victoria_Keating.main_7650');
    assert.equal(comtradeCollection(' a/b\\c '), 'comtrade/a_b_c');
    assert.equal(comtradeCollection('变电站 1'), 'comtrade/变电站_1');
    assert.equal(comtradeCollection(''), 'comtrade/unnamed');
  });
});

describe('COMTRADE single-file .cff (2013 form) and file lookup', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-cff-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A .cff holding the cfg and dat of a shared record, with INF and HDR sections around them. */
  function cff(cfgFile: string, datFile: string, type: string): string {
    const dat = fs.readFileSync(datFile);
    const file = path.join(dir, `${path.basename(cfgFile, path.extname(cfgFile))}.CFF`);
    const head =
      type === 'ASCII' ? '--- file type: DAT ASCII ---\r\n' : `--- file type: DAT ${type}: ${dat.length} ---\r\n`;
    fs.writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('--- file type: CFG ---\r\n'),
        fs.readFileSync(cfgFile),
        Buffer.from('--- file type: INF ---\r\n[Public Record_Information]\r\n--- file type: HDR ---\r\nfree text\r\n'),
        Buffer.from(head),
        dat,
        Buffer.from(type === 'ASCII' ? '' : '\r\n'),
      ]),
    );
    return file;
  }

  for (const [cfgName, datName, type] of [
    [path.join(HYDRO, 'test1.cfg'), path.join(HYDRO, 'test1.dat'), 'BINARY'],
    [path.join(RELAY, 'keating_1999.CFG'), path.join(RELAY, 'keating_1999.DAT'), 'ASCII'],
  ] as const) {
    it(`reads a .cff built from ${path.basename(cfgName)} exactly as the .cfg + .dat pair`, () => {
      const pair = readComtrade(cfgName);
      const single = readComtrade(cff(cfgName, datName, type));
      assert.deepEqual(single.times.times, pair.times.times);
      assert.deepEqual(single.dat.analog, pair.dat.analog);
      assert.deepEqual(single.cfg.analog, pair.cfg.analog);
    });
  }

  it('refuses a .cff whose binary section is shorter than declared, or without a DAT section', () => {
    const file = path.join(dir, 'short.cff');
    fs.writeFileSync(file, '--- file type: CFG ---\nS,D,2013\n--- file type: DAT BINARY: 99 ---\nabc');
    assert.throws(
      () => readComtrade(file),
      (e) => isDbError(e, 438) && /DAT section declares 99 bytes/.test(e.message),
    );
    fs.writeFileSync(file, '--- file type: CFG ---\nS,D,2013\n');
    assert.throws(
      () => readComtrade(file),
      (e) => isDbError(e, 438) && /needs "--- file type: CFG ---" and/.test(e.message),
    );
  });

  it('names the missing data file, and a missing cfg', () => {
    const lone = path.join(dir, 'lone.cfg');
    fs.copyFileSync(path.join(HYDRO, 'test1.cfg'), lone);
    assert.throws(
      () => readComtrade(lone),
      (e) => isDbError(e, 438) && /lone\.cfg: no data file lone\.dat beside it/.test(e.message),
    );
    assert.throws(
      () => readComtrade(path.join(dir, 'none.cfg')),
      (e) => isDbError(e, 438) && /cannot read .*none\.cfg: no such file/.test(e.message),
    );
  });
});

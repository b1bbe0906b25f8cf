/**
 * The COMTRADE readers under fuzzing (test/fuzz/fuzz.ts): mutations of the real .cfg files, of
 * the first samples of the real .dat files, and of whole single-file .cff records built from
 * them. Every input must give a record whose columns agree with each other, or a DbError.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { describeTally, fuzzDecoder, hostileBytes } from '../../../test/fuzz/fuzz.ts';
import { sharedDataDir } from '../../../test/shared-data.ts';
import { isDbError } from '../../core/errors.ts';
import { type ComtradeConfig, parseCfg } from './cfg.ts';
import { type ComtradeRecord, decodeRecord, splitCff } from './comtrade-record.ts';
import { channelStreams } from './comtrade-streams.ts';
import { parseDat } from './dat.ts';
import { sampleTimes } from './sample-times.ts';

const HYDRO = sharedDataDir('comtrade-hydro-2007');
const RELAY = sharedDataDir('comtrade-relay-fixtures');
const SAMPLES = 12;

/** Every cfg refused the input (each with a DbError). */
class Rejected extends Error {
  constructor() {
    super('no cfg accepts these bytes');
  }
}

/**
 * A small valid record from a real one: the cfg with one rate segment ending at SAMPLES and the
 * data file cut to its first SAMPLES samples.
 */
function small(cfgFile: string, datFile: string): { cfg: Uint8Array; dat: Uint8Array } {
  const raw = fs.readFileSync(cfgFile);
  const text = cfgFile.endsWith('1991.cfg') ? new TextDecoder('gbk').decode(raw) : raw.toString('latin1');
  const lines = text.split(/\r?\n/);
  const counts = lines[1]!.split(',');
  const nrates = 2 + Number(counts[0]) + 1; // the nrates line
  const rate = lines[nrates + 1]!.split(',')[0];
  lines.splice(nrates, Number(lines[nrates]) + 1, '1', `${rate},${SAMPLES}`);
  const cfg = parseCfg(lines.join('\r\n'));
  const dat = fs.readFileSync(datFile);
  let cut: Uint8Array;
  if (cfg.format === 'ASCII') {
    cut = Buffer.from(`${dat.toString('latin1').split(/\r?\n/).slice(0, SAMPLES).join('\r\n')}\r\n`, 'latin1');
  } else {
    cut = dat.subarray(0, SAMPLES * (8 + 2 * cfg.analog.length + 2 * Math.ceil(cfg.digital.length / 16)));
  }
  // Plain Uint8Array copies: Buffer.slice() shares memory, so a mutation would edit the sample.
  return { cfg: new TextEncoder().encode(lines.join('\r\n')), dat: new Uint8Array(cut) };
}

const RECORDS = [
  small(path.join(HYDRO, 'test2.cfg'), path.join(HYDRO, 'test2.dat')),
  small(path.join(HYDRO, 'test1.cfg'), path.join(HYDRO, 'test1.dat')),
  small(path.join(RELAY, 'keating_1999.CFG'), path.join(RELAY, 'keating_1999.DAT')),
  small(path.join(RELAY, 'ascii_1991.cfg'), path.join(RELAY, 'ascii_1991.dat')),
];

const CFF = RECORDS.map(({ cfg, dat }) => {
  const type = new TextDecoder().decode(cfg).includes('BINARY') ? `DAT BINARY: ${dat.length}` : 'DAT ASCII';
  return new Uint8Array(
    Buffer.concat([
      Buffer.from('--- file type: CFG ---\r\n'),
      cfg,
      Buffer.from(`\r\n--- file type: ${type} ---\r\n`),
      dat,
    ]),
  );
});

/** The columns of a decoded record agree with each other. */
function consistent(r: ComtradeRecord): void {
  const n = r.dat.count;
  assert.equal(r.times.times.length, n);
  assert.equal(r.dat.timestamps.length, n);
  assert.equal(r.dat.analog.length, r.cfg.analog.length);
  assert.equal(r.dat.digital.length, r.cfg.digital.length);
  for (const a of r.dat.analog) assert.equal(a.length, n);
  for (const d of r.dat.digital) assert.ok(d.length === n && d.every((b) => b === 0 || b === 1));
  for (const s of channelStreams(r)) assert.equal(s.times.length, s.values.length);
}

describe('COMTRADE readers under fuzzing', () => {
  it('has the recordings the samples are cut from', () => {
    assert.equal(RECORDS.length, 4);
  });

  it('the cfg parser returns a consistent config or a DbError for any mutation of a real cfg', (t) => {
    const tally = fuzzDecoder({
      name: 'comtrade cfg',
      inputs: hostileBytes(
        RECORDS.map((r) => r.cfg),
        512,
      ),
      decode: (bytes) => parseCfg(Buffer.from(bytes).toString('latin1')),
      expected: (e) => isDbError(e, 438),
      check: (c: ComtradeConfig) => {
        assert.ok(c.rates.every((r) => r.endSample <= c.endSample));
        assert.ok(c.timeMultiplier.num > 0n && c.timeMultiplier.den > 0n);
      },
      runs: 1500,
    });
    t.diagnostic(describeTally(tally));
    assert.ok(tally.decoded > 0 && tally.rejected > 0);
  });

  it('the dat decoder and sample times return consistent columns or a DbError for any mutation of real data', (t) => {
    const cfgs = RECORDS.map((r) => parseCfg(new TextDecoder().decode(r.cfg)));
    const tally = fuzzDecoder({
      name: 'comtrade dat',
      inputs: hostileBytes(
        RECORDS.map((r) => r.dat),
        512,
      ),
      decode: (bytes) => {
        // Each input is tried against every cfg: binary bytes as ASCII and the other way round too.
        let decoded = 0;
        for (const cfg of cfgs) {
          try {
            const dat = parseDat(cfg, bytes);
            const times = sampleTimes(cfg, dat);
            assert.equal(times.times.length, dat.count);
            decoded++;
          } catch (e) {
            if (!isDbError(e)) throw e;
          }
        }
        if (decoded === 0) throw new Rejected();
        return decoded;
      },
      expected: (e) => e instanceof Rejected,
      runs: 1500,
    });
    t.diagnostic(describeTally(tally));
    assert.ok(tally.decoded > 0 && tally.rejected > 0);
  });

  it('whole .cff records decode consistently or are refused with a DbError', (t) => {
    const tally = fuzzDecoder({
      name: 'comtrade cff',
      inputs: hostileBytes(CFF, 512),
      decode: (bytes) => {
        const { cfg, dat } = splitCff(bytes, 'f.cff');
        return decodeRecord(cfg, dat, { cfg: 'f.cff', dat: 'f.cff' });
      },
      expected: (e) => isDbError(e) && [404, 413, 425, 438].includes(e.code),
      check: consistent,
      runs: 1500,
    });
    t.diagnostic(describeTally(tally));
    assert.ok(tally.decoded > 0 && tally.rejected > 0);
  });
});

/**
 * `arbor import comtrade` end to end: the real CLI in child processes imports every COMTRADE
 * record of shared/data into one temporary data directory; the streams are then read back through
 * the client API and compared with the records as this file reads them (the .cfg split by hand,
 * raw samples from the .dat bytes or text). Malformed records are refused whole, with line
 * numbers, and leave nothing behind. One case imports through a running `arbor serve`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServe } from '../../test/server/spawn-serve.ts';
import { sharedDataDir } from '../../test/shared-data.ts';
import { type Connection, connectionOver, type Stream } from '../client/index.ts';
import { connectRemote } from '../client/remote-backend.ts';
import { isDbError } from '../core/errors.ts';
import { MAX_TIME, MIN_TIME } from '../core/time.ts';
import { Database, openDatabase } from '../db/database.ts';
import { importComtrade } from '../ingest/comtrade/import-comtrade.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HYDRO = sharedDataDir('comtrade-hydro-2007');
const RELAY = sharedDataDir('comtrade-relay-fixtures');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function arbor(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, maxBuffer: 64 << 20, timeout: 300_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A record as this test reads it: analog id/unit/a/b/ps/ratio, digital ids, start, rate, raw samples. */
interface Ref {
  readonly station: string;
  readonly analog: { id: string; unit: string; a: number; b: number; primary: number; secondary: number }[];
  readonly digital: string[];
  readonly samples: number;
  readonly start: bigint;
  /** Samples per second as num/den. */
  readonly rate: readonly [bigint, bigint];
  readonly raw: (k: number, i: number) => number;
  readonly bit: (k: number, i: number) => number;
}

function reference(cfgFile: string, datFile: string, encoding: string): Ref {
  const lines = new TextDecoder(encoding).decode(fs.readFileSync(cfgFile)).split(/\r?\n/);
  const [, nAText, nDText] = lines[1]!.split(',');
  const nA = Number.parseInt(nAText!, 10);
  const nD = Number.parseInt(nDText!, 10);
  const analog = lines.slice(2, 2 + nA).map((l) => {
    const f = l.split(',');
    return {
      id: f[1]!,
      unit: f[4]!,
      a: Number(f[5]),
      b: Number(f[6]),
      primary: Number(f[10]),
      secondary: Number(f[11]),
    };
  });
  const digital = lines.slice(2 + nA, 2 + nA + nD).map((l) => l.split(',')[1]!);
  const at = 2 + nA + nD + 1; // nrates
  const [rateText, end] = lines[at + 1]!.split(',');
  const [whole, frac = ''] = rateText!.split('.');
  const rate = [BigInt(whole! + frac), 10n ** BigInt(frac.length)] as const;
  const [d, t] = lines[at + 1 + Number(lines[at])]!.split(',');
  const [dd, mm, yyyy] = d!.split('/').map(Number);
  const [hms, f = ''] = t!.split('.');
  const [h, mi, s] = hms!.split(':').map(Number);
  const start = BigInt(Date.UTC(yyyy!, mm! - 1, dd!, h!, mi!, s!)) * 1_000_000n + BigInt(f.padEnd(9, '0'));
  const bytes = fs.readFileSync(datFile);
  const samples = Number(lines[at + Number(lines[at])]!.split(',')[1]);
  assert.ok(Number(end) > 0);
  if (lines[at + 3 + Number(lines[at])]!.trim() === 'BINARY') {
    const size = 8 + 2 * nA + 2 * Math.ceil(nD / 16);
    return {
      station: lines[0]!.split(',')[0]!,
      analog,
      digital,
      samples,
      start,
      rate,
      raw: (k, i) => bytes.readInt16LE(i * size + 8 + 2 * k),
      bit: (k, i) => (bytes.readUInt16LE(i * size + 8 + 2 * nA + 2 * (k >> 4)) >> (k & 15)) & 1,
    };
  }
  const rows = bytes
    .toString('latin1')
    .split(/\r?\n/)
    .filter((l) => /^\d/.test(l))
    .map((l) => l.split(','));
  return {
    station: lines[0]!.split(',')[0]!,
    analog,
    digital,
    samples,
    start,
    rate,
    raw: (k, i) => Number(rows[i]![2 + k]),
    bit: (k, i) => Number(rows[i]![2 + nA + k]),
  };
}

/** Time of sample i (single rate segment): start + round(i·10⁹/rate), half up. */
const timeOf = (r: Ref, i: number): bigint =>
  r.start + (2n * BigInt(i) * r.rate[1] * 1_000_000_000n + r.rate[0]) / (2n * r.rate[0]);

async function streamsOf(conn: Connection, collection: string): Promise<Map<string, Stream>> {
  const list = await conn.streamsInCollection(collection, { isPrefix: false });
  return new Map(list.map((s) => [s.descriptor!.tags.name!, s]));
}

/** Every point of every stream of a single-rate record equals the reference. */
async function checkRecord(conn: Connection, collection: string, r: Ref): Promise<void> {
  const streams = await streamsOf(conn, collection);
  assert.equal(streams.size, r.analog.length + r.digital.length, `${collection}: one stream per channel`);
  for (const [k, ch] of r.analog.entries()) {
    const s = streams.get(ch.id);
    assert.ok(s, `${collection}/${ch.id}`);
    assert.equal(s.descriptor!.tags.unit, ch.unit);
    assert.equal(s.descriptor!.tags.ingress, 'comtrade');
    const a = s.descriptor!.annotations;
    assert.equal(a.station, r.station);
    assert.equal(a.channel, `A${k + 1}`);
    assert.equal(Number(a.a), ch.a);
    assert.equal(Number(a.b), ch.b);
    const got = await s.valuesArray(MIN_TIME, MAX_TIME - 1n);
    assert.equal(got.times.length, r.samples, `${ch.id}: every sample stored`);
    for (let i = 0; i < r.samples; i++) {
      const want = ch.a * r.raw(k, i) + ch.b;
      if (got.times[i] !== timeOf(r, i) || got.values[i] !== want) {
        assert.fail(
          `${collection}/${ch.id} sample ${i + 1}: stored ${got.times[i]} ${got.values[i]}, expected ${timeOf(r, i)} ${want}`,
        );
      }
    }
  }
  const names = [...streams.keys()];
  for (const [k, id] of r.digital.entries()) {
    const s = streams.get(id) ?? streams.get(`${id} (D${k + 1})`);
    assert.ok(s, `${collection}/${id}: ${names.join(' ')}`);
    const got = await s.valuesArray(MIN_TIME, MAX_TIME - 1n);
    assert.equal(got.times.length, r.samples);
    for (let i = 0; i < r.samples; i++) {
      if (got.values[i] !== r.bit(k, i)) assert.fail(`${collection}/${id} sample ${i + 1}: ${got.values[i]}`);
    }
  }
}

describe('arbor import comtrade (the real CLI)', () => {
  let root: string;
  let data: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-import-comtrade-'));
    data = path.join(root, 'data');
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('has the COMTRADE recordings (shared/data; set ARBOR_SHARED_DATA when elsewhere)', () => {
    assert.ok(fs.existsSync(path.join(HYDRO, 'test3.cfg')), `missing ${HYDRO}`);
    assert.ok(fs.existsSync(path.join(RELAY, 'keating_1999.CFG')), `missing ${RELAY}`);
  });

  it('imports all five records and every stored point equals the record read independently', async () => {
    const expected: [string, number, string][] = [
      ['test1.cfg', 6, 'comtrade/TestStation1'],
      ['test2.cfg', 39, 'comtrade/TestStation2'],
      ['test3.cfg', 63, 'comtrade/TestStation3'],
    ];
    for (const [file, streams, collection] of expected) {
      const r = await arbor('import', 'comtrade', path.join(HYDRO, file), '--data', data);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^imported \\d+ points into ${streams} streams from \\d+ rows of `));
      assert.match(r.stdout, new RegExp(`${collection}/\\S+ {2}\\d+ points \\(created\\)`));
      assert.match(r.stdout, /record: TestStation\d \/ 001.*, rev 1999, BINARY, .* times from rate\n$/);
    }
    const k = await arbor('import', 'comtrade', path.join(RELAY, 'keating_1999.CFG'), '--data', data, '--quiet');
    assert.equal(k.code, 0, k.stderr);
    assert.match(k.stdout, /^imported 16384 points into 8 streams from 2048 rows/);
    const o = await arbor(
      'import',
      'comtrade',
      path.join(RELAY, 'ascii_1991.cfg'),
      '--data',
      data,
      '--collection',
      'relay/psl603',
    );
    assert.equal(o.code, 0, o.stderr);
    assert.match(o.stdout, /^imported 129991 points into 61 streams from 2131 rows/); // 61 × 2131
    assert.match(o.stdout, /relay\/psl603\/Ua对侧 {2}2131 points \(created\)/);
    assert.match(o.stdout, /times from rate\+column/);

    const db = await openDatabase(data, { background: false });
    try {
      const conn = connectionOver(db);
      for (const [file, , collection] of expected) {
        await checkRecord(
          conn,
          collection,
          reference(path.join(HYDRO, file), path.join(HYDRO, file.replace('.cfg', '.dat')), 'latin1'),
        );
      }
      await checkRecord(
        conn,
        'comtrade/4_Victoria_Keating.main_7650',
        reference(path.join(RELAY, 'keating_1999.CFG'), path.join(RELAY, 'keating_1999.DAT'), 'latin1'),
      );
      // ascii_1991 has 8 rate segments with gaps: check the values and the first and last times.
      const streams = await streamsOf(conn, 'relay/psl603');
      assert.equal(streams.size, 61);
      const ua = await streams.get('Ua对侧')!.valuesArray(MIN_TIME, MAX_TIME - 1n);
      assert.equal(ua.times.length, 2131);
      const start = BigInt(Date.UTC(2015, 8, 17, 10, 52, 52)) * 1_000_000n + 987_545_000n;
      assert.equal(ua.times[0], start);
      assert.equal(ua.times[2130], start + (17_232_500n + 77_500n) * 1000n + 25_833_333n);
      const rows = fs.readFileSync(path.join(RELAY, 'ascii_1991.dat'), 'latin1').trim().split(/\r?\n/);
      for (let i = 0; i < 2131; i++) assert.equal(ua.values[i], 0.001 * Number(rows[i]!.split(',')[2 + 9]));
      const d = streams.get('纵联差动保护')!;
      assert.equal(d.descriptor!.annotations.channel, 'D25'); // the writer numbers digitals 25–61, kept as written
      assert.equal(d.descriptor!.annotations.station, 'UNREAL SUBSTATION');
    } finally {
      await db.close();
    }
  });

  it('a second import with --merge replace appends to the same streams and stores each point once', async () => {
    const r = await arbor(
      'import',
      'comtrade',
      path.join(RELAY, 'keating_1999.CFG'),
      '--data',
      data,
      '--merge',
      'replace',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /created/);
    const info = JSON.parse(
      (await arbor('info', 'comtrade/4_Victoria_Keating.main_7650/I1', '--json', '--data', data)).stdout,
    ) as { points: number };
    assert.equal(info.points, 2048);
  });

  it('--values secondary stores analog values divided by the channel ratio', async () => {
    const r = await arbor(
      'import',
      'comtrade',
      path.join(HYDRO, 'test1.cfg'),
      '--data',
      data,
      '--collection',
      't1/secondary',
      '--values',
      'secondary',
      '--quiet',
    );
    assert.equal(r.code, 0, r.stderr);
    const ref = reference(path.join(HYDRO, 'test1.cfg'), path.join(HYDRO, 'test1.dat'), 'latin1');
    const db = await openDatabase(data, { background: false });
    try {
      const s = (await streamsOf(connectionOver(db), 't1/secondary')).get('VA_G1')!;
      assert.equal(s.descriptor!.annotations.values, 'secondary');
      const got = await s.valuesArray(MIN_TIME, MAX_TIME - 1n);
      const ch = ref.analog[3]!;
      for (const i of [0, 1000, 24_767]) {
        assert.equal(got.values[i], (ch.a * ref.raw(3, i) + ch.b) * (ch.secondary / ch.primary));
      }
    } finally {
      await db.close();
    }
  });

  it('refuses malformed records whole, naming the file and line, and writes nothing', async () => {
    const bad = path.join(root, 'bad');
    fs.mkdirSync(bad);
    // ASCII data with a bad value on line 7 and a bad digital-free field count on line 9.
    const rows = fs.readFileSync(path.join(RELAY, 'keating_1999.DAT'), 'latin1').split('\r\n');
    rows[6] = rows[6]!.replace(/,(-?\d+),/, ',12x,');
    rows[8] = `${rows[8]},5`;
    fs.copyFileSync(path.join(RELAY, 'keating_1999.CFG'), path.join(bad, 'k.cfg'));
    fs.writeFileSync(path.join(bad, 'k.dat'), rows.join('\r\n'), 'latin1');
    const a = await arbor('import', 'comtrade', path.join(bad, 'k.cfg'), '--data', data, '--collection', 'bad/ascii');
    assert.equal(a.code, 1);
    assert.match(a.stderr, /k\.dat: 2 bad lines, nothing was imported/);
    assert.match(a.stderr, /line 7: analog channel 1 value "12x" is not a number/);
    assert.match(a.stderr, /line 9: 11 fields, expected 10/);
    // A cfg with a bad multiplier on line 5.
    const cfg = fs.readFileSync(path.join(HYDRO, 'test1.cfg'), 'latin1').split('\r\n');
    cfg[4] = cfg[4]!.replace('2.4557964802', 'x1');
    fs.writeFileSync(path.join(bad, 'c.cfg'), cfg.join('\r\n'));
    fs.copyFileSync(path.join(HYDRO, 'test1.dat'), path.join(bad, 'c.dat'));
    const c = await arbor('import', 'comtrade', path.join(bad, 'c.cfg'), '--data', data, '--collection', 'bad/cfg');
    assert.equal(c.code, 1);
    assert.match(c.stderr, /c\.cfg line 5: the multiplier a must be a number, got "x1" \(438 InvalidParameter\)/);
    // A truncated binary data file.
    fs.copyFileSync(path.join(HYDRO, 'test1.cfg'), path.join(bad, 't.cfg'));
    fs.writeFileSync(path.join(bad, 't.dat'), fs.readFileSync(path.join(HYDRO, 'test1.dat')).subarray(0, 20 * 1000));
    const t = await arbor('import', 'comtrade', path.join(bad, 't.cfg'), '--data', data, '--collection', 'bad/binary');
    assert.equal(t.code, 1);
    assert.match(t.stderr, /t\.dat: holds 1000 records but the cfg declares 24768 samples/);
    // No file at all.
    const n = await arbor('import', 'comtrade', path.join(bad, 'none.cfg'), '--data', data);
    assert.equal(n.code, 1);
    assert.match(n.stderr, /cannot read .*none\.cfg: no such file \(438 InvalidParameter\)/);

    const db = await openDatabase(data, { background: false });
    try {
      assert.deepEqual(await connectionOver(db).streamsInCollection('bad', { isPrefix: true }), []);
    } finally {
      await db.close();
    }
  });

  it('explains itself in --help and refuses bad option values', async () => {
    const h = await arbor('import', '--help');
    assert.equal(h.code, 0);
    assert.match(h.stdout, /arbor import comtrade FILE\.cfg/);
    assert.match(h.stdout, /--time-source T/);
    const v = await arbor('import', 'comtrade', path.join(HYDRO, 'test1.cfg'), '--values', 'peak', '--data', data);
    assert.equal(v.code, 1);
    assert.match(v.stderr, /--values must be one of recorded, primary, secondary, got "peak"/);
    const s = await arbor('import', 'comtrade', path.join(HYDRO, 'test1.cfg'), '--server', 'http://x:1');
    assert.equal(s.code, 1);
    assert.match(s.stderr, /--server takes the server's gRPC HOST:PORT/);
  });

  it('imports through a running arbor serve with --server', async () => {
    const KEY = 'comtrade-import-key';
    const server = await startServe([
      '--data',
      path.join(root, 'served'),
      '--grpc',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--api-key',
      KEY,
    ]);
    try {
      const r = await arbor(
        'import',
        'comtrade',
        path.join(RELAY, 'keating_1999.CFG'),
        '--server',
        server.address,
        '--api-key',
        KEY,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^imported 16384 points into 8 streams/);
      const remote = await connectRemote({ endpoints: server.address, apiKey: KEY, env: {}, home: os.tmpdir() });
      try {
        await checkRecord(
          connectionOver(remote),
          'comtrade/4_Victoria_Keating.main_7650',
          reference(path.join(RELAY, 'keating_1999.CFG'), path.join(RELAY, 'keating_1999.DAT'), 'latin1'),
        );
      } finally {
        await remote.close();
      }
    } finally {
      await server.stop();
    }
  });
});

describe('importComtrade in process (missing values, collisions)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-comtrade-inproc-'));
    // A BINARY record of 4 samples at 1000/s; analog channel 1 is missing (0x8000) at sample 3.
    const cfg = [
      'Sub A,DFR,1999',
      '2,1A,1D',
      '1,V,A,Bus,kV,0.5,1,0,-32767,32767,1,1,P',
      '1,Trip,,Bus,0',
      '50',
      '1',
      '1000,4',
    ];
    cfg.push('01/01/2020,00:00:00', '01/01/2020,00:00:00', 'BINARY', '1');
    fs.writeFileSync(path.join(dir, 'r.cfg'), cfg.join('\r\n'));
    const dat = Buffer.alloc(4 * 12);
    for (const [i, x] of [10, 20, -32768, 40].entries()) {
      dat.writeUInt32LE(i + 1, i * 12);
      dat.writeUInt32LE(i * 1000, i * 12 + 4);
      dat.writeInt16LE(x, i * 12 + 8);
      dat.writeUInt16LE(i % 2, i * 12 + 10);
    }
    fs.writeFileSync(path.join(dir, 'r.dat'), dat);
    fs.writeFileSync(path.join(dir, 'other.cfg'), cfg.join('\r\n').replace('Sub A', 'Sub B'));
    fs.writeFileSync(path.join(dir, 'other.dat'), dat);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('skips a missing sample by default and stores NaN with --missing nan', async () => {
    const db = await Database.open(null);
    try {
      const conn = connectionOver(db);
      const t0 = BigInt(Date.UTC(2020, 0, 1)) * 1_000_000n;
      const skip = await importComtrade(conn, path.join(dir, 'r.cfg'), { collection: 'skip' });
      assert.equal(skip.points, 3 + 4);
      assert.equal(skip.streams[0]!.missing, 1);
      const v = await (await streamsOf(conn, 'skip')).get('V')!.valuesArray(MIN_TIME, MAX_TIME - 1n);
      assert.deepEqual([...v.times], [t0, t0 + 1_000_000n, t0 + 3_000_000n]);
      assert.deepEqual([...v.values], [6, 11, 21]);
      const trip = await (await streamsOf(conn, 'skip')).get('Trip')!.valuesArray(MIN_TIME, MAX_TIME - 1n);
      assert.deepEqual([...trip.values], [0, 1, 0, 1]);

      await importComtrade(conn, path.join(dir, 'r.cfg'), { collection: 'nan', missing: 'nan' });
      const n = await (await streamsOf(conn, 'nan')).get('V')!.valuesArray(MIN_TIME, MAX_TIME - 1n);
      assert.deepEqual([...n.values], [6, 11, Number.NaN, 21]);
    } finally {
      await db.close();
    }
  });

  it('refuses (418) to append the record of another station to a collection, creating nothing', async () => {
    const db = await Database.open(null);
    try {
      const conn = connectionOver(db);
      await importComtrade(conn, path.join(dir, 'r.cfg'), { collection: 'c' });
      await assert.rejects(
        importComtrade(conn, path.join(dir, 'other.cfg'), { collection: 'c' }),
        (e) => isDbError(e, 418) && /c\/V holds station "Sub A" channel "A1", not "Sub B" "A1"/.test(e.message),
      );
      assert.equal((await conn.streamsInCollection('c', { isPrefix: false })).length, 2);
      const again = await importComtrade(conn, path.join(dir, 'r.cfg'), { collection: 'c', merge: 'replace' });
      assert.ok(again.streams.every((s) => !s.created));
      const v = await (await streamsOf(conn, 'c')).get('V')!.valuesArray(MIN_TIME, MAX_TIME - 1n);
      assert.equal(v.times.length, 3);
    } finally {
      await db.close();
    }
  });
});

/**
 * Import → export round trips in-process (one in-memory database for the file): CSV and Arrow
 * files come back bit-for-bit, NDJSON keeps every ns, windows match the stored statistics.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { connectionOver, rawToArrow } from '../client/index.ts';
import { Database } from '../db/database.ts';
import { type ExportOptions, exactNumber, exportStreams, parseWidth } from './export.ts';
import { importArrow, importCsv } from './import.ts';

let db: Database;
let dir: string;

/** Run an export into memory. */
async function exported(idents: string[], o: ExportOptions): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (b: Buffer) => parts.push(b));
  await exportStreams(connectionOver(db), idents, o, out);
  out.end();
  return Buffer.concat(parts);
}

const create = (collection: string, name: string, allowNonFinite = false) => ({
  create: { collection, tags: { name }, annotations: {}, allowNonFinite },
});

/** Awkward doubles and times: exact binary fractions, subnormals, -0, extremes, pre-1970, duplicates. */
const TIMES = [
  -1_000_000_000_123n,
  0n,
  1n,
  1_355_287_855_900_000_001n,
  1_355_287_855_900_000_001n,
  3_000_000_000_000_000_000n,
];
const VALUES = [0.1 + 0.2, -0, 5e-324, Number.MAX_VALUE, -123456.789, 2.959];

describe('export', () => {
  before(async () => {
    db = await Database.open(null, { background: false });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-export-'));
  });
  after(async () => {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a CSV import exports to the same points, and that export re-imports to a byte-identical file', async () => {
    const src = path.join(dir, 'src.csv');
    const lines = TIMES.map((t, i) => `${t};${exactNumber(VALUES[i]!)};extra`);
    fs.writeFileSync(src, `ts;v;note\r\n${lines.join('\r\n')}\r\n`);
    const r = await importCsv(db, src, create('rt', 'csv'), {
      quiet: true,
      delimiter: ';',
      timeColumn: 'ts',
      valueColumn: '1',
    });
    assert.equal(r.points, 6);
    const first = await exported(['rt/csv'], { format: 'csv' });
    const rows = first.toString().trimEnd().split('\n');
    assert.equal(rows[0], 'time,time_iso,value');
    assert.deepEqual(
      rows.slice(1).map((l) => l.split(',')),
      TIMES.map((t, i) => [String(t), expectIso(t), exactNumber(VALUES[i]!)]),
    );
    assert.equal(rows[2], '0,1970-01-01T00:00:00.000000000Z,-0');

    const again = path.join(dir, 'again.csv');
    fs.writeFileSync(again, first);
    await importCsv(db, again, create('rt', 'csv2'), { quiet: true });
    assert.deepEqual(await exported(['rt/csv2'], { format: 'csv' }), first);
  });

  test('an Arrow import exports to an Arrow file with the identical columns', async () => {
    const src = path.join(dir, 'src.arrow');
    fs.writeFileSync(
      src,
      tableToIPC(rawToArrow({ times: BigInt64Array.from(TIMES), values: Float64Array.from(VALUES) }), 'file'),
    );
    await importArrow(db, src, create('rt', 'arrow'), { quiet: true });
    for (const ipc of ['file', 'stream'] as const) {
      const t = tableFromIPC(await exported(['rt/arrow'], { format: 'arrow', ipc }));
      assert.deepEqual(
        t.schema.fields.map((f) => `${f.name}:${f.type}`),
        ['time:Timestamp<NANOSECOND, UTC>', 'value:Float64'],
      );
      assert.deepEqual([...(t.getChild('time')!.data[0]!.values as BigInt64Array)], TIMES);
      const values = t.getChild('value')!.toArray() as Float64Array;
      assert.deepEqual([...values].map(exactNumber), VALUES.map(exactNumber));
    }
  });

  test('an Arrow stream with int64 ns and float32 values imports exactly', async () => {
    const { Table, vectorFromArray, Int64, Float32 } = await import('apache-arrow');
    const table = new Table({
      time: vectorFromArray([10n, 20n, 30n], new Int64()),
      value: vectorFromArray([1.5, 0.1, -2], new Float32()),
    });
    const src = path.join(dir, 'f32.arrows');
    fs.writeFileSync(src, tableToIPC(table, 'stream'));
    await importArrow(db, src, create('rt', 'f32'), { quiet: true });
    const csv = (await exported(['rt/f32'], { format: 'csv' })).toString();
    assert.match(csv, /^20,1970-01-01T00:00:00\.000000020Z,0\.10000000149011612$/m); // float32(0.1), exactly
  });

  test('NDJSON keeps every ns in a string, and NaN stays NaN in streams that allow it', async () => {
    const src = path.join(dir, 'nan.csv');
    fs.writeFileSync(src, 'time,value\n2024-01-01T00:00:00.000000001Z,NaN\n9007199254740993,-Infinity\n');
    await importCsv(db, src, create('rt', 'nan', true), { quiet: true });
    const lines = (await exported(['rt/nan'], { format: 'json' })).toString().trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l)),
      [
        { time: '9007199254740993', value: '-Infinity' },
        { time: '1704067200000000001', value: 'NaN' },
      ],
    );
    const csv = (await exported(['rt/nan'], { format: 'csv' })).toString();
    assert.match(csv, /,NaN\n$/);
  });

  test('several streams follow one another with a stream column', async () => {
    const csv = (await exported(['rt/f32', 'rt/nan'], { format: 'csv', end: 100n })).toString().split('\n');
    assert.equal(csv[0], 'stream,time,time_iso,value');
    assert.deepEqual(
      csv.slice(1, -1).map((l) => l.split(',')[0]),
      ['rt/f32', 'rt/f32', 'rt/f32'],
    );
  });

  test('windows export the statistics, whole windows from the first point to the last', async () => {
    const src = path.join(dir, 'win.csv');
    const rows = Array.from({ length: 100 }, (_, i) => `${1_000 + i * 10},${i}`);
    fs.writeFileSync(src, `time,value\n${rows.join('\n')}\n`);
    await importCsv(db, src, create('rt', 'win'), { quiet: true });
    const byWidth = (await exported(['rt/win'], { format: 'json', width: 250n })).toString().trimEnd().split('\n');
    assert.deepEqual(
      byWidth.map((l) => JSON.parse(l)),
      [0, 1, 2, 3].map((k) => {
        const vals = Array.from({ length: 25 }, (_, j) => k * 25 + j);
        const mean = vals.reduce((a, b) => a + b) / 25;
        const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / 25);
        return { time: String(1_000 + k * 250), min: k * 25, mean, max: k * 25 + 24, count: 25, stddev: sd };
      }),
    );
    const aligned = (await exported(['rt/win'], { format: 'csv', pointWidth: 10 })).toString().trimEnd().split('\n');
    assert.equal(aligned[0], 'time,time_iso,min,mean,max,count,stddev');
    assert.deepEqual(
      aligned.slice(1).map((l) => l.split(',')[0]),
      ['0', '1024'],
    ); // 1000 … 1990
    assert.deepEqual(
      aligned.slice(1).map((l) => Number(l.split(',')[5])),
      [3, 97],
    );
    const arrow = tableFromIPC(await exported(['rt/win'], { format: 'arrow', pointWidth: 10 }));
    assert.deepEqual([...(arrow.getChild('count')!.toArray() as BigUint64Array)], [3n, 97n]);
  });

  test('an empty range still writes a CSV header and a valid Arrow file', async () => {
    assert.equal(
      (await exported(['rt/win'], { format: 'csv', start: 0n, end: 10n })).toString(),
      'time,time_iso,value\n',
    );
    assert.equal(tableFromIPC(await exported(['rt/win'], { format: 'arrow', start: 0n, end: 10n })).numRows, 0);
  });

  test('a version pins the export to that snapshot', async () => {
    const s = (await connectionOver(db).streams('rt/win')).streams[0]!;
    const before = await s.version();
    await s.insert([[5_000n, 42]]);
    const csv = (await exported(['rt/win'], { format: 'csv', versions: [before] })).toString();
    assert.equal(csv.trimEnd().split('\n').length, 101);
  });

  test('re-running an import after a crash left a prefix stores every point exactly once', async () => {
    const src = path.join(dir, 'rerun.csv');
    const rows = ['time,value', '1,1', '2,2', '2,2.5', '3,3', '4,4']; // time 2 repeats
    fs.writeFileSync(src, `${rows.join('\n')}\n`);
    await importCsv(db, src, create('rt', 'clean'), { quiet: true });
    const clean = await exported(['rt/clean'], { format: 'csv' });
    // The crash: only the first batch (here the first three points) was stored.
    const partial = await connectionOver(db).create({ collection: 'rt', tags: { name: 'crashed' } });
    await partial.insert([
      [1n, 1],
      [2n, 2],
      [2n, 2.5],
    ]);
    await importCsv(db, src, { stream: 'rt/crashed' }, { quiet: true, merge: 'equal' });
    assert.deepEqual(await exported(['rt/crashed'], { format: 'csv' }), clean);
    await importCsv(db, src, { stream: 'rt/crashed' }, { quiet: true, merge: 'equal' }); // and again: no change
    assert.deepEqual(await exported(['rt/crashed'], { format: 'csv' }), clean);
  });

  test("--flags exports each point's quality flags exactly in csv, json and arrow", async () => {
    // More points than one Arrow batch and one insert batch, so several chunks and batches meet.
    const n = 70_000;
    const times = BigInt64Array.from({ length: n }, (_, i) => 1_355_287_855_000_000_000n + BigInt(i) * 20_000_000n);
    const values = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3 + i / 7);
    const flags = Uint32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : (i * 2_654_435_761) >>> 0));
    flags[1] = 0xffff_ffff;
    const s = await connectionOver(db).create({ collection: 'rt', tags: { name: 'flagged' } });
    await s.insert({ times, values, flags });

    const csv = (await exported(['rt/flagged'], { format: 'csv', flags: true })).toString().trimEnd().split('\n');
    assert.equal(csv[0], 'time,time_iso,value,flags');
    const rows = csv.slice(1).map((l) => l.split(','));
    assert.equal(rows.length, n);
    assert.deepEqual(
      BigInt64Array.from(rows, (r) => BigInt(r[0]!)),
      times,
    );
    assert.deepEqual(
      Float64Array.from(rows, (r) => Number(r[2])),
      values,
    );
    assert.deepEqual(
      Uint32Array.from(rows, (r) => Number(r[3])),
      flags,
    );

    const json = (await exported(['rt/flagged'], { format: 'json', flags: true })).toString().trimEnd().split('\n');
    const objs = json.map((l) => JSON.parse(l) as { time: string; value: number; flags: number });
    assert.deepEqual(
      BigInt64Array.from(objs, (o) => BigInt(o.time)),
      times,
    );
    assert.deepEqual(
      Float64Array.from(objs, (o) => o.value),
      values,
    );
    assert.deepEqual(
      Uint32Array.from(objs, (o) => o.flags),
      flags,
    );

    const table = tableFromIPC(await exported(['rt/flagged'], { format: 'arrow', flags: true }));
    assert.deepEqual(
      table.schema.fields.map((f) => [f.name, String(f.type)]),
      [
        ['time', 'Timestamp<NANOSECOND, UTC>'],
        ['value', 'Float64'],
        ['flags', 'Uint32'],
      ],
    );
    const col = <T>(name: string) => table.getChild(name)!.toArray() as T;
    assert.deepEqual(BigInt64Array.from(col<BigInt64Array>('time')), times);
    assert.deepEqual(Float64Array.from(col<Float64Array>('value')), values);
    assert.deepEqual(Uint32Array.from(col<Uint32Array>('flags')), flags);
  });

  test('--flags gives 0 for points stored without flags, and is refused for windows', async () => {
    const csv = (await exported(['rt/clean'], { format: 'csv', flags: true })).toString().trimEnd().split('\n');
    assert.equal(csv[0], 'time,time_iso,value,flags');
    assert.deepEqual(
      csv.slice(1).map((l) => l.split(',')[3]),
      csv.slice(1).map(() => '0'),
    );
    assert.equal(csv.length, 6);
    await assert.rejects(
      exported(['rt/flagged'], { format: 'csv', flags: true, pointWidth: 30 }),
      /--flags exports raw points only/,
    );
    await assert.rejects(
      exported(['rt/flagged'], { format: 'arrow', flags: true, width: 1_000n }),
      /--flags exports raw points only/,
    );
  });

  test('durations parse exactly', () => {
    assert.equal(parseWidth('1.5s'), 1_500_000_000n);
    assert.equal(parseWidth('250'), 250n);
    assert.equal(parseWidth('2h'), 7_200_000_000_000n);
    assert.throws(() => parseWidth('1.5ns'), /whole number of ns/);
    assert.throws(() => parseWidth('5 minutes'), /not a duration/);
  });
});

function expectIso(t: bigint): string {
  const ms = t >= 0n ? t / 1_000_000n : -((-t + 999_999n) / 1_000_000n);
  const sub = t - ms * 1_000_000n;
  return `${new Date(Number(ms)).toISOString().slice(0, 23)}${String(sub).padStart(6, '0')}Z`;
}

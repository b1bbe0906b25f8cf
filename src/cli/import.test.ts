/**
 * `arbor import` end to end: the real CLI in child processes, on the real OpenPMU recordings and on
 * a CSV file with bad rows. Slow (each command opens the database), so the cases share one data
 * directory.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, mock, test } from 'node:test';
import { sharedDataDir } from '../../test/shared-data.ts';
import { Database } from '../db/database.ts';
import { formatReport, importCsv } from './import.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PMU_DIR = sharedDataDir('openpmu-rio-2012');
const PMU_FILES = ['2012-12-12_KTH01.csv', '2012-12-07_KTH01.csv'].map((f) => path.join(PMU_DIR, f));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `arbor ARGS --data DIR` as a child process. */
function arbor(dir: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args, '--data', dir],
      { cwd: ROOT, maxBuffer: 64 << 20, timeout: 300_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ok(dir: string, ...args: string[]): Promise<string> {
  const r = await arbor(dir, ...args);
  assert.equal(r.code, 0, `arbor ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** A decimal as the shortest text for the same value: "92.410" → "92.41", "-0.000" → "-0". */
const canonical = (text: string): string => (text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text);

/**
 * An independent reading of an OpenPMU log (not the importer's code): per frame, the exact time in
 * ns and the three value texts as written.
 */
function parsePmu(file: string): { time: bigint; texts: string[] }[] {
  const [y, m, d] = path.basename(file).slice(0, 10).split('-').map(Number);
  const midnight = BigInt(Date.UTC(y!, m! - 1, d!)) * 1_000_000n;
  const frames: { time: bigint; texts: string[] }[] = [];
  for (const sentence of fs.readFileSync(file, 'latin1').split('\r')) {
    if (!sentence.startsWith('$')) continue;
    const f = sentence.split('*')[0]!.split(',');
    const [sec, frac = ''] = f[2]!.split('.');
    frames.push({ time: midnight + BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0')), texts: f.slice(3, 6) });
  }
  return frames;
}

describe('arbor import (the real CLI)', () => {
  it('has the OpenPMU recordings to import (shared/data; set ARBOR_SHARED_DATA when elsewhere)', () => {
    assert.ok(fs.existsSync(PMU_FILES[0]!), `missing ${PMU_FILES[0]}`);
  });
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-import-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('both OpenPMU logs import and export back to the same times and value texts', async () => {
    const first = await ok(dir, 'import', 'openpmu', PMU_FILES[0]!, '--collection', 'pmu/kth01');
    assert.match(first, /^imported 168174 points into 3 streams from 56058 rows/);
    assert.match(first, /pmu\/kth01\/frequency {2}56058 points \(created\)/);
    const second = await ok(dir, 'import', 'openpmu', PMU_FILES[1]!, '--collection', 'pmu/kth01');
    assert.match(second, /^imported 1728 points into 3 streams/);
    assert.doesNotMatch(second, /created/); // appended to the same three streams

    // Both days, in time order (the files do not overlap; equal times keep file order).
    const frames = [...parsePmu(PMU_FILES[1]!), ...parsePmu(PMU_FILES[0]!)];
    assert.equal(frames.length, 56_634);
    for (const [k, name] of ['magnitude', 'frequency', 'angle'].entries()) {
      const out = path.join(dir, `${name}.csv`);
      await ok(dir, 'export', `pmu/kth01/${name}`, '--format', 'csv', '--out', out);
      const lines = fs.readFileSync(out, 'utf8').split('\n');
      assert.equal(lines[0], 'time,time_iso,value');
      assert.equal(lines.at(-1), '');
      const rows = lines.slice(1, -1);
      assert.equal(rows.length, frames.length, name);
      for (let i = 0; i < rows.length; i++) {
        const [t, iso, v] = rows[i]!.split(',');
        const want = frames[i]!;
        const text = want.texts[k]!;
        if (t !== String(want.time) || v !== canonical(text) || Number(v) !== Number(text)) {
          assert.fail(`${name} row ${i + 1}: exported ${rows[i]}, source ${want.time} ${text}`);
        }
        assert.ok(iso!.endsWith('Z'));
      }
    }
  });

  test('a CSV with a bad time on line 7 and NaN on line 9 is refused whole, naming both lines', async () => {
    const uuid = (await ok(dir, 'create', '--collection', 'lab', '--name', 'bad', '--unit', 'V')).trim();
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    const csv = path.join(dir, 'bad.csv');
    const rows = ['time,value'];
    for (let line = 2; line <= 12; line++) {
      const t = line === 7 ? '2024-13-01T00:00:00Z' : `2024-01-01T00:00:${String(line).padStart(2, '0')}Z`;
      rows.push(`${t},${line === 9 ? 'NaN' : line / 4}`);
    }
    fs.writeFileSync(csv, `${rows.join('\n')}\n`);
    const r = await arbor(dir, 'import', 'csv', csv, '--stream', 'lab/bad');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /2 bad lines, nothing was imported/);
    assert.match(r.stderr, /line 7: time "2024-13-01T00:00:00Z" is not an ISO-8601/);
    assert.match(r.stderr, /line 9: value "NaN" is not finite/);
    assert.match(r.stderr, /\(438 InvalidParameter\)/);
    const info = JSON.parse(await ok(dir, 'info', uuid, '--json')) as { points: number; version: number };
    assert.equal(info.points, 0);
    assert.equal(info.version, 10); // no insert happened at all
  });

  test('errors name the problem and exit 1', async () => {
    const r = await arbor(dir, 'export', 'nosuch/stream', '--format', 'csv');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no stream named "stream" in collection "nosuch" \(404 NoSuchStream\)/);
    const u = await arbor(dir, 'import', 'csv', 'x.csv');
    assert.equal(u.code, 1);
    assert.match(u.stderr, /give --stream S/);
  });
});

describe('arbor import progress', () => {
  test('a multi-MiB CSV shows parse and insert progress on stderr, then a summary with the row count', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-import-progress-'));
    const db = await Database.open(null, { background: false });
    const n = 200_000; // ~5 MiB: several 1 MiB read chunks, so several parse updates
    const file = path.join(dir, 'big.csv');
    const rows = ['time,value'];
    for (let i = 0; i < n; i++) rows.push(`${1_700_000_000_000_000_000 + i * 1_000_000},${(i % 1000) / 8}`);
    fs.writeFileSync(file, `${rows.join('\n')}\n`);
    assert.ok(fs.statSync(file).size > 3 << 20);
    // Off a terminal a progress line is due every 5 s. A clock that moves 6 s per reading makes
    // every update due, without a test that depends on how fast this machine is.
    let now = Date.now();
    const clock = mock.method(Date, 'now', () => (now += 6_000));
    const tty = process.stderr.isTTY;
    process.stderr.isTTY = false;
    let err = '';
    const write = mock.method(process.stderr, 'write', (chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    let report: Awaited<ReturnType<typeof importCsv>>;
    try {
      report = await importCsv(db, file, {
        create: { collection: 'lab', tags: { name: 'big' }, annotations: {}, allowNonFinite: false },
      });
    } finally {
      write.mock.restore();
      clock.mock.restore();
      process.stderr.isTTY = tty;
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const line = /^(parse big\.csv|insert): (\d+\.\d)% \((\d+) points, [\d.]+[kMG]? pts\/s, ETA \d+:\d\d\)$/;
    const lines = err.trimEnd().split('\n');
    const parsed = lines.map((l) => {
      const m = line.exec(l);
      assert.ok(m, `progress line: ${JSON.stringify(l)}`);
      return { label: m[1]!, percent: Number(m[2]), points: Number(m[3]) };
    });
    const parse = parsed.filter((p) => p.label !== 'insert');
    const insert = parsed.filter((p) => p.label === 'insert');
    assert.ok(parse.length > 1, `several parse lines:\n${err}`);
    for (let i = 1; i < parse.length; i++) {
      assert.ok(parse[i]!.percent >= parse[i - 1]!.percent && parse[i]!.points >= parse[i - 1]!.points);
    }
    assert.equal(parse.at(-1)!.percent, 100);
    assert.ok(parse.every((p) => p.points <= n));
    // One insert batch (≤ 1M points): one line, all n points.
    assert.deepEqual(insert, [{ label: 'insert', percent: 100, points: n }]);
    assert.deepEqual([...new Set(parsed.map((p) => p.label))], ['parse big.csv', 'insert'], 'parse lines come first');
    const summary = formatReport(report);
    assert.match(summary, new RegExp(`^imported ${n} points into 1 stream from ${n} rows of `));
    assert.match(summary, new RegExp(`\n {2}[0-9a-f-]{36} {2}lab/big {2}${n} points \\(created\\)\n$`));
  });
});

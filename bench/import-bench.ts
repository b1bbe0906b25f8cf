/**
 * `arbor import` throughput (a program, not a test), in-process through the same functions the
 * command runs (src/cli/import.ts), on an on-disk database in a temp directory:
 *
 * - openpmu: both OpenPMU recordings (56 634 frames → 169 902 points in 3 streams), repeated into
 *   fresh collections; parse (read + validate every sentence) and insert (batches of ≤ 1M points,
 *   durable) timed separately.
 * - csv: the Rio file's frequency channel tiled to --rows rows (time-shifted copies) written as a
 *   `time,value` CSV, imported into a fresh stream; parse and insert separately.
 *
 * Prints a table and writes JSON (default .bench/import.json). Every import is checked (point
 * counts), so a fast wrong answer cannot pass. Figures on a shared machine vary; the load average
 * is recorded with them.
 *
 *   node --import tsx bench/import-bench.ts [--reps N] [--rows N] [--out FILE]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ImportReport, importCsv, importOpenPmu } from '../src/cli/import.ts';
import { Database } from '../src/db/database.ts';
import { sharedDataDir } from '../test/shared-data.ts';
import { readOpenPmu } from './workload.ts';

const argv = process.argv.slice(2);
const opt = (k: string, d: number) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const REPS = opt('--reps', 5);
const ROWS = opt('--rows', 1_000_000);
const OUT = argv.includes('--out') ? argv[argv.indexOf('--out') + 1]! : '.bench/import.json';
const PMU_DIR = sharedDataDir('openpmu-rio-2012');
const PMU_FILES = ['2012-12-07_KTH01.csv', '2012-12-12_KTH01.csv'].map((f) => path.join(PMU_DIR, f));

const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench answer check failed: ${what}`);
}

interface Row {
  readonly case: string;
  readonly points: number;
  readonly parse_ms: number;
  readonly insert_ms: number;
  readonly parse_pts_s: number;
  readonly insert_pts_s: number;
  readonly total_pts_s: number;
}

function row(name: string, reports: ImportReport[]): Row {
  const parse = median(reports.map((r) => r.parseMs));
  const insert = median(reports.map((r) => r.insertMs));
  const points = reports[0]!.points;
  return {
    case: name,
    points,
    parse_ms: parse,
    insert_ms: insert,
    parse_pts_s: points / (parse / 1000),
    insert_pts_s: points / (insert / 1000),
    total_pts_s: points / ((parse + insert) / 1000),
  };
}

/** The Rio frequency channel tiled to `rows` rows, each copy shifted past the previous one. */
function writeTiledCsv(file: string, rows: number): void {
  const pmu = readOpenPmu(PMU_FILES[1]!);
  const n = pmu.times.length;
  const span = pmu.times[n - 1]! - pmu.times[0]! + 100_000_000n;
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, 'time,value\n');
    let text = '';
    for (let i = 0; i < rows; i++) {
      const copy = BigInt(Math.floor(i / n));
      text += `${pmu.times[i % n]! + copy * span},${String(pmu.frequency[i % n])}\n`;
      if (text.length > 1 << 20) {
        fs.writeSync(fd, text);
        text = '';
      }
    }
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

const loadBefore = load();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-import-bench-'));
const rows: Row[] = [];
try {
  const db = await Database.open(path.join(dir, 'data'), { background: false });
  try {
    const frames = PMU_FILES.map((f) => readOpenPmu(f).times.length).reduce((a, b) => a + b);
    const pmu: ImportReport[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const r = await importOpenPmu(db, PMU_FILES, { collection: `bench/pmu${rep}`, quiet: true });
      check(
        r.points === frames * 3 && r.streams.every((s) => s.points === frames && s.created),
        'openpmu point counts',
      );
      pmu.push(r);
    }
    rows.push(row(`openpmu, 2 files, ${frames} frames × 3 streams`, pmu));

    const csv = path.join(dir, 'tiled.csv');
    writeTiledCsv(csv, ROWS);
    const csvReports: ImportReport[] = [];
    for (let rep = 0; rep < Math.max(1, Math.min(REPS, 3)); rep++) {
      const r = await importCsv(
        db,
        csv,
        { create: { collection: 'bench/csv', tags: { name: `f${rep}` }, annotations: {}, allowNonFinite: false } },
        { quiet: true },
      );
      check(r.points === ROWS, 'csv point count');
      csvReports.push(r);
    }
    rows.push(row(`csv, ${ROWS} rows (${(fs.statSync(csv).size / 1e6).toFixed(1)} MB)`, csvReports));
  } finally {
    await db.close();
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
const loadAfter = load();

const fmt = (v: number) => Math.round(v).toLocaleString('en');
console.log(
  `arbor import bench (${REPS} reps, medians), load avg before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}, ${os.cpus().length} CPUs`,
);
console.log(
  `${'case'.padEnd(48)} ${'points'.padStart(10)} ${'parse ms'.padStart(9)} ${'insert ms'.padStart(9)} ${'parse pts/s'.padStart(12)} ${'insert pts/s'.padStart(12)} ${'total pts/s'.padStart(12)}`,
);
for (const r of rows) {
  console.log(
    `${r.case.padEnd(48)} ${fmt(r.points).padStart(10)} ${r.parse_ms.toFixed(0).padStart(9)} ${r.insert_ms.toFixed(0).padStart(9)} ` +
      `${fmt(r.parse_pts_s).padStart(12)} ${fmt(r.insert_pts_s).padStart(12)} ${fmt(r.total_pts_s).padStart(12)}`,
  );
}
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(
  OUT,
  `${JSON.stringify({ bench: 'import', reps: REPS, loadavg: { before: loadBefore, after: loadAfter }, cpus: os.cpus().length, node: process.version, rows }, null, 2)}\n`,
);
console.log(`wrote ${OUT}`);

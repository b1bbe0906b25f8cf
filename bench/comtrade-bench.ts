/**
 * COMTRADE import throughput (a program, not a test), in-process through the function
 * `arbor import comtrade` runs (src/ingest/comtrade/import-comtrade.ts), on every record of
 * shared/data/comtrade-*, into an on-disk database in a temp directory:
 *
 * - parse: read + validate the cfg and dat, compute every sample time, scale every channel
 *   (readComtrade + channelStreams), median of --reps runs;
 * - import: parse + create the streams + insert every point durably, each rep into a fresh
 *   collection, median of --reps runs.
 *
 * Every run is checked (sample and point counts). Prints a table and writes JSON (default
 * .bench/comtrade.json) with the load average, since figures on a shared machine vary.
 *
 *   node --import tsx bench/comtrade-bench.ts [--reps N] [--out FILE]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectionOver } from '../src/client/index.ts';
import { Database } from '../src/db/database.ts';
import { readComtrade } from '../src/ingest/comtrade/comtrade-record.ts';
import { channelStreams } from '../src/ingest/comtrade/comtrade-streams.ts';
import { importComtrade } from '../src/ingest/comtrade/import-comtrade.ts';
import { sharedDataDir } from '../test/shared-data.ts';

const argv = process.argv.slice(2);
const REPS = argv.includes('--reps') ? Number(argv[argv.indexOf('--reps') + 1]) : 5;
const OUT = argv.includes('--out') ? argv[argv.indexOf('--out') + 1]! : '.bench/comtrade.json';
const FILES = [
  path.join(sharedDataDir('comtrade-hydro-2007'), 'test1.cfg'),
  path.join(sharedDataDir('comtrade-hydro-2007'), 'test2.cfg'),
  path.join(sharedDataDir('comtrade-hydro-2007'), 'test3.cfg'),
  path.join(sharedDataDir('comtrade-relay-fixtures'), 'keating_1999.CFG'),
  path.join(sharedDataDir('comtrade-relay-fixtures'), 'ascii_1991.cfg'),
];

const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench answer check failed: ${what}`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-comtrade-bench-'));
const loadBefore = load();
const rows: Record<string, number | string>[] = [];
const db = await Database.open(path.join(dir, 'data'), { background: false });
try {
  const conn = connectionOver(db);
  // One untimed pass first, so the first record does not pay for the JIT's warm-up.
  for (const file of FILES) channelStreams(readComtrade(file));
  for (const file of FILES) {
    const parse: number[] = [];
    let points = 0;
    let bytes = 0;
    let samples = 0;
    let format = '';
    for (let r = 0; r < REPS; r++) {
      const t0 = performance.now();
      const rec = readComtrade(file);
      const streams = channelStreams(rec);
      parse.push(performance.now() - t0);
      points = streams.reduce((n, s) => n + s.times.length, 0);
      check(points === rec.dat.count * streams.length, `${file}: every sample of every channel`);
      bytes = rec.bytes;
      samples = rec.dat.count;
      format = `${rec.cfg.revision} ${rec.cfg.format}`;
    }
    const total: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const t0 = performance.now();
      const rep = await importComtrade(conn, file, { collection: `bench/${path.basename(file)}/${r}` });
      total.push(performance.now() - t0);
      check(rep.points === points && rep.streams.every((s) => s.created), `${file}: import ${r}`);
    }
    const p = median(parse);
    const t = median(total);
    rows.push({
      record: path.basename(file),
      format,
      samples,
      points,
      bytes,
      parse_ms: Number(p.toFixed(1)),
      parse_pts_s: Math.round(points / (p / 1000)),
      parse_mb_s: Number((bytes / 1e6 / (p / 1000)).toFixed(1)),
      import_ms: Number(t.toFixed(1)),
      import_pts_s: Math.round(points / (t / 1000)),
    });
  }
} finally {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
const loadAfter = load();
console.log(`COMTRADE import, median of ${REPS} (load before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')})`);
console.table(rows);
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(
  OUT,
  `${JSON.stringify({ date: new Date().toISOString(), reps: REPS, cpus: os.cpus().length, loadBefore, loadAfter, rows }, null, 2)}\n`,
);
console.log(`wrote ${OUT}`);

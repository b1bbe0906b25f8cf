/**
 * C37.118 throughput (a program, not a test) on the captures of ../shared/data/pmu-stream-captures:
 *
 * - decode: each pcap read → TCP reassembly / UDP → frames → CRC + decode (CFG-driven), repeated
 *   --reps times; frames/s and points/s (points = the streams a data frame feeds: 2 per phasor,
 *   FREQ, DFREQ, analogs, digital words), median of the repetitions.
 * - ingest: one replay of c37_pmu_clean.pcap (4 707 frames × 25 streams) into a fresh on-disk
 *   database through the same writer `arbor ingest c37118 --pcap` uses (STAT as flags), with the
 *   size of the tree's blocks per stored point.
 *
 * Every run checks its answer (frame counts from the captures' README), so a fast wrong answer
 * cannot pass. Prints a table and writes JSON (default .bench/c37118.json) with the load average.
 *
 *   node --import tsx bench/c37118-bench.ts [--reps N] [--smoke] [--out FILE]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DbError } from '../src/core/errors.ts';
import { open } from '../src/index.ts';
import { channelsOf } from '../src/ingest/c37118/channel-map.ts';
import { C37Writer } from '../src/ingest/c37118/ingest-writer.ts';
import { pcapFrames } from '../src/ingest/c37118/pcap-frames.ts';
import { replayPcap } from '../src/ingest/c37118/pcap-replay.ts';
import { C37Session } from '../src/ingest/c37118/session.ts';
import { sharedDataDir } from '../test/shared-data.ts';

const argv = process.argv.slice(2);
const smoke = argv.includes('--smoke');
const opt = (k: string, d: number) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const REPS = opt('--reps', smoke ? 1 : 5);
const OUT = argv.includes('--out')
  ? argv[argv.indexOf('--out') + 1]!
  : smoke
    ? '.bench/c37118-smoke.json'
    : '.bench/c37118.json';
const DIR = sharedDataDir('pmu-stream-captures');
/** Data frames per capture (README). */
const EXPECT: Record<string, number> = {
  'C37.118_1PMU_TCP.pcap': 252,
  'C37.118_1PMU_UDP.pcap': 356,
  'C37.118_2PMUsInSync_TCP.pcap': 3002,
  'C37.118_4in1PMU_TCP.pcap': 1342,
  'c37_pmu_clean.pcap': 4707,
  'c37_pmu_unclean.pcap': 4707,
  'c37_1100_fullclean.pcap': 422,
  'c37_1100_clean_tcp.pcap': 425,
  'c37118_1100_unclean.pcap': 425,
};
const FILES = smoke ? ['C37.118_4in1PMU_TCP.pcap', 'c37_1100_fullclean.pcap'] : Object.keys(EXPECT);

const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench answer check failed: ${what}`);
}

interface Row {
  readonly case: string;
  readonly bytes: number;
  readonly frames: number;
  readonly points: number;
  readonly ms: number;
  readonly framesPerSec: number;
  readonly pointsPerSec: number;
}

function decodeOnce(bytes: Uint8Array): { frames: number; points: number } {
  const s = new C37Session();
  const perFrame = new Map<number, number>();
  let points = 0;
  for (const f of pcapFrames(bytes)) {
    const d = s.decode(f.bytes, f.offset);
    if (d instanceof DbError) continue;
    if (d.type === 'data') {
      let n = perFrame.get(d.idcode);
      if (n === undefined) {
        n = channelsOf(s.configs.get(d.idcode)!).length;
        perFrame.set(d.idcode, n);
      }
      points += n;
    } else if (d.type !== 'command' && d.type !== 'header') perFrame.delete(d.idcode);
  }
  return { frames: s.counts.data, points };
}

const rows: Row[] = [];
const loadBefore = load();
let totalFrames = 0;
let totalPoints = 0;
let totalMs = 0;
for (const name of FILES) {
  const file = path.join(DIR, name);
  check(fs.existsSync(file), `capture ${file} present`);
  const bytes = fs.readFileSync(file);
  decodeOnce(bytes); // warm-up
  const times: number[] = [];
  let r = { frames: 0, points: 0 };
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    r = decodeOnce(bytes);
    times.push(performance.now() - t0);
  }
  check(r.frames === EXPECT[name], `${name}: ${r.frames} data frames, README says ${EXPECT[name]}`);
  const ms = median(times);
  totalFrames += r.frames;
  totalPoints += r.points;
  totalMs += ms;
  rows.push({
    case: `decode ${name}`,
    bytes: bytes.length,
    frames: r.frames,
    points: r.points,
    ms,
    framesPerSec: r.frames / (ms / 1000),
    pointsPerSec: r.points / (ms / 1000),
  });
}
rows.push({
  case: 'decode, all above',
  bytes: rows.reduce((s, r) => s + r.bytes, 0),
  frames: totalFrames,
  points: totalPoints,
  ms: totalMs,
  framesPerSec: totalFrames / (totalMs / 1000),
  pointsPerSec: totalPoints / (totalMs / 1000),
});

// End-to-end: replay into an on-disk database.
const ingestFile = smoke ? 'c37_1100_fullclean.pcap' : 'c37_pmu_clean.pcap';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-c37-bench-'));
let bytesPerPoint = 0;
try {
  const conn = await open(tmp);
  const w = new C37Writer(conn, { batchFrames: 5000 });
  const bytes = fs.readFileSync(path.join(DIR, ingestFile));
  const t0 = performance.now();
  const r = await replayPcap(bytes, w);
  await w.close();
  const ms = performance.now() - t0;
  await conn.close();
  check(r.frames.data === EXPECT[ingestFile], `${ingestFile} replay: ${r.frames.data} frames`);
  const du = (d: string): number =>
    fs.readdirSync(d, { withFileTypes: true }).reduce((s, e) => {
      const p = path.join(d, e.name);
      return s + (e.isDirectory() ? du(p) : fs.statSync(p).size);
    }, 0);
  // The tree's blocks only: the catalog (PGlite, ~40 MB fixed) and the preallocated WAL would
  // swamp a capture of a few hundred kB.
  bytesPerPoint = du(path.join(tmp, 'blocks')) / w.counts.points;
  rows.push({
    case: `ingest ${ingestFile} (on disk, flags)`,
    bytes: bytes.length,
    frames: r.frames.data,
    points: w.counts.points,
    ms,
    framesPerSec: r.frames.data / (ms / 1000),
    pointsPerSec: w.counts.points / (ms / 1000),
  });
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (x: number) => Math.round(x).toLocaleString('en-US');
process.stdout.write(
  `\nC37.118 (${smoke ? 'smoke' : `${REPS} reps, median`}), load ${loadBefore.join(' ')}\n` +
    `${pad('case', 48)} ${'frames'.padStart(8)} ${'points'.padStart(10)} ${'ms'.padStart(9)} ${'frames/s'.padStart(12)} ${'points/s'.padStart(13)}\n` +
    rows
      .map(
        (r) =>
          `${pad(r.case, 48)} ${num(r.frames).padStart(8)} ${num(r.points).padStart(10)} ${r.ms.toFixed(1).padStart(9)} ${num(r.framesPerSec).padStart(12)} ${num(r.pointsPerSec).padStart(13)}`,
      )
      .join('\n') +
    `\nafter the ingest: ${bytesPerPoint.toFixed(2)} bytes per point in blocks/ (values + times + flags, after close)\n`,
);
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(
  OUT,
  `${JSON.stringify({ date: new Date().toISOString(), smoke, reps: REPS, load: { before: loadBefore, after: load() }, cpus: os.cpus().length, rows, bytesPerPoint }, null, 2)}\n`,
);
process.stdout.write(`wrote ${OUT}\n`);

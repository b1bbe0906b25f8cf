/**
 * Codec benchmark: bytes/point and encode/decode speed of leaf blocks on the two reference
 * workloads — the synthetic 120 Hz PMU-like stream of ../shared/peers/gen.mjs (same formula, same
 * PRNG) cut into leaves of 515 and 1024 points, and the real OpenPMU Rio recordings (magnitude,
 * frequency and angle channels) in leaves of up to 1024 points. Prints a table and writes
 * .bench/codec.json. Speeds are the best of --rounds runs, by wall clock and by CPU time (the
 * latter is steadier when other processes share the machine); compare figures from one run.
 *
 *   node --import tsx bench/codec-bench.ts [--points 1000000] [--rounds 5]
 */
import fs from 'node:fs';
import path from 'node:path';
import { describeLeaf } from '../src/codec/describe-block.ts';
import { decodeLeaf, encodeLeaf } from '../src/codec/leaf-block.ts';
import type { LeafColumns } from '../src/codec/types.ts';
import { mulberry32 } from '../src/core/random.ts';
import { sharedDataDir } from '../test/shared-data.ts';

const args = process.argv.slice(2);
const arg = (k: string, d: number): number => {
  const i = args.indexOf(k);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const POINTS = arg('--points', 1_000_000);
const ROUNDS = arg('--rounds', 5);
const PMU_DIR = process.env.PMU_DIR ?? sharedDataDir('openpmu-rio-2012');

/** Stream `s` of gen.mjs: t = T0 + i·8 333 333 ns ± 1000 ns, v = 7200 + 5·sin(2π·60.05·t + φ) + noise. */
function synthetic(n: number, s = 0): { times: BigInt64Array; values: Float64Array } {
  const T0 = 1704067200000000000n;
  const rnd = mulberry32(20240101 + s * 7919);
  const phase = rnd() * 2 * Math.PI;
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const jitter = Math.round((rnd() * 2 - 1) * 1000);
    const offNs = i * 8333333 + jitter;
    times[i] = T0 + BigInt(offNs);
    const noise = (rnd() + rnd() - 1) * 0.1;
    values[i] = 7200 + 5 * Math.sin(2 * Math.PI * 60.05 * (offNs / 1e9) + phase) + noise;
  }
  return { times, values };
}

/** The OpenPMU log: CR-separated `$KTH01,V1xx0,sec,mag,freq,angle*CS` sentences; date from the file name. */
function pmuChannels(dir: string): { name: string; times: BigInt64Array; values: Float64Array }[] {
  const channels = ['magnitude', 'frequency', 'angle'].map((name) => ({ name, t: [] as bigint[], v: [] as number[] }));
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort()) {
    const date = /^(\d{4})-(\d{2})-(\d{2})/.exec(file);
    if (!date) continue;
    const midnight = BigInt(Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]))) * 1_000_000n;
    for (const line of fs.readFileSync(path.join(dir, file), 'latin1').split(/\r\n?|\n/)) {
      const m = /^\$[^,]*,[^,]*,(\d+)\.(\d{3}),([-\d.]+),([-\d.]+),([-\d.]+)\*/.exec(line.trim());
      if (!m) continue;
      const t = midnight + (BigInt(m[1]!) * 1000n + BigInt(m[2]!)) * 1_000_000n;
      for (let c = 0; c < 3; c++) {
        channels[c]!.t.push(t);
        channels[c]!.v.push(Number(m[3 + c]));
      }
    }
  }
  return channels.map((c) => ({ name: c.name, times: BigInt64Array.from(c.t), values: Float64Array.from(c.v) }));
}

function blocks(times: BigInt64Array, values: Float64Array, size: number): LeafColumns[] {
  const out: LeafColumns[] = [];
  for (let i = 0; i < times.length; i += size) {
    out.push({ times: times.slice(i, i + size), values: values.slice(i, i + size) });
  }
  return out;
}

interface Row {
  dataset: string;
  points: number;
  blockPoints: number;
  bytesPerPoint: number;
  /** Of which: the time column, the value column (the rest is headers). */
  timeBytesPerPoint: number;
  valueBytesPerPoint: number;
  /** How often each value encoding was chosen. */
  valueEncodings: Record<string, number>;
  /** Best of the rounds, by wall clock. */
  encodeMpts: number;
  decodeMpts: number;
  /** Best of the rounds, by this process's CPU time (steadier on a shared machine). */
  encodeMptsCpu: number;
  decodeMptsCpu: number;
}

/** Milliseconds of CPU this process has used (user + system). */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Best wall and CPU milliseconds of `rounds` runs of `f`. */
function best(rounds: number, f: () => void): [number, number] {
  let wall = Number.POSITIVE_INFINITY;
  let cpu = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const w0 = performance.now();
    const c0 = cpuMs();
    f();
    cpu = Math.min(cpu, cpuMs() - c0);
    wall = Math.min(wall, performance.now() - w0);
  }
  return [wall, cpu];
}

function measure(dataset: string, leaves: LeafColumns[], blockPoints: number): Row {
  const points = leaves.reduce((s, l) => s + l.times.length, 0);
  let encoded: Uint8Array[] = leaves.map((l) => encodeLeaf(l)); // warm-up
  for (const b of encoded) decodeLeaf(b);
  const [encWall, encCpu] = best(ROUNDS, () => {
    encoded = leaves.map((l) => encodeLeaf(l));
  });
  const [decWall, decCpu] = best(ROUNDS, () => {
    for (const b of encoded) decodeLeaf(b);
  });
  // Correctness spot check, outside the timed loops.
  for (let i = 0; i < encoded.length; i += Math.max(1, Math.floor(encoded.length / 20))) {
    const d = decodeLeaf(encoded[i]!);
    const l = leaves[i]!;
    const same =
      d.times.every((t, j) => t === l.times[j]) &&
      Buffer.compare(
        Buffer.from(d.values.buffer, d.values.byteOffset, d.values.byteLength),
        Buffer.from(l.values.buffer, l.values.byteOffset, l.values.byteLength),
      ) === 0;
    if (!same) throw new Error(`${dataset}: block ${i} did not round-trip`);
  }
  const bytes = encoded.reduce((s, b) => s + b.length, 0);
  let timeBytes = 0;
  let valueBytes = 0;
  const valueEncodings: Record<string, number> = {};
  for (const b of encoded) {
    const info = describeLeaf(b);
    timeBytes += info.times.bytes;
    valueBytes += info.values.bytes;
    const name = info.values.decimals === undefined ? info.values.encoding : `decimal(${info.values.decimals})`;
    valueEncodings[name] = (valueEncodings[name] ?? 0) + 1;
  }
  return {
    dataset,
    points,
    blockPoints,
    bytesPerPoint: bytes / points,
    timeBytesPerPoint: timeBytes / points,
    valueBytesPerPoint: valueBytes / points,
    valueEncodings,
    encodeMpts: points / encWall / 1000,
    decodeMpts: points / decWall / 1000,
    encodeMptsCpu: points / encCpu / 1000,
    decodeMptsCpu: points / decCpu / 1000,
  };
}

const rows: Row[] = [];
const syn = synthetic(POINTS);
for (const size of [515, 1024])
  rows.push(measure(`synthetic 120 Hz (${size})`, blocks(syn.times, syn.values, size), size));
if (fs.existsSync(PMU_DIR)) {
  const pmu = pmuChannels(PMU_DIR);
  const all: LeafColumns[] = [];
  for (const ch of pmu) {
    const leaves = blocks(ch.times, ch.values, 1024);
    all.push(...leaves);
    rows.push(measure(`openpmu ${ch.name}`, leaves, 1024));
  }
  rows.push(measure('openpmu all channels', all, 1024));
}

const pad = (s: string, n: number): string => s.padEnd(n);
console.log(
  `${pad('dataset', 28)} ${pad('points', 8)} ${pad('B/pt', 6)} ${pad('time', 6)} ${pad('value', 6)} ${pad('enc Mpt/s', 10)} ${pad('dec Mpt/s', 10)} ${pad('(cpu enc/dec)', 14)} value encodings`,
);
for (const r of rows) {
  const encodings = Object.entries(r.valueEncodings)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');
  console.log(
    `${pad(r.dataset, 28)} ${pad(String(r.points), 8)} ${pad(r.bytesPerPoint.toFixed(3), 6)} ${pad(r.timeBytesPerPoint.toFixed(3), 6)} ${pad(r.valueBytesPerPoint.toFixed(3), 6)} ${pad(r.encodeMpts.toFixed(1), 10)} ${pad(r.decodeMpts.toFixed(1), 10)} ${pad(`${r.encodeMptsCpu.toFixed(1)}/${r.decodeMptsCpu.toFixed(1)}`, 14)} ${encodings}`,
  );
}
fs.mkdirSync('.bench', { recursive: true });
fs.writeFileSync(
  path.join('.bench', 'codec.json'),
  `${JSON.stringify({ node: process.version, rounds: ROUNDS, date: new Date().toISOString(), rows }, null, 2)}\n`,
);

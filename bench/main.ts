/**
 * `npm run bench` — every benchmark program in turn, each in its own process (so one's caches and
 * heap don't colour the next), with the arguments passed through:
 *
 *   npm run bench                 full runs (engine incl. 100M-point flatness, gRPC, import, catalog)
 *   npm run bench -- --smoke      small runs that check every answer (what CI runs)
 *   npm run bench -- --only engine,grpc
 *
 * Each program prints its table and writes JSON under .bench/.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';

const argv = process.argv.slice(2);
const smoke = argv.includes('--smoke');
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1]!.split(',') : null;
const passthrough = argv.filter((a, i) => a !== '--only' && argv[i - 1] !== '--only' && a !== '--smoke');

interface Program {
  name: string;
  file: string;
  args: string[];
  smokeArgs: string[];
  /** Run with bash instead of node (the Python client's benchmark), with these environment settings. */
  bash?: { env: Record<string, string>; smokeEnv: Record<string, string> };
}

const PROGRAMS: Program[] = [
  { name: 'engine', file: 'bench/engine-bench.ts', args: [], smokeArgs: ['--smoke'] },
  { name: 'grpc', file: 'bench/grpc-bench.ts', args: ['10', '1000000'], smokeArgs: ['2', '20000'] },
  {
    name: 'import',
    file: 'bench/import-bench.ts',
    args: [],
    smokeArgs: ['--reps', '1', '--rows', '20000', '--out', '.bench/import-smoke.json'],
  },
  {
    name: 'catalog',
    file: 'bench/catalog-bench.ts',
    args: [],
    smokeArgs: ['--streams', '2000', '--creates', '50', '--runs', '30', '--out', '.bench/catalog-smoke.json'],
  },
  {
    name: 'load',
    file: 'bench/load/fleet.ts',
    args: ['--find-max', '--step-duration', '60', '--out', '.bench/load.json'],
    smokeArgs: ['--pmus', '10', '--channels', '12', '--duration', '30', '--out', '.bench/load-smoke.json'],
  },
  { name: 'http', file: 'bench/http-bench.ts', args: [], smokeArgs: ['--smoke'] },
  { name: 'plotter', file: 'bench/plotter-bench.ts', args: [], smokeArgs: ['--smoke'] },
  { name: 'snapdb', file: 'bench/snapdb-bench.ts', args: [], smokeArgs: ['--smoke'] },
  { name: 'c37118', file: 'bench/c37118-bench.ts', args: [], smokeArgs: ['--smoke'] },
  {
    name: 'cluster',
    file: 'bench/cluster-bench.ts',
    args: [],
    smokeArgs: ['--smoke', '--nodes', '1,2', '--out', '.bench/cluster-smoke.json'],
  },
  {
    name: 'comtrade',
    file: 'bench/comtrade-bench.ts',
    args: [],
    smokeArgs: ['--reps', '1', '--out', '.bench/comtrade-smoke.json'],
  },
];

let failed = 0;
for (const p of PROGRAMS) {
  if (only && !only.includes(p.name)) continue;
  const args = smoke ? p.smokeArgs : [...p.args, ...(p.name === 'engine' ? passthrough : [])];
  process.stderr.write(
    `\n== bench ${p.name} (${args.join(' ') || 'defaults'}), load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}\n`,
  );
  const r = p.bash
    ? spawnSync('bash', [p.file], {
        stdio: 'inherit',
        env: { ...process.env, ...(smoke ? p.bash.smokeEnv : p.bash.env) },
      })
    : spawnSync(process.execPath, ['--import', 'tsx', p.file, ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench ${p.name} failed (exit ${r.status})\n`);
  }
}
process.exit(failed ? 1 : 0);

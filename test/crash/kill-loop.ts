/**
 * The SIGKILL loop: start the ingesting child, kill it at a random moment, reopen the data
 * directory, and prove that every acknowledged batch is present exactly once (count and values of
 * its time range) and that the verifier is clean. Repeat.
 *
 * This is the engine-only loop (`--mode engine`); the default mode runs the server loop of
 * server-kill-loop.ts. Either writes its tallies to .bench/crashloop.json.
 *
 *   npm run crashloop -- --cycles 100 [--dir /tmp/x] [--seed N] [--clients 4] [--min-ms 300] [--max-ms 2500]
 *                        [--check-every 2] [--full-every 10] [--compact-every 300] [--keep-versions 4]
 *   npm run crashloop -- --mode engine --cycles 100 [--dir /tmp/x] [--min-ms 50] [--max-ms 1500]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { checkEngine } from '../../src/engine/check.ts';
import { openEngineDir } from '../../src/engine/open-dir.ts';
import { firstTime, streamOf } from './ingest-child-shared.ts';
import { type ServerLoopResult, serverKillLoop } from './server-kill-loop.ts';

export interface LoopResult {
  cycles: number;
  batchesVerified: number;
  pointsVerified: number;
  lost: number;
  duplicated: number;
  problems: string[];
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ingest-child.ts');

/** Run `cycles` kill/verify cycles in `dir`. Calls `progress` after each. */
export async function killLoop(opts: {
  cycles: number;
  dir?: string;
  minMs?: number;
  maxMs?: number;
  progress?: (c: number, r: LoopResult) => void;
}): Promise<LoopResult> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-killloop-'));
  const minMs = opts.minMs ?? 50;
  const maxMs = opts.maxMs ?? 1500;
  const res: LoopResult = { cycles: 0, batchesVerified: 0, pointsVerified: 0, lost: 0, duplicated: 0, problems: [] };
  const acked: { c: number; w: number; k: number; n: number }[] = [];
  for (let c = 0; c < opts.cycles; c++) {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(c)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let ready = false;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'ready') ready = true;
      const m = /^ack (\d+) (\d+) (\d+)$/.exec(line);
      if (m) acked.push({ c, w: Number(m[1]), k: Number(m[2]), n: Number(m[3]) });
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    while (!ready && Date.now() < deadline && child.exitCode === null) await sleep(10);
    if (!ready) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`cycle ${c}: the child did not start: ${stderr.slice(-2000)}`);
    }
    await sleep(minMs + Math.random() * (maxMs - minMs));
    child.kill('SIGKILL');
    await exited;
    // Verify everything acknowledged so far, in every cycle.
    const engine = await openEngineDir(dir, { background: false });
    try {
      // Every batch acknowledged in this cycle, and all earlier ones every 10th cycle and at the end
      // (re-reading everything every cycle made the loop quadratic: minutes per cycle after 90).
      const full = c === opts.cycles - 1 || c % 10 === 9;
      for (const a of full ? acked : acked.filter((x) => x.c === c)) {
        const t0 = firstTime(a.c, a.k);
        const got = await engine.valuesArray(streamOf(a.w), t0, t0 + BigInt(a.n) * 1000n);
        if (got.times.length < a.n) res.lost += a.n - got.times.length;
        if (got.times.length > a.n) res.duplicated += got.times.length - a.n;
        for (let i = 0; i < Math.min(a.n, got.times.length); i++) {
          const want = ((a.k * 1_000_003 + i) % 1_000_000) + a.w / 10;
          if (got.times[i] !== t0 + BigInt(i) * 1000n || got.values[i] !== want) {
            res.problems.push(`cycle ${a.c} writer ${a.w} batch ${a.k} point ${i}: wrong point`);
            break;
          }
        }
      }
      if (c === opts.cycles - 1 || c % 5 === 4) {
        const report = await checkEngine(engine);
        for (const p of report.problems) res.problems.push(`check: ${p.stream} v${p.version}: ${p.what}`);
      }
    } finally {
      await engine.close();
    }
    res.cycles = c + 1;
    res.batchesVerified = acked.length;
    res.pointsVerified = acked.reduce((s, a) => s + a.n, 0);
    opts.progress?.(c, res);
    if (res.lost || res.duplicated || res.problems.length) break;
  }
  if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
  return res;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const arg = (k: string, d: number): number => {
    const i = process.argv.indexOf(k);
    return i >= 0 ? Number(process.argv[i + 1]) : d;
  };
  const str = (k: string): string | undefined => {
    const i = process.argv.indexOf(k);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const HELP = `npm run crashloop -- [options]

SIGKILL a real ArborDB under concurrent writes, restart it, and verify that every acknowledged
write is present exactly once. Repeats --cycles times; exits 1 on any loss, duplicate or problem.
Tallies go to .bench/crashloop.json.

  --mode server|engine   server (default): \`arbor serve\` + gRPC writers; engine: in-process engine child
  --cycles N             kill/verify cycles (default 100)
  --dir DIR              data directory (default: a fresh temp directory, removed at the end)
  --seed N               random seed (server mode)
  --clients N            concurrent gRPC writers (server mode, default 4)
  --min-ms / --max-ms    the kill moment's range after start (server: 300/2500, engine: 50/1500)
  --check-every N        run \`arbor check\` after every Nth kill (server mode, default 2)
  --full-every N         full re-verification of every batch every Nth cycle (default 10)
  --compact-every MS     the server's compaction period (default 300)
  --keep-versions N      the server's retained versions per stream (default 4)
`;
  const known = new Set([
    '--mode',
    '--cycles',
    '--dir',
    '--seed',
    '--clients',
    '--min-ms',
    '--max-ms',
    '--check-every',
    '--full-every',
    '--compact-every',
    '--keep-versions',
  ]);
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  for (let i = 0; i < args.length; i += 2) {
    if (!known.has(args[i]!) || args[i + 1] === undefined) {
      process.stderr.write(
        `crashloop: ${known.has(args[i]!) ? `${args[i]} needs a value` : `unknown option ${args[i]}`}\n\n${HELP}`,
      );
      process.exit(2);
    }
  }
  const dir = str('--dir');
  const mode = str('--mode') ?? 'server';
  const started = Date.now();
  let r: LoopResult | ServerLoopResult;
  if (mode === 'engine') {
    r = await killLoop({
      cycles: arg('--cycles', 100),
      ...(dir !== undefined ? { dir } : {}),
      minMs: arg('--min-ms', 50),
      maxMs: arg('--max-ms', 1500),
      progress: (c, s) =>
        process.stderr.write(
          `\rcycle ${c + 1}: ${s.batchesVerified} batches, ${s.pointsVerified} points verified, lost ${s.lost}, duplicated ${s.duplicated}   `,
        ),
    });
    process.stderr.write('\n');
  } else if (mode === 'server') {
    const seed = str('--seed');
    r = await serverKillLoop({
      cycles: arg('--cycles', 100),
      ...(dir !== undefined ? { dir } : {}),
      clients: arg('--clients', 4),
      minMs: arg('--min-ms', 300),
      maxMs: arg('--max-ms', 2500),
      checkEvery: arg('--check-every', 2),
      fullEvery: arg('--full-every', 10),
      compactEveryMs: arg('--compact-every', 300),
      keepVersions: arg('--keep-versions', 4),
      ...(seed !== undefined ? { seed: Number(seed) } : {}),
      progress: (line) => process.stderr.write(`${line}\n`),
    });
  } else {
    console.error(`--mode must be server or engine, got ${mode}`);
    process.exit(2);
  }
  const out = { mode, ...r, seconds: Math.round((Date.now() - started) / 1000), load: os.loadavg() };
  fs.mkdirSync('.bench', { recursive: true });
  fs.writeFileSync(path.join('.bench', 'crashloop.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(out, null, 2));
  process.exit(r.lost || r.duplicated || r.problems.length ? 1 : 0);
}

/**
 * The processes of the server kill loop: `arbor serve` (started through src/cli/main.ts, as a user
 * runs it) and `arbor check`. The server's stderr is kept so the loop can see when compaction runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const MAIN = path.join(ROOT, 'src', 'cli', 'main.ts');

export interface ServerChild {
  readonly child: ChildProcess;
  /** `host:port` of the gRPC listener. */
  readonly address: string;
  /** Lines of stderr so far. */
  readonly stderrLines: () => string[];
  /** Resolves with the exit code / signal once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Called with each stderr line as it arrives. */
  onLine: ((line: string) => void) | null;
}

/** Start `arbor serve --data DIR ARGS` on free ports and wait for its ready line. */
export function startServer(dir: string, args: readonly string[], timeoutMs = 120_000): Promise<ServerChild> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'serve', '--data', dir, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', ...args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // 'close', not 'exit': every line the process wrote has been read by then.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (code, signal) => r({ code, signal })),
  );
  const lines: string[] = [];
  let out = '';
  let ready = false;
  const server: { onLine: ((line: string) => void) | null } = { onLine: null };
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    lines.push(line);
    server.onLine?.(line);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`arbor serve was not ready within ${timeoutMs} ms\n${lines.slice(-30).join('\n')}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /arbor serve: ready grpc=(\S+)/.exec(out);
      if (m && !ready) {
        ready = true;
        clearTimeout(timer);
        const s: ServerChild = Object.assign(server, {
          child,
          address: m[1]!,
          stderrLines: () => lines,
          exited,
        });
        resolve(s);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(`arbor serve exited (${code ?? signal}) before it was ready\n${out}\n${lines.slice(-40).join('\n')}`),
      );
    });
  });
}

/** SIGKILL the server and wait until it is gone. */
export async function killServer(s: ServerChild): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await s.exited;
}

export interface CheckOutcome {
  readonly code: number | null;
  readonly streams: number;
  readonly versions: number;
  readonly points: number;
  readonly problems: string[];
  readonly ms: number;
  readonly output: string;
}

interface VerifyJson {
  streams?: number;
  versions?: number;
  points?: number;
  problems?: unknown[];
}
type CheckJson = VerifyJson & {
  check?: VerifyJson | null;
  openError?: string | null;
  salvage?: { findings?: { kind: string }[] };
};

/** Run `arbor check --data DIR --json` as a process (it must exit 0 and report no problem). */
/** `arbor check` reads every retained version of every stream: minutes at ~10M points on a busy machine. */
export function runCheck(dir: string, timeoutMs = 1_800_000): Promise<CheckOutcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'check', '--data', dir, '--json'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`arbor check did not finish within ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const problems: string[] = [];
      let report: CheckJson = {};
      try {
        report = JSON.parse(out) as CheckJson;
      } catch {
        problems.push(`arbor check printed no JSON report (exit ${code}): ${out.slice(-500)} ${err.slice(-1500)}`);
      }
      // The verifier's report is at the top level, or under "check" beside the file scan ("salvage").
      const verify = 'check' in report ? (report.check ?? null) : report;
      if (verify === null) problems.push(`arbor check did not open the database: ${report.openError ?? '?'}`);
      for (const p of verify?.problems ?? []) problems.push(JSON.stringify(p));
      for (const f of report.salvage?.findings ?? []) if (f.kind === 'damage') problems.push(JSON.stringify(f));
      resolve({
        code,
        streams: verify?.streams ?? 0,
        versions: verify?.versions ?? 0,
        points: verify?.points ?? 0,
        problems,
        ms: Date.now() - started,
        output: `${out}${err}`,
      });
    });
  });
}

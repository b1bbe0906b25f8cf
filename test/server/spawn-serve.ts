/**
 * Start a real `arbor serve` child process for multi-process tests and wait for its ready line.
 * Until the lead's src/cli/main.ts dispatches `serve`, the child imports src/cli/serve.ts directly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const ENTRY = "import('./src/cli/serve.ts').then((m) => m.serveCommand(process.argv.slice(1)))";

export interface ServeProcess {
  readonly child: ChildProcess;
  /** `host:port` from the ready line. */
  readonly address: string;
  readonly port: number;
  /** Everything printed so far. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Send a signal (default SIGTERM) and resolve with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The command line that runs `arbor serve ARGS` from the repository root. */
export function serveCommandLine(args: readonly string[]): string[] {
  // Tests run servers side by side: unless a test chooses, the HTTP API takes any free port.
  const http = args.includes('--http') || args.includes('--help') ? [] : ['--http', '127.0.0.1:0'];
  return ['--import', 'tsx', '-e', ENTRY, '--', ...args, ...http];
}

/** Run `arbor serve ARGS` to completion (for commands that exit: --help, errors). */
export function runServe(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, serveCommandLine(args), {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`arbor serve ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Start `arbor serve ARGS` and resolve once it prints `arbor serve: ready grpc=HOST:PORT`. */
export function startServe(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 120_000,
): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, serveCommandLine(args), {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`arbor serve was not ready within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /arbor serve: ready grpc=(\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        const address = m[1]!;
        resolve({
          child,
          address,
          port: Number(address.slice(address.lastIndexOf(':') + 1)),
          stdout: () => stdout,
          stderr: () => stderr,
          stop(signal = 'SIGTERM') {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`arbor serve exited (${code}) before it was ready\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

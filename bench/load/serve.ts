/**
 * `arbor serve` as a child process for the load generator (like test/server/spawn-serve.ts, plus
 * extra node flags such as --cpu-prof, which NODE_OPTIONS does not allow).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { serveCommandLine } from '../../test/server/spawn-serve.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface LoadServer {
  readonly pid: number;
  /** gRPC `host:port`. */
  readonly address: string;
  /** HTTP `host:port` (for /metrics), if the ready line names one. */
  readonly http: string | null;
  readonly stderr: () => string;
  stop(): Promise<number | null>;
}

export function startLoadServer(args: readonly string[], nodeFlags: readonly string[] = []): Promise<LoadServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, ...serveCommandLine(args)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`arbor serve was not ready within 120 s\n${stderr}`));
    }, 120_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
    });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /arbor serve: ready grpc=(\S+)/.exec(stdout);
      if (m && child.pid !== undefined) {
        clearTimeout(timer);
        resolve({
          pid: child.pid,
          address: m[1]!,
          http: /http=(\S+)/.exec(stdout)?.[1] ?? null,
          stderr: () => stderr,
          stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`arbor serve exited (${code}) before it was ready\n${stderr}`));
    });
  });
}

// Start etcd-member-child.ts processes and follow their JSON event lines.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { ChildConfig } from './etcd-member-child.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'test', 'cluster', 'etcd-member-child.ts');

export interface ChildEvent {
  readonly ev: string;
  readonly t: number;
  readonly live?: boolean;
  readonly leader?: boolean;
  readonly reason?: string;
}

export interface EtcdChild {
  readonly config: ChildConfig;
  readonly child: ChildProcess;
  readonly events: ChildEvent[];
  /** Resolve with the first event (at index ≥ from) matching, or throw after timeoutMs with stderr. */
  waitFor(ev: string, timeoutMs: number, from?: number): Promise<ChildEvent>;
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  stderr(): string;
}

const all = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of all) c.kill('SIGKILL');
});

export function startChild(config: ChildConfig): EtcdChild {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(config)], {
    cwd: ROOT,
    // The child exits when this pipe closes, i.e. when this process dies, even by SIGKILL.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  all.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  void exited.then(() => all.delete(child));
  const events: ChildEvent[] = [];
  const waiters = new Set<() => void>();
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.trim() === '') return;
    events.push(JSON.parse(line) as ChildEvent);
    for (const w of waiters) w();
  });
  return {
    config,
    child,
    events,
    stderr: () => err,
    waitFor(ev, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = events.slice(from).find((e) => e.ev === ev);
          if (found === undefined) return false;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `${config.nodeId}: no '${ev}' event within ${timeoutMs} ms; events: ${JSON.stringify(events)}; stderr: ${err}`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
  };
}

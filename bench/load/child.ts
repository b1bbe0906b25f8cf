/**
 * A writer or reader process of the load generator, seen from the coordinator: forked with IPC,
 * with promises for the next message of a kind.
 */
import { type ChildProcess, fork } from 'node:child_process';

export class LoadChild<In extends { readonly kind: string }, Out> {
  readonly #proc: ChildProcess;
  readonly #waiters = new Map<string, ((m: In) => void)[]>();
  readonly #listeners = new Map<string, (m: In) => void>();
  /** Messages that arrived before anyone asked for them. */
  readonly #unclaimed = new Map<string, In[]>();
  #exit: Promise<number | null>;
  #exited = false;

  constructor(
    file: string,
    readonly name: string,
    extraExecArgv: readonly string[] = [],
  ) {
    this.#proc = fork(file, [], {
      execArgv: ['--import', 'tsx', ...extraExecArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#exit = new Promise((resolve) =>
      this.#proc.on('exit', (code) => {
        this.#exited = true;
        for (const list of this.#waiters.values()) list.length = 0;
        resolve(code);
      }),
    );
    this.#proc.on('message', (m: In) => {
      const list = this.#waiters.get(m.kind);
      const w = list?.shift();
      const l = this.#listeners.get(m.kind);
      if (w) w(m);
      else if (l) l(m);
      else {
        const q = this.#unclaimed.get(m.kind) ?? [];
        q.push(m);
        this.#unclaimed.set(m.kind, q);
      }
    });
  }

  get pid(): number {
    return this.#proc.pid ?? 0;
  }

  send(m: Out): void {
    if (!this.#exited && this.#proc.connected) this.#proc.send(m as object);
  }

  /** Call `fn` for every message of `kind` nobody is waiting for. */
  on(kind: string, fn: (m: In) => void): void {
    this.#listeners.set(kind, fn);
  }

  /** The next message of `kind`; rejects if the process exits first or after `timeoutMs`. */
  next<K extends In['kind']>(kind: K, timeoutMs = 600_000): Promise<Extract<In, { kind: K }>> {
    const early = this.#unclaimed.get(kind)?.shift();
    if (early) return Promise.resolve(early as Extract<In, { kind: K }>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no '${kind}' within ${timeoutMs} ms`)), timeoutMs);
      const list = this.#waiters.get(kind) ?? [];
      list.push((m) => {
        clearTimeout(timer);
        resolve(m as Extract<In, { kind: K }>);
      });
      this.#waiters.set(kind, list);
      void this.#exit.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) while waiting for '${kind}'`));
      });
    });
  }

  /** Wait for the process to exit (after 'stop'); kill it if it takes longer than `ms`. */
  async exited(ms = 10_000): Promise<number | null> {
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), ms);
    const code = await this.#exit;
    clearTimeout(timer);
    return code;
  }
}

/**
 * A FIFO async mutex. The catalog runs every mutation under one, so that "commit, then tell the SQL
 * sandbox" is atomic with respect to the sandbox's snapshot (see sql-sandbox.ts). PGlite executes
 * one statement at a time anyway, so this costs no parallelism.
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Run `fn` after every previously queued `fn` has settled. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

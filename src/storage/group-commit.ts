import { DbError } from '../core/errors.ts';

/**
 * Group commit over a monotonically growing byte position: `staged()` is the end of what has been
 * appended, `durable()` the end of what is durable, `flush(target)` makes everything up to
 * `target` durable. A `sync()` made while a flush runs waits for it; if that flush did not cover
 * the caller's bytes, the waiters start (or join) exactly one more flush covering everything staged
 * meanwhile. A caller whose bytes are already durable returns without any I/O.
 */
export class GroupCommit {
  private inflight: { readonly end: number; readonly done: Promise<void> } | undefined;

  constructor(
    private readonly staged: () => number,
    private readonly durable: () => number,
    private readonly flush: (target: number) => Promise<void>,
  ) {}

  /** Resolves when every byte staged before the call is durable; rejects with the failing flush's error. */
  async sync(): Promise<void> {
    const target = this.staged();
    while (this.durable() < target) {
      const f = this.inflight ?? this.start();
      try {
        await f.done;
      } catch (e) {
        if (f.end >= target) throw e;
      }
    }
  }

  /** The running flush, if any (close waits for it). */
  idle(): Promise<void> {
    return this.inflight ? this.inflight.done.then(noop, noop) : Promise.resolve();
  }

  private start(): { readonly end: number; readonly done: Promise<void> } {
    const end = this.staged();
    const done = this.flush(end).then(() => {
      if (this.durable() < end)
        throw new DbError(500, `group commit: flush to ${end} left durable at ${this.durable()}`);
    });
    const f = { end, done };
    this.inflight = f;
    const clear = (): void => {
      if (this.inflight === f) this.inflight = undefined;
    };
    done.then(clear, clear);
    return f;
  }
}

const noop = (): void => {};

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
  /** Bumped each time a failed flush discarded the staged bytes (`onFailure` given). */
  private discards = 0;
  private lastFailure: unknown;

  /**
   * `onFailure`, if given, is called when a flush fails, before any caller sees the error; it is
   * expected to discard every staged byte that is not durable (record logs do: a record whose
   * sync failed must never be written later). Then every caller waiting for any of those bytes is
   * rejected with the error, even those the failed flush did not cover. Without it, staged bytes
   * stay staged and the next flush retries them (block stores).
   */
  constructor(
    private readonly staged: () => number,
    private readonly durable: () => number,
    private readonly flush: (target: number) => Promise<void>,
    private readonly onFailure?: (error: unknown) => Promise<void>,
  ) {}

  /** Resolves when every byte staged before the call is durable; rejects with the failing flush's error. */
  async sync(): Promise<void> {
    const target = this.staged();
    const discards = this.discards;
    while (this.durable() < target) {
      if (this.discards !== discards) throw this.lastFailure;
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
    const done = this.flush(end).then(
      () => {
        if (this.durable() < end)
          throw new DbError(500, `group commit: flush to ${end} left durable at ${this.durable()}`);
      },
      async (e: unknown) => {
        if (this.onFailure) {
          // Count the discard before anything can await, so no waiter mistakes bytes staged
          // after the discard (at reused positions) for its own.
          this.discards++;
          this.lastFailure = e;
          await this.onFailure(e);
        }
        throw e;
      },
    );
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

/**
 * A server-wide budget of insert bytes in flight: Insert and ArrowInsert calls that were received
 * but not yet answered (waiting for the WAL's group-commit fsync, or queued behind a commit) hold
 * their request's bytes — decoded points at 16 B each, or the Arrow IPC bytes — until the answer
 * is sent. Over the limit a new insert is refused at once with gRPC RESOURCE_EXHAUSTED: it was not
 * acknowledged, so the client retries it later (the load generator does) and nothing acknowledged
 * is ever dropped. Without it, a slow disk lets every client's pending batches pile up in memory.
 *
 * One call is always admitted when nothing else is in flight, so a batch larger than the whole
 * budget still goes through (alone). The check runs before the call is authenticated: refusing is
 * cheaper than checking a key, and the refusal tells an unauthenticated caller only that the
 * server is busy.
 */
import { type handleUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import type { ArrowInsertParams, BTrDBHandlers, InsertParams } from '../../wire/index.ts';

/** Default limit: 64 MiB ≈ 4M points of Insert in flight (~3 s of a 1.44M points/s fleet). */
export const DEFAULT_MAX_INFLIGHT_INSERT_BYTES = 64 << 20;

/** Bytes an Insert holds in flight: 16 per point (int64 time + float64 value). */
export const insertParamsBytes = (req: InsertParams): number => 16 * req.values.times.length;

/** Bytes an ArrowInsert holds in flight: its Arrow IPC stream. */
export const arrowInsertParamsBytes = (req: ArrowInsertParams): number => req.arrowBytes.byteLength;

export class InsertBudget {
  #used = 0;
  #calls = 0;
  /** Inserts refused so far. */
  refused = 0;

  constructor(readonly limitBytes: number) {
    if (!(limitBytes > 0)) throw new RangeError(`insert budget must be > 0 bytes, got ${limitBytes}`);
  }

  /** Bytes held by inserts in flight now. */
  get usedBytes(): number {
    return this.#used;
  }

  /** Inserts in flight now. */
  get calls(): number {
    return this.#calls;
  }

  /** Take `bytes` if they fit (or nothing else is in flight); false = refuse the call. */
  tryAcquire(bytes: number): boolean {
    if (this.#calls > 0 && this.#used + bytes > this.limitBytes) {
      this.refused++;
      return false;
    }
    this.#used += bytes;
    this.#calls++;
    return true;
  }

  release(bytes: number): void {
    this.#used -= bytes;
    this.#calls--;
  }

  /** The RESOURCE_EXHAUSTED details for a refused call of `bytes`. */
  refusal(bytes: number): string {
    return (
      `server busy: ${this.#used} bytes of inserts in flight, this one ${bytes}, limit ${this.limitBytes}; ` +
      'the insert was not applied, retry it later'
    );
  }
}

/** `handler` guarded by `budget`: refused with RESOURCE_EXHAUSTED over it, bytes held until the answer. */
export function budgeted<Q, R>(
  handler: handleUnaryCall<Q, R>,
  budget: InsertBudget,
  cost: (request: Q) => number,
): handleUnaryCall<Q, R> {
  return (call, callback) => {
    const bytes = cost(call.request);
    if (!budget.tryAcquire(bytes)) {
      callback({ code: status.RESOURCE_EXHAUSTED, details: budget.refusal(bytes) });
      return;
    }
    let held = true;
    const answer: sendUnaryData<R> = (...args) => {
      if (held) {
        held = false;
        budget.release(bytes);
      }
      callback(...args);
    };
    try {
      handler(call, answer);
    } catch (e) {
      if (held) {
        held = false;
        budget.release(bytes);
      }
      throw e;
    }
  };
}

/** Guard the Insert and ArrowInsert handlers of `handlers` (in place) with `budget`. */
export function applyInsertBudget(handlers: BTrDBHandlers, budget: InsertBudget): void {
  handlers.Insert = budgeted(handlers.Insert, budget, insertParamsBytes);
  handlers.ArrowInsert = budgeted(handlers.ArrowInsert, budget, arrowInsertParamsBytes);
}

/**
 * The armed faults of a FaultyEnv and how a call is matched against them. Kept apart from the Env
 * wrapper so the matching rules (nth call, how many times, which files) read in one place.
 */

/** Every Env operation a fault can be armed on. */
export type FaultOp =
  | 'open'
  | 'list'
  | 'readFile'
  | 'read'
  | 'write'
  | 'sync'
  | 'truncate'
  | 'rename'
  | 'remove'
  | 'syncDir';

/** The errno a failpoint throws. */
export type FaultErrno = 'EIO' | 'ENOSPC';

/** Which call(s) a fault fires on. */
export interface FaultTrigger {
  /** Fire on the nth matching call from now (1 = the next one). Default 1. */
  readonly nth?: number;
  /** How many consecutive matching calls fail once it fires. Default 1; Infinity = until disarmed. */
  readonly times?: number;
  /** Only calls on a path containing this string (or matching this RegExp) count. */
  readonly path?: string | RegExp;
}

export type FaultAction =
  | { readonly kind: 'fail'; readonly errno: FaultErrno }
  | { readonly kind: 'torn'; readonly errno: FaultErrno; readonly keep: number | undefined }
  | { readonly kind: 'flip'; readonly index: number | undefined; readonly bit: number };

interface Armed {
  readonly op: FaultOp;
  readonly action: FaultAction;
  readonly path: string | RegExp | undefined;
  skip: number;
  times: number;
}

export class Failpoints {
  private armed: Armed[] = [];
  private readonly calls = new Map<FaultOp, number>();

  arm(op: FaultOp, action: FaultAction, trigger: FaultTrigger = {}): void {
    const nth = trigger.nth ?? 1;
    const times = trigger.times ?? 1;
    if (!(nth >= 1) || !(times >= 1)) throw new RangeError(`failpoint ${op}: nth and times must be ≥ 1`);
    this.armed.push({ op, action, path: trigger.path, skip: nth - 1, times });
  }

  disarm(): void {
    this.armed = [];
  }

  /** Count a call and return the action of the first fault that fires on it, if any. */
  fire(op: FaultOp, path: string): FaultAction | undefined {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    let fired: FaultAction | undefined;
    for (const a of this.armed) {
      if (a.op !== op || !matches(a.path, path)) continue;
      if (a.skip > 0) {
        a.skip--;
        continue;
      }
      if (fired) continue;
      fired = a.action;
      a.times--;
    }
    this.armed = this.armed.filter((a) => a.times > 0);
    return fired;
  }

  /** Calls seen per operation since the env was made. */
  counts(): Readonly<Record<FaultOp, number>> {
    const ops: FaultOp[] = [
      'open',
      'list',
      'readFile',
      'read',
      'write',
      'sync',
      'truncate',
      'rename',
      'remove',
      'syncDir',
    ];
    return Object.fromEntries(ops.map((op) => [op, this.calls.get(op) ?? 0])) as Record<FaultOp, number>;
  }
}

function matches(filter: string | RegExp | undefined, path: string): boolean {
  if (filter === undefined) return true;
  return typeof filter === 'string' ? path.includes(filter) : filter.test(path);
}

/** `arbor replicate` — keep a central server in sync with an edge server (src/db/replicate.ts). */
import path from 'node:path';
import { connectRemote, type RemoteBackend } from '../client/remote-backend.ts';
import { isDbError } from '../core/errors.ts';
import { type ReplicaState, readState, replicatePass, writeState } from '../db/replicate.ts';
import { flag, has, parseArgs } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `arbor replicate — keep a central server's copy of an edge server's streams identical

Usage: arbor replicate --from HOST:PORT --to HOST:PORT [--collection C] [--state FILE]
                       [--interval MS] [--verify-every N] [--once]

Both sides are \`arbor serve\` gRPC endpoints. Every --interval, each edge stream whose version moved
is copied: the ranges the edge changed since the last copied version (the tree's version diff),
or — on the first pass, when that version was pruned at the edge, and every --verify-every-th pass —
every window whose statistics (count, min, max) differ between the two sides. A link failure is
recorded as an outage in the state file; when the link returns the next pass backfills the gap from
the edge (which kept the data). The state file is written after each stream, so the replicator
resumes after its own crash; copying a range again is harmless (delete + insert at central).

Data the edge dropped by retention stays at central. Metadata is copied when a stream is created at
central; later metadata changes are not replicated.

Options:
  --from HOST:PORT    the edge server (gRPC)                       env ARBOR_FROM_API_KEY for its key
  --to HOST:PORT      the central server (gRPC)                    env ARBOR_TO_API_KEY for its key
  --collection C      only streams of collection C and its sub-collections (default: all)
  --state FILE        replication state (default ./replicate-state.json)
  --interval MS       pause between passes (default 1000)
  --verify-every N    compare window statistics of every stream every Nth pass (default 60; 0 = never)
  --once              one pass (with verification), then exit: 0 when in sync, 1 on a failure

SIGINT/SIGTERM: finish the stream being copied, save the state, exit 0.
`;

function endpoint(v: string | undefined, name: string): string {
  if (v === undefined) throw new UsageError(`--${name} HOST:PORT is required (see --help)`);
  if (!/^[^/]+:\d+$/.test(v)) throw new UsageError(`--${name} takes a gRPC HOST:PORT, got ${JSON.stringify(v)}`);
  return v;
}

function whole(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number ≥ 0, got ${v}`);
  return n;
}

const now = (): string => new Date().toISOString();

export async function replicateCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    collection: { type: 'string' },
    state: { type: 'string' },
    interval: { type: 'string' },
    'verify-every': { type: 'string' },
    once: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  const from = endpoint(flag(p, 'from'), 'from');
  const to = endpoint(flag(p, 'to'), 'to');
  const stateFile = path.resolve(flag(p, 'state') ?? 'replicate-state.json');
  const interval = whole(flag(p, 'interval'), 'interval', 1000);
  const verifyEvery = whole(flag(p, 'verify-every'), 'verify-every', 60);
  const once = has(p, 'once');
  const collection = flag(p, 'collection') ?? '';
  const log = (line: string): void => {
    process.stderr.write(`${now()} arbor replicate: ${line}\n`);
  };
  const state: ReplicaState = readState(stateFile);
  const save = (s: ReplicaState): void => writeState(stateFile, s);
  const fromKey = process.env.ARBOR_FROM_API_KEY;
  const toKey = process.env.ARBOR_TO_API_KEY;
  // Few retries inside a call: an outage is the loop's business (it records it and tries again).
  // The connections are made inside the loop, so a side unreachable at start is an outage too.
  let edge: RemoteBackend | null = null;
  let central: RemoteBackend | null = null;
  let stopping = false;
  let wake: (() => void) | null = null;
  const stop = (): void => {
    stopping = true;
    wake?.();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  log(`${from} → ${to}${collection === '' ? '' : ` (collection ${collection})`}, state ${stateFile}`);
  let failed = false;
  try {
    for (let pass = 0; !stopping; pass++) {
      const t0 = Date.now();
      const verify = once || pass === 0 || (verifyEvery > 0 && pass % verifyEvery === 0);
      try {
        edge ??= await connectRemote({ endpoints: from, retries: 1, ...(fromKey ? { apiKey: fromKey } : {}) });
        central ??= await connectRemote({ endpoints: to, retries: 1, ...(toKey ? { apiKey: toKey } : {}) });
        const r = await replicatePass(edge, central, state, { collection, verify, save });
        const open = state.outages.at(-1);
        if (open && open.end === null) {
          open.end = now();
          save(state);
          log(`link restored (outage since ${open.start}); backfilled in this pass`);
        }
        if (r.changed > 0 || verify) {
          log(
            `pass ${pass}${verify ? ' (verify)' : ''}: ${r.streams} streams, ${r.changed} changed, ${r.created} created, ` +
              `${r.ranges} ranges, ${r.points} points copied in ${Date.now() - t0} ms`,
          );
        }
        failed = false;
      } catch (e) {
        failed = true;
        const why = e instanceof Error ? e.message : String(e);
        if (!isDbError(e, 402)) {
          // Not the link: a refusal by a server (e.g. a value central does not accept). Say so; retry.
          log(`pass ${pass} failed: ${why}; retrying in ${interval} ms`);
        } else {
          const open = state.outages.at(-1);
          if (!open || open.end !== null) {
            state.outages.push({ start: now(), end: null, error: why });
            save(state);
            log(`link down: ${why}; retrying every ${interval} ms`);
          }
        }
      }
      if (once) break;
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, interval);
      });
    }
  } finally {
    await edge?.close();
    await central?.close();
  }
  if (once && failed) throw new UsageError('the pass failed (see above); the state is saved');
  log('stopped; state saved');
}

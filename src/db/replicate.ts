/**
 * Edge → central replication (openHistorian's gap recovery from a short-term archive, seed 003):
 * keep a central server's copy of an edge server's streams identical to the edge, over the same
 * Backend API both expose (gRPC in practice), surviving link failures and the replicator's own
 * crashes.
 *
 * One pass, per edge stream:
 *   1. The edge's current version V. If the state file says V was already copied, nothing to do.
 *   2. What to copy:
 *      - normally the ranges the edge changed between the copied version and V (`changes`, the
 *        statistical tree's version diff) — exact and cheap;
 *      - on the first pass for a stream, when the copied version is no longer retained at the edge
 *        (450), and on every verification pass: a comparison of the two sides' window statistics
 *        (count, min, max per window) over the edge's time span; each window that differs is copied.
 *        This finds gaps whatever caused them (a lost state file, a restored central, …).
 *   3. Copy each range: delete it at central, insert the edge's points of it (read at version V).
 *      A crash between the two leaves the range different, so the next pass copies it again: the
 *      state (V) is saved only after every range of the stream is copied.
 *
 * Only the edge's current time span is compared and copied: data the edge dropped by retention
 * stays at central (that is the point of a central archive). Stream metadata is copied when the
 * stream is created at central; later metadata changes are not replicated.
 *
 * Outages: a pass that fails on the link (either side) records an outage in the state file; the
 * next pass that succeeds closes it. Nothing else is needed to backfill: the edge kept the data
 * and its versions, so the next pass copies everything the outage held back.
 */
import fs from 'node:fs';
import { DbError, isDbError } from '../core/errors.ts';
import { MAX_INSERT_TIME, MIN_TIME } from '../core/time.ts';
import type { StreamId } from '../core/types.ts';
import { ensureStream } from './archive.ts';
import type { Backend } from './backend.ts';
import { covers } from './data-retention.ts';

export interface ReplicaState {
  /** Per stream uuid: the edge version whose data central holds. */
  streams: Record<string, { version: number }>;
  /** Link outages seen (ISO times; end null while it lasts). */
  outages: { start: string; end: string | null; error: string }[];
}

export const emptyState = (): ReplicaState => ({ streams: {}, outages: [] });

/** Read the state file; a missing file is a fresh start. A corrupt one is an error (say so; do not guess). */
export function readState(file: string): ReplicaState {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw e;
  }
  try {
    const s = JSON.parse(text) as Partial<ReplicaState>;
    if (typeof s.streams !== 'object' || s.streams === null || !Array.isArray(s.outages))
      throw new Error('missing fields');
    return { streams: s.streams, outages: s.outages };
  } catch (e) {
    throw new DbError(
      438,
      `replication state ${file} is not readable (${(e as Error).message}); move it away to start over (a full comparison)`,
    );
  }
}

/** Write the state durably: a temp file, fsync, rename. */
export function writeState(file: string, s: ReplicaState): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `${JSON.stringify(s, null, 1)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export interface PassOptions {
  /** Replicate streams of this collection and its sub-collections ('' = all). */
  readonly collection: string;
  /** Compare window statistics for every stream instead of trusting the version diff. */
  readonly verify: boolean;
  /** Save the state after each stream (the CLI writes the state file here). */
  readonly save: (s: ReplicaState) => void;
}

export interface PassReport {
  readonly streams: number;
  /** Streams whose edge version had moved (or were verified). */
  readonly changed: number;
  readonly created: number;
  /** Ranges copied (after a diff or a mismatch). */
  readonly ranges: number;
  readonly points: number;
}

/** One replication pass; throws on a link failure (the caller records the outage). */
export async function replicatePass(
  edge: Backend,
  central: Backend,
  state: ReplicaState,
  opts: PassOptions,
): Promise<PassReport> {
  const streams = (await edge.lookupStreams({ collection: '', isPrefix: true })).filter((s) =>
    covers(opts.collection, s.collection),
  );
  let changed = 0;
  let created = 0;
  let ranges = 0;
  let points = 0;
  for (const s of streams) {
    const { version } = await edge.streamInfo(s.id);
    const done = state.streams[s.id]?.version;
    if (done === version && !opts.verify) continue;
    changed++;
    if (await ensureStream(central, s)) created++;
    const span = await edgeSpan(edge, s.id, version);
    if (span !== null) {
      let todo: { start: bigint; end: bigint }[] | null = null;
      if (done !== undefined && !opts.verify) {
        try {
          todo = (await edge.changes(s.id, done, version, 0)).value;
        } catch (e) {
          if (!isDbError(e, 450)) throw e; // the copied version was pruned: compare instead
        }
      }
      todo ??= await mismatches(edge, central, s.id, version, span);
      for (const r of clip(todo, span)) {
        points += await copyRange(edge, central, s.id, version, r.start, r.end);
        ranges++;
      }
    }
    state.streams[s.id] = { version };
    opts.save(state);
  }
  return { streams: streams.length, changed, created, ranges, points };
}

/** [first point, last point + 1) of the edge stream at `version`; null when it is empty. */
async function edgeSpan(edge: Backend, id: StreamId, version: number): Promise<{ start: bigint; end: bigint } | null> {
  const first = await edge.nearest(id, MIN_TIME, false, version);
  const last = await edge.nearest(id, MAX_INSERT_TIME, true, version);
  if (first === null || last === null) return null;
  return { start: first.value.time, end: last.value.time + 1n };
}

/**
 * The ranges clipped to the edge's span (never touch central outside what the edge still holds),
 * sorted, and merged where less than 1/64 of the span apart: copying a little unchanged data costs
 * less than a delete + insert + flush round trip per small range.
 */
function clip(
  rs: readonly { start: bigint; end: bigint }[],
  span: { start: bigint; end: bigint },
): { start: bigint; end: bigint }[] {
  const out: { start: bigint; end: bigint }[] = [];
  const slack = (span.end - span.start) / 64n;
  const sorted = [...rs].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  for (const r of sorted) {
    const start = r.start > span.start ? r.start : span.start;
    const end = r.end < span.end ? r.end : span.end;
    if (start >= end) continue;
    const last = out.at(-1);
    if (last && start <= last.end + slack) {
      if (end > last.end) last.end = end;
    } else out.push({ start, end });
  }
  return out;
}

/** At most this many windows per comparison query. */
const WINDOWS = 4096n;

/** Windows of the span whose count, min or max differ between edge (at `version`) and central. */
async function mismatches(
  edge: Backend,
  central: Backend,
  id: StreamId,
  version: number,
  span: { start: bigint; end: bigint },
): Promise<{ start: bigint; end: bigint }[]> {
  const width = (span.end - span.start + WINDOWS - 1n) / WINDOWS || 1n;
  const [a, b] = await Promise.all([
    edge.windows(id, span.start, span.end + width, width, 0, version),
    central.windows(id, span.start, span.end + width, width, 0, 0),
  ]);
  const key = (w: { count: number; min: number; max: number }): string => `${w.count}/${w.min}/${w.max}`;
  const there = new Map(b.value.filter((w) => w.count > 0).map((w) => [w.time, key(w)]));
  const out: { start: bigint; end: bigint }[] = [];
  const seen = new Set<bigint>();
  for (const w of a.value) {
    if (w.count === 0) continue;
    seen.add(w.time);
    if (there.get(w.time) !== key(w)) out.push({ start: w.time, end: w.time + width });
  }
  // Points at central where the edge has none (inside the edge's span): the edge deleted them.
  for (const t of there.keys()) if (!seen.has(t)) out.push({ start: t, end: t + width });
  return out;
}

/**
 * Replace central's [start, end) with the edge's points of it at `version`; the number copied.
 * Streamed: the range is deleted first, then the edge's chunks are inserted as they arrive.
 */
async function copyRange(
  edge: Backend,
  central: Backend,
  id: StreamId,
  version: number,
  start: bigint,
  end: bigint,
): Promise<number> {
  await central.delete(id, start, end);
  let n = 0;
  for await (const c of edge.rawValues(id, start, end, version)) {
    if (c.value.times.length === 0) continue;
    await central.insert(id, c.value, 'never');
    n += c.value.times.length;
  }
  if (n > 0) await central.flush(id);
  return n;
}

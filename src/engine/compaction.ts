/**
 * Retention and garbage collection (docs/adr/0002-retention-and-gc.md).
 *
 * `pruneVersions` drops versions the retention policy no longer keeps (they answer 450 from then
 * on). `compact` reclaims the space of blocks no retained version references: it marks the live
 * blocks of every retained version, picks sealed segments whose live share is below a threshold,
 * copies their live blocks — and the core nodes above them, whose child addresses change — to a
 * new segment, fsyncs, checkpoints the manifest with the new roots, and only then deletes the old
 * segments. A crash at any point leaves either the old manifest with the old segments intact, or
 * the new checkpoint; segments orphaned by a crash are reclaimed by the next compaction (their live
 * share is 0).
 */
import type { StreamId, Version } from '../core/types.ts';
import { FANOUT } from './geometry.ts';
import { type NodeRef, setSlot, slotRef } from './node-ref.ts';
import type { TreeStore } from './tree-store.ts';

export interface RetentionPolicy {
  /** Keep at least the newest N versions of every stream. */
  readonly keepVersions?: number;
  /** Keep every version committed within this many ms. */
  readonly maxAgeMs?: number;
  /**
   * Per stream, drop every version older than this one whatever the limits above say (data
   * retention deleted the old data in this version; the older versions would keep it on disk).
   */
  readonly dropBefore?: ReadonlyMap<StreamId, Version>;
}

/**
 * Which versions a policy keeps: the latest always; with neither limit set, all of them (BTrDB's
 * behaviour); otherwise those within `keepVersions` of the newest or younger than `maxAgeMs`.
 */
export function versionsToKeep(
  versions: readonly { version: Version; at: number }[],
  policy: RetentionPolicy,
  now: number,
  dropBefore?: Version,
): Set<Version> {
  const keep = new Set<Version>();
  const limited = policy.keepVersions !== undefined || policy.maxAgeMs !== undefined;
  const n = versions.length;
  for (let i = 0; i < n; i++) {
    const v = versions[i]!;
    const recent = !limited || (policy.keepVersions !== undefined && i >= n - Math.max(1, policy.keepVersions));
    const young = policy.maxAgeMs !== undefined && now - v.at <= policy.maxAgeMs;
    const dropped = dropBefore !== undefined && v.version < dropBefore;
    if (((recent || young) && !dropped) || i === n - 1) keep.add(v.version);
  }
  return keep;
}

const segmentOf = (addr: number): number => Math.floor(addr / 2 ** 32);

/** Core nodes `markLive` visits between two turns of the event loop. */
const YIELD_EVERY = 256;

/** Live bytes per segment, over every retained root. */
export async function markLive(store: TreeStore, roots: Iterable<NodeRef | null>): Promise<Map<number, number>> {
  const live = new Map<number, number>();
  const seen = new Set<number>();
  let cores = 0;
  const visit = async (ref: NodeRef): Promise<void> => {
    if (seen.has(ref.addr)) return;
    seen.add(ref.addr);
    const seg = segmentOf(ref.addr);
    live.set(seg, (live.get(seg) ?? 0) + ref.len);
    if (ref.leaf) return;
    // Cached nodes resolve as microtasks, which never let I/O in: yield now and then, so that
    // requests keep being served while a large database is walked.
    if (++cores % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
    const node = await store.core(ref);
    for (let i = 0; i < FANOUT; i++) {
      const child = slotRef(node, i);
      if (child) await visit(child);
    }
  };
  for (const r of roots) if (r) await visit(r);
  return live;
}

/**
 * Copy a tree so that nothing in it lives in `victims`: leaves in a victim segment are re-put
 * byte for byte, core nodes are rewritten when they or any child moved. Shared subtrees are
 * copied once (`moved` memoises old address → new ref).
 */
export async function relocate(
  store: TreeStore,
  ref: NodeRef | null,
  victims: ReadonlySet<number>,
  moved: Map<number, NodeRef>,
): Promise<NodeRef | null> {
  if (ref === null) return null;
  const done = moved.get(ref.addr);
  if (done) return done;
  let out: NodeRef = ref;
  if (ref.leaf) {
    if (victims.has(segmentOf(ref.addr))) {
      const bytes = await store.blocks.get(ref);
      const at = store.blocks.put(bytes.slice());
      out = { ...ref, addr: at.addr, len: at.len };
    }
  } else {
    const node = await store.core(ref);
    let changed = victims.has(segmentOf(ref.addr));
    const copy = { ...node, addr: node.addr.slice(), len: node.len.slice(), leaf: node.leaf.slice() };
    for (let i = 0; i < FANOUT; i++) {
      const child = slotRef(node, i);
      if (!child) continue;
      const c = await relocate(store, child, victims, moved);
      if (c !== child) {
        setSlot(copy, i, c);
        changed = true;
      }
    }
    if (changed) {
      const at = store.putCore(copy);
      out = { ...ref, addr: at.addr, len: at.len };
    }
  }
  moved.set(ref.addr, out);
  return out;
}

export interface CompactionReport {
  segmentsBefore: number;
  segmentsReclaimed: number;
  bytesBefore: number;
  bytesAfter: number;
  blocksMoved: number;
  streams: number;
}

export type StreamVersions = Map<StreamId, { version: Version; root: NodeRef | null; at: number }[]>;

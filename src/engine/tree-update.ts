/**
 * Copy-on-write updates of a stream's tree. Each function takes the root of one version and
 * returns the root of the next, writing only the nodes on changed paths (via TreeStore.put*, which
 * stages blocks; the caller syncs the BlockStore before publishing the new root). Unchanged
 * subtrees are shared between versions by address.
 */
import { emptyCoreNode } from '../codec/types.ts';
import type { MergePolicy } from '../core/types.ts';
import { FANOUT, FANOUT_BITS, mustSplit, ROOT_PW, ROOT_START, slotStart } from './geometry.ts';
import { type NodeRef, nodeSummary, setSlot, slotRef, summarize } from './node-ref.ts';
import {
  concat,
  EMPTY_BATCH,
  lowerBound,
  mergePoints,
  type PointBatch,
  deleteRange as removeRange,
  slice,
} from './point-batch.ts';
import type { TreeStore } from './tree-store.ts';

/** Build the canonical subtree of width 2^pw at `start` holding `points` (sorted). */
export function build(store: TreeStore, start: bigint, pw: number, points: PointBatch): NodeRef | null {
  const n = points.times.length;
  if (n === 0) return null;
  if (!mustSplit(n, pw)) {
    const s = summarize(points.values);
    const ref = store.putLeaf(points);
    return { ...ref, leaf: true, count: s.count, min: s.min, max: s.max, mean: s.mean, m2: s.m2 };
  }
  const childPw = pw - FANOUT_BITS;
  const node = emptyCoreNode(start, childPw);
  let lo = 0;
  for (let i = 0; i < FANOUT && lo < n; i++) {
    const hi = i === FANOUT - 1 ? n : lowerBound(points.times, slotStart(start, childPw, i + 1), lo);
    if (hi > lo) setSlot(node, i, build(store, slotStart(start, childPw, i), childPw, slice(points, lo, hi)));
    lo = hi;
  }
  return finishCore(store, node);
}

function finishCore(store: TreeStore, node: ReturnType<typeof emptyCoreNode>): NodeRef | null {
  const s = nodeSummary(node);
  if (s.count === 0) return null;
  const ref = store.putCore(node);
  return { ...ref, leaf: false, count: s.count, min: s.min, max: s.max, mean: s.mean, m2: s.m2 };
}

/** Every point of a subtree, in order. */
export async function collectPoints(store: TreeStore, ref: NodeRef | null): Promise<PointBatch> {
  if (ref === null) return EMPTY_BATCH;
  if (ref.leaf) return store.leaf(ref);
  const node = await store.core(ref);
  const parts: PointBatch[] = [];
  for (let i = 0; i < FANOUT; i++) {
    const child = slotRef(node, i);
    if (child) parts.push(await collectPoints(store, child));
  }
  return parts.length === 0 ? EMPTY_BATCH : concat(parts);
}

/** Insert a sorted batch (arrival order within equal times) under a merge policy. */
export function insertBatch(
  store: TreeStore,
  root: NodeRef | null,
  batch: PointBatch,
  policy: MergePolicy,
): Promise<NodeRef | null> {
  return update(store, root, ROOT_START, ROOT_PW, batch, policy);
}

async function update(
  store: TreeStore,
  ref: NodeRef | null,
  start: bigint,
  pw: number,
  batch: PointBatch,
  policy: MergePolicy,
): Promise<NodeRef | null> {
  if (batch.times.length === 0) return ref;
  if (ref === null) return build(store, start, pw, mergePoints(EMPTY_BATCH, batch, policy));
  if (ref.leaf) {
    const stored = await store.leaf(ref);
    return build(store, start, pw, mergePoints(stored, batch, policy));
  }
  const old = await store.core(ref);
  const node = cloneCore(old);
  const childPw = node.childPw;
  const n = batch.times.length;
  let lo = 0;
  while (lo < n) {
    const i = Number((batch.times[lo]! - start) >> BigInt(childPw));
    const cs = slotStart(start, childPw, i);
    const hi = i === FANOUT - 1 ? n : lowerBound(batch.times, slotStart(start, childPw, i + 1), lo);
    setSlot(node, i, await update(store, slotRef(old, i), cs, childPw, slice(batch, lo, hi), policy));
    lo = hi;
  }
  return settle(store, node, start, pw);
}

/** Delete points with start ≤ t < end. */
export function deleteRange(
  store: TreeStore,
  root: NodeRef | null,
  start: bigint,
  end: bigint,
): Promise<NodeRef | null> {
  return del(store, root, ROOT_START, ROOT_PW, start, end);
}

async function del(
  store: TreeStore,
  ref: NodeRef | null,
  nodeStart: bigint,
  pw: number,
  start: bigint,
  end: bigint,
): Promise<NodeRef | null> {
  if (ref === null) return null;
  const nodeEnd = nodeStart + (1n << BigInt(pw));
  if (end <= nodeStart || start >= nodeEnd) return ref;
  if (start <= nodeStart && end >= nodeEnd) return null;
  if (ref.leaf) {
    const stored = await store.leaf(ref);
    const kept = removeRange(stored, start, end);
    return kept === stored ? ref : build(store, nodeStart, pw, kept);
  }
  const old = await store.core(ref);
  const node = cloneCore(old);
  let changed = false;
  for (let i = 0; i < FANOUT; i++) {
    const child = slotRef(old, i);
    if (child === null) continue;
    const next = await del(store, child, slotStart(nodeStart, old.childPw, i), old.childPw, start, end);
    if (next !== child) {
      setSlot(node, i, next);
      changed = true;
    }
  }
  return changed ? settle(store, node, nodeStart, pw) : ref;
}

/** Write a modified core node, or collapse it into a leaf when it no longer needs to be split. */
async function settle(store: TreeStore, node: ReturnType<typeof emptyCoreNode>, start: bigint, pw: number) {
  const s = nodeSummary(node);
  if (s.count === 0) return null;
  if (!mustSplit(s.count, pw)) {
    const parts: PointBatch[] = [];
    for (let i = 0; i < FANOUT; i++) {
      const child = slotRef(node, i);
      if (child) parts.push(await collectPoints(store, child));
    }
    return build(store, start, pw, concat(parts));
  }
  return finishCore(store, node);
}

function cloneCore(n: ReturnType<typeof emptyCoreNode>): ReturnType<typeof emptyCoreNode> {
  return {
    start: n.start,
    childPw: n.childPw,
    addr: n.addr.slice(),
    len: n.len.slice(),
    leaf: n.leaf.slice(),
    count: n.count.slice(),
    min: n.min.slice(),
    max: n.max.slice(),
    mean: n.mean.slice(),
    m2: n.m2.slice(),
  };
}

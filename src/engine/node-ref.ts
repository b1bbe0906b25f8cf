/**
 * A reference to a subtree together with the statistics of all its points — what a parent's slot
 * holds, and what the manifest stores for a version's root.
 */
import type { CoreNode } from '../codec/types.ts';
import { Summary } from '../core/stat.ts';

export interface NodeRef {
  readonly addr: number;
  readonly len: number;
  readonly leaf: boolean;
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly m2: number;
}

/** The ref in slot i of a core node, or null if the slot is empty. */
export function slotRef(node: CoreNode, i: number): NodeRef | null {
  if (node.count[i] === 0) return null;
  return {
    addr: node.addr[i]!,
    len: node.len[i]!,
    leaf: node.leaf[i] === 1,
    count: node.count[i]!,
    min: node.min[i]!,
    max: node.max[i]!,
    mean: node.mean[i]!,
    m2: node.m2[i]!,
  };
}

export function setSlot(node: CoreNode, i: number, ref: NodeRef | null): void {
  if (ref === null) {
    node.addr[i] = 0;
    node.len[i] = 0;
    node.leaf[i] = 0;
    node.count[i] = 0;
    node.min[i] = 0;
    node.max[i] = 0;
    node.mean[i] = 0;
    node.m2[i] = 0;
    return;
  }
  node.addr[i] = ref.addr;
  node.len[i] = ref.len;
  node.leaf[i] = ref.leaf ? 1 : 0;
  node.count[i] = ref.count;
  node.min[i] = ref.min;
  node.max[i] = ref.max;
  node.mean[i] = ref.mean;
  node.m2[i] = ref.m2;
}

/** Add slot i's statistics to a running summary. */
export function mergeSlot(s: Summary, node: CoreNode, i: number): void {
  s.merge(node.count[i]!, node.mean[i]!, node.m2[i]!, node.min[i]!, node.max[i]!);
}

export function mergeRef(s: Summary, r: NodeRef): void {
  s.merge(r.count, r.mean, r.m2, r.min, r.max);
}

/**
 * Statistics of values[lo, hi) as a fresh Summary: two passes (sum, min, max; then Σ(v − mean)²),
 * which is exact to rounding and avoids Welford's division per value.
 */
export function summarize(values: Float64Array, lo = 0, hi = values.length): Summary {
  const s = new Summary();
  const n = hi - lo;
  if (n <= 0) return s;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY; // as Summary.add: NaN never becomes min or max
  let max = Number.NEGATIVE_INFINITY;
  for (let i = lo; i < hi; i++) {
    const v = values[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let m2 = 0;
  for (let i = lo; i < hi; i++) {
    const d = values[i]! - mean;
    m2 += d * d;
  }
  s.merge(n, mean, m2, min, max);
  return s;
}

/** The whole-node summary of a core node (merging its slots in order). */
export function nodeSummary(node: CoreNode): Summary {
  const s = new Summary();
  for (let i = 0; i < 64; i++) mergeSlot(s, node, i);
  return s;
}

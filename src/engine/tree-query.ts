/**
 * Read-only queries over one version's tree. All ranges are half-open [start, end) in ns.
 * Statistical queries use the statistics stored in core-node slots for every subtree that lies
 * wholly inside one window, so their cost grows with the number of windows, not of points.
 */
import type { CoreNode, LeafColumns } from '../codec/types.ts';
import { DbError } from '../core/errors.ts';
import { type StatPoint, Summary } from '../core/stat.ts';
import { alignDown } from '../core/time.ts';
import { FANOUT, isAligned, ROOT_PW, ROOT_START, slotStart } from './geometry.ts';
import { addRange } from './leaf-ranges.ts';
import { mergeRef, type NodeRef, slotRef } from './node-ref.ts';
import { lowerBound, type PointBatch, slice } from './point-batch.ts';
import type { TreeStore } from './tree-store.ts';

/** Most windows a single windows() query may produce. */
export const MAX_WINDOWS = 5_000_000;
/** Leaves decoded per chunk of a raw scan. */
const LEAVES_PER_CHUNK = 256;

interface Visit {
  readonly ref: NodeRef;
  readonly start: bigint;
  readonly pw: number;
}

/** Leaf refs overlapping [start, end), in time order. */
async function overlappingLeaves(store: TreeStore, root: NodeRef | null, start: bigint, end: bigint): Promise<Visit[]> {
  const out: Visit[] = [];
  const walk = async (ref: NodeRef, ns: bigint, pw: number): Promise<void> => {
    if (ref.leaf) {
      out.push({ ref, start: ns, pw });
      return;
    }
    const node = await store.core(ref);
    for (let i = 0; i < FANOUT; i++) {
      const child = slotRef(node, i);
      if (child === null) continue;
      const cs = slotStart(ns, node.childPw, i);
      const ce = cs + (1n << BigInt(node.childPw));
      if (ce <= start || cs >= end) continue;
      await walk(child, cs, node.childPw);
    }
  };
  if (root) await walk(root, ROOT_START, ROOT_PW);
  return out;
}

/** How a query treats a subtree: skip it, take its slot statistics whole, or look inside. */
const SKIP = 0;
const WHOLE = 1;
const DESCEND = 2;
type Classify = (ns: bigint, ne: bigint, pw: number) => 0 | 1 | 2;

/**
 * Visit a tree in time order: `onWhole` for subtrees taken whole, `onLeaf` for leaves looked into.
 * First loads (asynchronously) every core node and leaf the walk will need — leaves with one
 * coalesced read — then walks synchronously, so a query over cached data pays no await per node.
 */
async function visit(
  store: TreeStore,
  root: NodeRef | null,
  classify: Classify,
  onWhole: (ref: NodeRef, ns: bigint, pw: number) => void,
  onLeaf: (cols: LeafColumns, ns: bigint, pw: number) => void,
): Promise<void> {
  if (root === null) return;
  const cores = new Map<number, CoreNode>();
  const leafRefs: NodeRef[] = [];
  let level: Visit[] = [{ ref: root, start: ROOT_START, pw: ROOT_PW }];
  while (level.length > 0) {
    const next: Visit[] = [];
    const inner = level.filter((v) => {
      const c = classify(v.start, v.start + (1n << BigInt(v.pw)), v.pw);
      if (c !== DESCEND) return false;
      if (v.ref.leaf) {
        leafRefs.push(v.ref);
        return false;
      }
      return true;
    });
    const nodes = await Promise.all(inner.map((v) => store.core(v.ref)));
    for (let k = 0; k < inner.length; k++) {
      const v = inner[k]!;
      const node = nodes[k]!;
      cores.set(v.ref.addr, node);
      for (let i = 0; i < FANOUT; i++) {
        const child = slotRef(node, i);
        if (child) next.push({ ref: child, start: slotStart(v.start, node.childPw, i), pw: node.childPw });
      }
    }
    level = next;
  }
  leafRefs.sort((a, b) => a.addr - b.addr);
  const loaded = await store.leafMany(leafRefs);
  const leaves = new Map<number, LeafColumns>();
  for (let k = 0; k < leafRefs.length; k++) leaves.set(leafRefs[k]!.addr, loaded[k]!);
  const walk = (ref: NodeRef, ns: bigint, pw: number): void => {
    const c = classify(ns, ns + (1n << BigInt(pw)), pw);
    if (c === SKIP) return;
    if (c === WHOLE) {
      onWhole(ref, ns, pw);
      return;
    }
    if (ref.leaf) {
      onLeaf(leaves.get(ref.addr)!, ns, pw);
      return;
    }
    const node = cores.get(ref.addr)!;
    for (let i = 0; i < FANOUT; i++) {
      const child = slotRef(node, i);
      if (child) walk(child, slotStart(ns, node.childPw, i), node.childPw);
    }
  };
  walk(root, ROOT_START, ROOT_PW);
}

/** Raw points in [start, end), ascending, as chunks of typed arrays (views; do not mutate). */
export async function* rawValues(
  store: TreeStore,
  root: NodeRef | null,
  start: bigint,
  end: bigint,
): AsyncGenerator<PointBatch> {
  const leaves = await overlappingLeaves(store, root, start, end);
  for (let k = 0; k < leaves.length; k += LEAVES_PER_CHUNK) {
    const group = leaves.slice(k, k + LEAVES_PER_CHUNK);
    const cols = await store.leafMany(group.map((v) => v.ref));
    for (const c of cols) {
      const part = clip(c, start, end);
      if (part.times.length > 0) yield part;
    }
  }
}

function clip(c: LeafColumns, start: bigint, end: bigint): PointBatch {
  const n = c.times.length;
  const lo = n > 0 && c.times[0]! >= start ? 0 : lowerBound(c.times, start);
  const hi = n > 0 && c.times[n - 1]! < end ? n : lowerBound(c.times, end, lo);
  return lo === 0 && hi === n ? c : slice(c, lo, hi);
}

/** Exact number of points in [start, end). */
export async function countRange(store: TreeStore, root: NodeRef | null, start: bigint, end: bigint): Promise<number> {
  let total = 0;
  await visit(
    store,
    root,
    (ns, ne) => (ne <= start || ns >= end ? SKIP : ns >= start && ne <= end ? WHOLE : DESCEND),
    (ref) => {
      total += ref.count;
    },
    (c) => {
      const lo = lowerBound(c.times, start);
      total += lowerBound(c.times, end, lo) - lo;
    },
  );
  return total;
}

/**
 * Feeds node summaries and leaf point runs, in time order, into consecutive windows (keyed by their
 * start time) and collects the finished windows. With `step` > 0 the windows between two non-empty
 * ones are emitted with count 0; with `step` = 0 empty windows are omitted.
 */
class WindowSink {
  private cur: bigint | null = null;
  private readonly acc = new Summary();
  readonly out: StatPoint[] = [];

  /**
   * `first`: with a step, the first window's start (empty windows are padded from there).
   * `tooMany`: called (and expected to throw) when the answer would exceed `max` windows.
   */
  constructor(
    private readonly step: bigint,
    private readonly first: bigint = 0n,
    private readonly max: number = MAX_WINDOWS,
    private readonly tooMany: () => never = () => {
      throw new DbError(415, `the query would return more than ${MAX_WINDOWS} windows`);
    },
  ) {}

  private moveTo(w: bigint): void {
    if (w === this.cur) return;
    if (this.cur !== null) this.emit(this.cur);
    if (this.step > 0n) {
      for (let e = this.cur === null ? this.first : this.cur + this.step; e < w; e += this.step) {
        this.out.push(emptyStat(e));
      }
    }
    this.cur = w;
  }

  private emit(w: bigint): void {
    if (this.acc.count > 0 || this.step > 0n) {
      if (this.out.length >= this.max) this.tooMany();
      this.out.push(this.acc.toStatPoint(w));
    }
    this.acc.reset();
  }

  addRef(w: bigint, ref: NodeRef): void {
    this.moveTo(w);
    mergeRef(this.acc, ref);
  }

  addValues(w: bigint, leaf: LeafColumns, lo: number, hi: number): void {
    if (hi <= lo) return;
    this.moveTo(w);
    addRange(this.acc, leaf, lo, hi);
  }

  /** Close the last window; with a step, pad empty windows up to `stop` (exclusive). */
  finish(stop?: bigint): StatPoint[] {
    if (stop !== undefined && this.step > 0n) {
      this.moveTo(stop);
      this.acc.reset();
      this.cur = null;
      return this.out;
    }
    if (this.cur !== null) this.emit(this.cur);
    this.cur = null;
    return this.out;
  }
}

const emptyStat = (time: bigint): StatPoint => ({ time, min: 0, mean: 0, max: 0, count: 0, stddev: 0 });

/**
 * Windows [start + k·width, start + (k+1)·width) for k = 0 … ⌊(end − start)/width⌋ − 1 (a window
 * crossing `end` is dropped). Empty windows are returned with count 0 (BTrDB v4 behaviour).
 */
export async function windows(
  store: TreeStore,
  root: NodeRef | null,
  start: bigint,
  end: bigint,
  width: bigint,
): Promise<StatPoint[]> {
  const nwBig = (end - start) / width;
  if (nwBig > BigInt(MAX_WINDOWS)) {
    throw new DbError(415, `windows query would return ${nwBig} windows, more than ${MAX_WINDOWS}; use a wider window`);
  }
  const stop = start + width * nwBig;
  const sink = new WindowSink(width, start);
  const windowOf = (t: bigint): bigint => start + ((t - start) / width) * width;
  if (nwBig === 0n) return [];
  await visit(
    store,
    root,
    (ns, ne) => {
      if (ne <= start || ns >= stop) return SKIP;
      if (ns >= start && ne <= stop && windowOf(ns) === windowOf(ne - 1n)) return WHOLE;
      return DESCEND;
    },
    (ref, ns) => sink.addRef(windowOf(ns), ref),
    (c) => {
      let lo = lowerBound(c.times, start);
      const hi = lowerBound(c.times, stop, lo);
      while (lo < hi) {
        const w = windowOf(c.times[lo]!);
        const next = lowerBound(c.times, w + width, lo, hi);
        sink.addValues(w, c, lo, next);
        lo = next;
      }
    },
  );
  return sink.finish(stop);
}

/**
 * Aligned windows of width 2^pw: start and end are rounded down to multiples of 2^pw; windows
 * with no points are omitted. Points in [start', start) count, points in [end', end) do not.
 */
export async function alignedWindows(
  store: TreeStore,
  root: NodeRef | null,
  start: bigint,
  end: bigint,
  pw: number,
  maxWindows: number = MAX_WINDOWS,
): Promise<StatPoint[]> {
  const s = alignDown(start, pw);
  const e = alignDown(end, pw);
  if (s >= e || root === null) return [];
  const width = 1n << BigInt(pw);
  const windowOf = (t: bigint): bigint => alignDown(t, pw);
  // Only windows holding points are answered, so the cap counts those: a sparse stream can be
  // asked at a small pw over a long range. The answer is one array, so it is bounded.
  const sink = new WindowSink(0n, 0n, maxWindows, () => {
    throw new DbError(
      415,
      `aligned windows query would return more than ${maxWindows} windows: raise pw (pw=${pw} now) or narrow the range`,
    );
  });
  await visit(
    store,
    root,
    (ns, ne, npw) => (ne <= s || ns >= e ? SKIP : npw <= pw && isAligned(npw) ? WHOLE : DESCEND),
    (ref, ns) => sink.addRef(windowOf(ns), ref),
    (c, ns) => {
      let lo = lowerBound(c.times, s > ns ? s : ns);
      const hi = lowerBound(c.times, e, lo);
      while (lo < hi) {
        const w = windowOf(c.times[lo]!);
        const next = lowerBound(c.times, w + width, lo, hi);
        sink.addValues(w, c, lo, next);
        lo = next;
      }
    },
  );
  return sink.finish();
}

/**
 * Forward: the first point with t ≥ time. Backward: the last point with t < time (strictly).
 * Among equal times, forward returns the first stored, backward the last.
 */
export async function nearest(
  store: TreeStore,
  root: NodeRef | null,
  time: bigint,
  backward: boolean,
): Promise<{ time: bigint; value: number } | null> {
  const walk = async (ref: NodeRef, ns: bigint, pw: number): Promise<{ time: bigint; value: number } | null> => {
    const ne = ns + (1n << BigInt(pw));
    if (backward ? ns >= time : ne <= time) return null;
    if (ref.leaf) {
      const c = await store.leaf(ref);
      const i = lowerBound(c.times, time);
      if (backward) return i > 0 ? { time: c.times[i - 1]!, value: c.values[i - 1]! } : null;
      return i < c.times.length ? { time: c.times[i]!, value: c.values[i]! } : null;
    }
    const node = await store.core(ref);
    for (let k = 0; k < FANOUT; k++) {
      const i = backward ? FANOUT - 1 - k : k;
      const child = slotRef(node, i);
      if (child === null) continue;
      const found = await walk(child, slotStart(ns, node.childPw, i), node.childPw);
      if (found) return found;
    }
    return null;
  };
  return root ? walk(root, ROOT_START, ROOT_PW) : null;
}

/**
 * Time ranges whose points differ between two versions' trees, at granularity 2^resolution:
 * subtrees shared by address are skipped; sorted, adjacent ranges merged. Covers every change.
 */
export async function changedRanges(
  store: TreeStore,
  a: NodeRef | null,
  b: NodeRef | null,
  resolution: number,
): Promise<{ start: bigint; end: bigint }[]> {
  const out: { start: bigint; end: bigint }[] = [];
  const push = (start: bigint, end: bigint): void => {
    const last = out[out.length - 1];
    if (last && last.end >= start) {
      if (end > last.end) last.end = end;
    } else out.push({ start, end });
  };
  const R = BigInt(resolution);
  const walk = async (x: NodeRef | null, y: NodeRef | null, ns: bigint, pw: number): Promise<void> => {
    if (x === null && y === null) return;
    if (x !== null && y !== null && x.addr === y.addr) return;
    const ne = ns + (1n << BigInt(pw));
    if (pw <= resolution) {
      push(ns, ne);
      return;
    }
    if ((x === null || !x.leaf) && (y === null || !y.leaf)) {
      const nx = x ? await store.core(x) : null;
      const ny = y ? await store.core(y) : null;
      const childPw = (nx ?? ny)!.childPw;
      for (let i = 0; i < FANOUT; i++) {
        await walk(nx ? slotRef(nx, i) : null, ny ? slotRef(ny, i) : null, slotStart(ns, childPw, i), childPw);
      }
      return;
    }
    // A leaf on either side: cover the span of both sides' points, rounded out to 2^resolution.
    let lo: bigint | null = null;
    let hi: bigint | null = null;
    for (const side of [x, y]) {
      if (side === null) continue;
      const [first, last] = await subtreeSpan(store, side);
      if (lo === null || first < lo) lo = first;
      if (hi === null || last > hi) hi = last;
    }
    if (lo === null || hi === null) return;
    const rs = (lo >> R) << R;
    const re = ((hi >> R) << R) + (1n << R);
    push(rs < ns ? ns : rs, re > ne ? ne : re);
  };
  await walk(a, b, ROOT_START, ROOT_PW);
  return out;
}

/** First and last point time of a non-empty subtree. */
async function subtreeSpan(store: TreeStore, ref: NodeRef): Promise<[bigint, bigint]> {
  if (ref.leaf) {
    const c = await store.leaf(ref);
    return [c.times[0]!, c.times[c.times.length - 1]!];
  }
  const node = await store.core(ref);
  let first: NodeRef | null = null;
  let last: NodeRef | null = null;
  for (let i = 0; i < FANOUT; i++) {
    const child = slotRef(node, i);
    if (child === null) continue;
    first ??= child;
    last = child;
  }
  const [lo] = await subtreeSpan(store, first!);
  const [, hi] = await subtreeSpan(store, last!);
  return [lo, hi];
}

/**
 * Merge the points of several streams (one per point ID) into SNAPdb key order — ascending
 * (ticks, point ID) — reading each stream chunk by chunk, so memory holds one chunk per stream.
 * Two stored ns times of one stream that fall in the same tick (possible only for points written
 * through another API) would make the same key twice: the first is kept.
 */
import type { PointBatch } from '../../core/types.ts';
import { nsToTicks } from './historian-mapping.ts';

export interface MergedPoint {
  ticks: bigint;
  pointId: bigint;
  value: number;
  flags: number;
}

interface Cursor {
  readonly pointId: bigint;
  readonly it: AsyncIterator<PointBatch>;
  batch: PointBatch;
  ticks: BigInt64Array;
  i: number;
}

const less = (a: Cursor, b: Cursor): boolean => {
  const ta = a.ticks[a.i]!;
  const tb = b.ticks[b.i]!;
  return ta < tb || (ta === tb && a.pointId < b.pointId);
};

function ticksOf(b: PointBatch): BigInt64Array {
  const out = new BigInt64Array(b.times.length);
  for (let i = 0; i < out.length; i++) out[i] = nsToTicks(b.times[i]!);
  return out;
}

/** Advance to the next non-empty chunk; false when the stream is exhausted. */
async function load(c: Cursor): Promise<boolean> {
  for (;;) {
    const r = await c.it.next();
    if (r.done) return false;
    if (r.value.times.length === 0) continue;
    c.batch = r.value;
    c.ticks = ticksOf(r.value);
    c.i = 0;
    return true;
  }
}

/**
 * Yields the points of every source in key order. `sources`: point ID → its chunks (each chunk
 * ascending in time, chunks in time order). `keep(ticks)` drops points the time filter rejects.
 */
export async function* mergePoints(
  sources: ReadonlyMap<bigint, AsyncIterable<PointBatch>>,
  keep: (ticks: bigint) => boolean,
): AsyncGenerator<MergedPoint> {
  const heap: Cursor[] = [];
  const empty: PointBatch = { times: new BigInt64Array(0), values: new Float64Array(0) };
  for (const [pointId, src] of sources) {
    const c: Cursor = { pointId, it: src[Symbol.asyncIterator](), batch: empty, ticks: new BigInt64Array(0), i: 0 };
    if (await load(c)) push(heap, c);
  }
  const out: MergedPoint = { ticks: 0n, pointId: 0n, value: 0, flags: 0 };
  let lastTicks = -1n;
  let lastId = -1n;
  try {
    while (heap.length > 0) {
      const c = heap[0]!;
      const ticks = c.ticks[c.i]!;
      if (keep(ticks) && !(ticks === lastTicks && c.pointId === lastId)) {
        out.ticks = ticks;
        out.pointId = c.pointId;
        out.value = c.batch.values[c.i]!;
        out.flags = c.batch.flags === undefined ? 0 : c.batch.flags[c.i]!;
        lastTicks = ticks;
        lastId = c.pointId;
        yield out;
      }
      c.i++;
      if (c.i >= c.ticks.length && !(await load(c))) {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          down(heap, 0);
        }
      } else {
        down(heap, 0);
      }
    }
  } finally {
    for (const c of heap) await c.it.return?.();
  }
}

function push(heap: Cursor[], c: Cursor): void {
  heap.push(c);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!less(heap[i]!, heap[p]!)) break;
    [heap[i], heap[p]] = [heap[p]!, heap[i]!];
    i = p;
  }
}

function down(heap: Cursor[], i: number): void {
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < n && less(heap[l]!, heap[m]!)) m = l;
    if (r < n && less(heap[r]!, heap[m]!)) m = r;
    if (m === i) return;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
}

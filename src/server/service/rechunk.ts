/**
 * Re-cut a stream of point batches (the engine yields leaf-sized views) into batches of exactly
 * `size` points (the last one shorter), each a fresh copy that the caller may keep. The source is
 * pulled lazily: one output batch costs at most `size` points of memory plus one source batch,
 * so a slow reader holds back the reads instead of the server buffering a whole range.
 */
import type { PointBatch } from '../../core/types.ts';

export async function* rechunkPoints(source: AsyncIterable<PointBatch>, size: number): AsyncGenerator<PointBatch> {
  let times = new BigInt64Array(size);
  let values = new Float64Array(size);
  let n = 0;
  for await (const b of source) {
    let i = 0;
    const len = b.times.length;
    while (i < len) {
      const take = Math.min(size - n, len - i);
      times.set(b.times.subarray(i, i + take), n);
      values.set(b.values.subarray(i, i + take), n);
      n += take;
      i += take;
      if (n === size) {
        yield { times, values };
        times = new BigInt64Array(size);
        values = new Float64Array(size);
        n = 0;
      }
    }
  }
  if (n > 0) yield { times: times.slice(0, n), values: values.slice(0, n) };
}

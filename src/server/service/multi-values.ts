/**
 * ArrowMultiValues (guide §4.14): several streams' raw points in [start, end) joined on time, each
 * at its own version, optionally snapped to the grid `start + k·snapPeriodNs`. Each message is one
 * Arrow IPC stream of `time` + one float64 column per uuid (named by the uuid's text form, or as
 * the template says); missing cells are NaN, never null; an empty answer is zero rows with the full
 * schema.
 */
import { DbError } from '../../core/errors.ts';
import { MAX_TIME, MIN_TIME } from '../../core/time.ts';
import type { PointBatch } from '../../core/types.ts';
import type { Backend } from '../../db/backend.ts';
import {
  type ArrowMultiValuesParams,
  type ArrowMultiValuesResponse,
  multiValuesToArrow,
  parseArrowTemplate,
} from '../../wire/index.ts';
import { MAX_METADATA_ENTRIES, requestedVersion, streamIdOf } from './convert.ts';
import { joinSources, snapPoints } from './multi-join.ts';
import { rawBatches } from './read-rpcs.ts';

export const EMPTY_MULTI: ArrowMultiValuesResponse = { arrowBytes: new Uint8Array(0) };

async function* batchesOf(it: AsyncIterable<{ batch: PointBatch }>): AsyncGenerator<PointBatch> {
  for await (const x of it) yield x.batch;
}

/** The raw range to read so that every point that snaps into [start, end) is seen. */
function snapReadRange(start: bigint, end: bigint, period: bigint): [bigint, bigint] {
  const grids = (end - start + period - 1n) / period; // grid times in [start, end)
  const lo = start - period / 2n;
  const hi = start + grids * period;
  return [lo < MIN_TIME ? MIN_TIME : lo, hi > MAX_TIME ? MAX_TIME : hi];
}

export async function* arrowMultiValues(
  backend: Backend,
  req: ArrowMultiValuesParams,
  size: number,
): AsyncGenerator<ArrowMultiValuesResponse> {
  if (req.uuid.length > MAX_METADATA_ENTRIES) {
    throw new DbError(438, `ArrowMultiValues: ${req.uuid.length} streams, at most ${MAX_METADATA_ENTRIES} allowed`);
  }
  const ids = req.uuid.map(streamIdOf);
  const versions = ids.map((_, i) => requestedVersion(req.versionMajor[i] ?? 0n));
  const period = req.snapPeriodNs;
  if (period < 0n) throw new DbError(438, `snapPeriodNs ${period} must not be negative`);
  if (req.start >= req.end) throw new DbError(413, `start ${req.start} must be before end ${req.end}`);
  const template = parseArrowTemplate(req.templateBytes, ids.length + 1);
  const [lo, hi] = period === 0n ? [req.start, req.end] : snapReadRange(req.start, req.end, period);
  const sources = ids.map((id, i) => {
    const raw = batchesOf(rawBatches(backend, id, lo, hi, versions[i]!, size));
    return period === 0n ? raw : snapPoints(raw, req.start, req.end, period);
  });
  let any = false;
  for await (const piece of joinSources(sources, size)) {
    any = true;
    yield { arrowBytes: multiValuesToArrow(piece.times, piece.columns as Float64Array[], ids, template) };
  }
  if (!any) {
    const none = ids.map(() => new Float64Array(0));
    yield { arrowBytes: multiValuesToArrow(new BigInt64Array(0), none, ids, template) };
  }
}

/**
 * The single-stream read RPCs (guide §4.4–4.9): RawValues, ArrowRawValues, AlignedWindows,
 * ArrowAlignedWindows, Windows, ArrowWindows, Nearest, Changes. Answers are streamed in messages
 * of at most `perMessage` points or windows, pulled lazily from the backend so that a slow reader
 * holds the read back; an empty answer is one message with no points (and, for Arrow, the full
 * schema). Ranges, point widths, widths and depths are checked by the engine (413/415).
 */
import { DbError } from '../../core/errors.ts';
import type { StatPoint } from '../../core/stat.ts';
import type { PointBatch, StreamId } from '../../core/types.ts';
import type { Backend } from '../../db/backend.ts';
import {
  type AlignedWindowsParams,
  type ArrowRawValuesParams,
  type ArrowVersionedResponse,
  type ChangesParams,
  type ChangesResponse,
  type NearestParams,
  type NearestResponse,
  parseArrowTemplate,
  type RawValuesParams,
  type RawValuesResponse,
  rawValuesToArrow,
  type WindowsParams,
  type WindowsResponse,
  windowsToArrow,
} from '../../wire/index.ts';
import { requestedVersion, slices, streamIdOf } from './convert.ts';
import { rechunkPoints } from './rechunk.ts';

/** Changed ranges per message (v4). */
export const RANGES_PER_MESSAGE = 1000;

const NO_POINTS: PointBatch = { times: new BigInt64Array(0), values: new Float64Array(0) };
export const EMPTY_RAW: RawValuesResponse = { versionMajor: 0n, versionMinor: 0n, values: NO_POINTS };
export const EMPTY_ARROW: ArrowVersionedResponse = {
  versionMajor: 0n,
  versionMinor: 0n,
  arrowBytes: new Uint8Array(0),
};
export const EMPTY_WINDOWS: WindowsResponse = { versionMajor: 0n, versionMinor: 0n, values: [] };
export const EMPTY_NEAREST: NearestResponse = { versionMajor: 0n, versionMinor: 0n };
export const EMPTY_CHANGES: ChangesResponse = { versionMajor: 0n, versionMinor: 0n, ranges: [] };

/**
 * Points of [start, end) at a version in batches of `size` (copies), each with the version read.
 * Always yields at least one batch (empty when there are no points).
 */
export async function* rawBatches(
  backend: Backend,
  id: StreamId,
  start: bigint,
  end: bigint,
  version: number,
  size: number,
): AsyncGenerator<{ batch: PointBatch; version: bigint }> {
  let read = 0n;
  async function* points(): AsyncGenerator<PointBatch> {
    for await (const v of backend.rawValues(id, start, end, version)) {
      read = BigInt(v.version);
      yield v.value;
    }
  }
  let any = false;
  for await (const batch of rechunkPoints(points(), size)) {
    any = true;
    yield { batch, version: read };
  }
  if (!any) yield { batch: NO_POINTS, version: read };
}

export async function* rawValues(
  backend: Backend,
  req: RawValuesParams,
  size: number,
): AsyncGenerator<RawValuesResponse> {
  const id = streamIdOf(req.uuid);
  const v = requestedVersion(req.versionMajor);
  for await (const { batch, version } of rawBatches(backend, id, req.start, req.end, v, size)) {
    yield { versionMajor: version, versionMinor: 0n, values: batch };
  }
}

/** As RawValues, each message one Arrow IPC stream (default raw schema or the template's). */
export async function* arrowRawValues(
  backend: Backend,
  req: ArrowRawValuesParams,
  size: number,
): AsyncGenerator<ArrowVersionedResponse> {
  const id = streamIdOf(req.uuid);
  const v = requestedVersion(req.versionMajor);
  const template = parseArrowTemplate(req.templateBytes, 2);
  for await (const { batch, version } of rawBatches(backend, id, req.start, req.end, v, size)) {
    yield { versionMajor: version, versionMinor: 0n, arrowBytes: rawValuesToArrow(batch, template) };
  }
}

async function alignedStats(
  backend: Backend,
  req: AlignedWindowsParams,
): Promise<{ stats: StatPoint[]; version: bigint }> {
  const r = await backend.alignedWindows(
    streamIdOf(req.uuid),
    req.start,
    req.end,
    req.pointWidth,
    requestedVersion(req.versionMajor),
  );
  return { stats: r.value, version: BigInt(r.version) };
}

async function windowStats(backend: Backend, req: WindowsParams): Promise<{ stats: StatPoint[]; version: bigint }> {
  if (req.width === 0n) throw new DbError(415, 'window width 0 is not allowed');
  const r = await backend.windows(
    streamIdOf(req.uuid),
    req.start,
    req.end,
    req.width,
    req.depth,
    requestedVersion(req.versionMajor),
  );
  return { stats: r.value, version: BigInt(r.version) };
}

function* statMessages(stats: StatPoint[], version: bigint, size: number): Generator<WindowsResponse> {
  for (const part of slices(stats, size)) yield { versionMajor: version, versionMinor: 0n, values: part };
}

function* arrowStatMessages(stats: StatPoint[], version: bigint, size: number): Generator<ArrowVersionedResponse> {
  for (const part of slices(stats, size)) {
    yield { versionMajor: version, versionMinor: 0n, arrowBytes: windowsToArrow(part) };
  }
}

/** Windows [w, w + 2^pw) in the pw-aligned range; windows without points are omitted. */
export async function* alignedWindows(
  backend: Backend,
  req: AlignedWindowsParams,
  size: number,
): AsyncGenerator<WindowsResponse> {
  const { stats, version } = await alignedStats(backend, req);
  yield* statMessages(stats, version, size);
}

export async function* arrowAlignedWindows(
  backend: Backend,
  req: AlignedWindowsParams,
  size: number,
): AsyncGenerator<ArrowVersionedResponse> {
  const { stats, version } = await alignedStats(backend, req);
  yield* arrowStatMessages(stats, version, size);
}

/** Windows [start + k·width, …) up to the last whole window; empty windows have count 0 (v4). */
export async function* windows(backend: Backend, req: WindowsParams, size: number): AsyncGenerator<WindowsResponse> {
  const { stats, version } = await windowStats(backend, req);
  yield* statMessages(stats, version, size);
}

export async function* arrowWindows(
  backend: Backend,
  req: WindowsParams,
  size: number,
): AsyncGenerator<ArrowVersionedResponse> {
  const { stats, version } = await windowStats(backend, req);
  yield* arrowStatMessages(stats, version, size);
}

/** Forward: first point ≥ time; backward: last point < time. None is 401, never an empty OK. */
export async function nearest(backend: Backend, req: NearestParams): Promise<NearestResponse> {
  const id = streamIdOf(req.uuid);
  const r = await backend.nearest(id, req.time, req.backward, requestedVersion(req.versionMajor));
  if (r === null) {
    throw new DbError(401, `no point ${req.backward ? 'before' : 'at or after'} ${req.time} in stream ${id}`);
  }
  return { versionMajor: BigInt(r.version), versionMinor: 0n, value: r.value };
}

/** Ranges changed between fromMajor (exclusive) and toMajor (0 = latest); from > to is 427. */
export async function* changes(backend: Backend, req: ChangesParams): AsyncGenerator<ChangesResponse> {
  const id = streamIdOf(req.uuid);
  // A from-version above 2^53 is above every version: the engine answers 427 for it.
  const from = req.fromMajor > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(req.fromMajor);
  const r = await backend.changes(id, from, requestedVersion(req.toMajor, 'toMajor'), req.resolution);
  const version = BigInt(r.version);
  for (const part of slices(r.value, RANGES_PER_MESSAGE))
    yield { versionMajor: version, versionMinor: 0n, ranges: part };
}

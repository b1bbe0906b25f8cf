/**
 * The data-changing RPCs: Insert, ArrowInsert, Delete, Flush (guide §4.3, §4.10). The engine
 * validates the batch whole (413 times, 425 NaN/±Inf) before anything changes; this layer maps
 * the merge policy and the optional rounding, and answers an empty insert with the current version.
 */
import { DbError } from '../../core/errors.ts';
import type { MergePolicy, PointBatch, StreamId, Version } from '../../core/types.ts';
import type { Backend } from '../../db/backend.ts';
import {
  type ArrowInsertParams,
  type DeleteParams,
  type DeleteResponse,
  decodeArrowPoints,
  type FlushParams,
  type FlushResponse,
  type InsertParams,
  type InsertResponse,
  mergePolicyFromWire,
  type RoundSpec,
} from '../../wire/index.ts';
import { streamIdOf } from './convert.ts';

export const EMPTY_VERSIONED: InsertResponse = { versionMajor: 0n, versionMinor: 0n };

const versioned = (v: Version): InsertResponse => ({ versionMajor: BigInt(v), versionMinor: 0n });

function policyOf(v: number): MergePolicy {
  const p = mergePolicyFromWire(v);
  if (p === undefined) throw new DbError(438, `unknown merge policy ${v}; use 0 NEVER, 1 EQUAL, 2 RETAIN or 3 REPLACE`);
  return p;
}

/** RoundSpec `bits` (never sent by btrdb-python) clears that many low bits of every time [choice]. */
function rounded(batch: PointBatch, rounding: RoundSpec | undefined): PointBatch {
  const bits = rounding?.bits;
  if (bits === undefined || bits === 0) return batch;
  if (!Number.isInteger(bits) || bits < 0 || bits > 62) {
    throw new DbError(438, `rounding bits ${bits} must be in 0–62`);
  }
  const b = BigInt(bits);
  const times = batch.times.map((t) => (t >> b) << b);
  return { times, values: batch.values };
}

async function insertBatch(
  backend: Backend,
  id: StreamId,
  batch: PointBatch,
  policy: MergePolicy,
): Promise<InsertResponse> {
  if (batch.times.length === 0) return versioned((await backend.streamInfo(id)).version);
  return versioned(await backend.insert(id, batch, policy));
}

/** Insert points (any order) under a merge policy; the answer's version contains them. */
export function insert(backend: Backend, req: InsertParams): Promise<InsertResponse> {
  const id = streamIdOf(req.uuid);
  const policy = policyOf(req.merge_policy);
  return insertBatch(backend, id, rounded(req.values, req.rounding), policy);
}

/**
 * Insert an Arrow table (`time`/`value` by name, else two columns by position; any number of
 * record batches, zero rows allowed). 438 when the bytes are not such a table.
 */
export function arrowInsert(backend: Backend, req: ArrowInsertParams): Promise<InsertResponse> {
  const id = streamIdOf(req.uuid);
  const policy = policyOf(req.merge_policy);
  const points = decodeArrowPoints(req.arrowBytes);
  return insertBatch(backend, id, rounded(points, req.rounding), policy);
}

/** Delete [start, end); answers the new version (older versions keep the points). */
export async function deleteRange(backend: Backend, req: DeleteParams): Promise<DeleteResponse> {
  return versioned(await backend.delete(streamIdOf(req.uuid), req.start, req.end));
}

/** Commit buffered points; idempotent. */
export async function flush(backend: Backend, req: FlushParams): Promise<FlushResponse> {
  return versioned(await backend.flush(streamIdOf(req.uuid)));
}

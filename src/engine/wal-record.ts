/**
 * WAL payloads (docs/format/wal.md). One record per acknowledged insert batch:
 *
 *   u8  kind = 1 (insert)          u8 policy (0 never, 1 equal, 2 retain, 3 replace)
 *   u8  hasFlags (0/1)             u8 reserved = 0
 *   16  stream uuid bytes          u32 n (LE)
 *   f64 version (LE; an integer < 2^53: the data version handed out for this insert)
 *   n × i64 times (LE)             n × f64 values (LE)       [n × u32 flags (LE) if hasFlags]
 *
 * The record framing (length, CRC-32) is the RecordLog's.
 */
import { DbError } from '../core/errors.ts';
import type { MergePolicy, StreamId } from '../core/types.ts';
import { MERGE_POLICIES } from '../core/types.ts';
import { streamIdFromBytes, streamIdToBytes } from '../core/uuid.ts';
import type { PointBatch } from './point-batch.ts';

const KIND_INSERT = 1;
const HEADER = 32;

export interface WalInsert {
  readonly stream: StreamId;
  readonly version: number;
  readonly policy: MergePolicy;
  readonly batch: PointBatch;
}

export function encodeWalInsert(rec: WalInsert): Uint8Array {
  const n = rec.batch.times.length;
  const hasFlags = rec.batch.flags !== undefined;
  const size = HEADER + n * 16 + (hasFlags ? n * 4 : 0);
  // 8-byte aligned body so the columns can be copied as typed arrays.
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  buf[0] = KIND_INSERT;
  buf[1] = MERGE_POLICIES.indexOf(rec.policy);
  buf[2] = hasFlags ? 1 : 0;
  buf.set(streamIdToBytes(rec.stream), 4);
  dv.setUint32(20, n, true);
  dv.setFloat64(24, rec.version, true);
  new BigInt64Array(buf.buffer, HEADER, n).set(rec.batch.times);
  new Float64Array(buf.buffer, HEADER + n * 8, n).set(rec.batch.values);
  if (hasFlags) new Uint32Array(buf.buffer, HEADER + n * 16, n).set(rec.batch.flags!);
  return buf;
}

/** Decode a WAL payload; `where` names the record for error messages. Copies into fresh arrays. */
export function decodeWalInsert(payload: Uint8Array, where: string): WalInsert {
  if (payload.length < HEADER || payload[0] !== KIND_INSERT) {
    throw new DbError(500, `WAL record ${where}: unknown kind ${payload[0]} or short header (${payload.length} bytes)`);
  }
  const policy = MERGE_POLICIES[payload[1]!];
  if (policy === undefined) throw new DbError(500, `WAL record ${where}: bad merge policy ${payload[1]}`);
  // The encoder writes only 0/1 and a zero reserved byte; anything else is damage, not data.
  if (payload[2]! > 1) throw new DbError(500, `WAL record ${where}: flags byte ${payload[2]} is not 0 or 1`);
  if (payload[3] !== 0) throw new DbError(500, `WAL record ${where}: reserved byte ${payload[3]} is not 0`);
  const hasFlags = payload[2] === 1;
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const n = dv.getUint32(20, true);
  const version = dv.getFloat64(24, true);
  if (!Number.isSafeInteger(version) || version < 0)
    throw new DbError(500, `WAL record ${where}: bad version ${version}`);
  const need = HEADER + n * 16 + (hasFlags ? n * 4 : 0);
  if (payload.length !== need)
    throw new DbError(500, `WAL record ${where}: length ${payload.length}, expected ${need}`);
  const body = payload.slice(HEADER); // aligned copy
  const times = new BigInt64Array(body.buffer, 0, n);
  const values = new Float64Array(body.buffer, n * 8, n);
  const flags = hasFlags ? new Uint32Array(body.buffer, n * 16, n) : undefined;
  return { stream: streamIdFromBytes(payload.subarray(4, 20)), version, policy, batch: { times, values, flags } };
}

/** RFC 4122 UUIDs as stream ids: text form (lower-case, hyphenated) ↔ 16 raw bytes. */
import { randomUUID } from 'node:crypto';
import { DbError } from './errors.ts';
import type { StreamId } from './types.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Validate and normalise a uuid string (any case, with or without hyphens). 438 if malformed. */
export function parseStreamId(text: string): StreamId {
  const hex = text.trim().toLowerCase().replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new DbError(438, `not a uuid: ${JSON.stringify(text)}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` as StreamId;
}

export const isStreamId = (text: string): text is StreamId => UUID_RE.test(text);

/** 16 raw bytes (RFC 4122 order, as Python's `UUID.bytes`) → StreamId. 438 unless exactly 16 bytes. */
export function streamIdFromBytes(bytes: Uint8Array): StreamId {
  if (bytes.length !== 16) throw new DbError(438, `uuid must be 16 bytes, got ${bytes.length}`);
  return parseStreamId(Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('hex'));
}

export function streamIdToBytes(id: StreamId): Uint8Array {
  return new Uint8Array(Buffer.from(id.replace(/-/g, ''), 'hex'));
}

export const newStreamId = (): StreamId => randomUUID() as StreamId;

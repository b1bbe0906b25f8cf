/**
 * Request fields → Backend arguments and Backend answers → wire messages, with the checks the
 * wire types cannot express (16-byte uuids, versions that fit a JS number, metadata list sizes).
 */
import { DbError } from '../../core/errors.ts';
import type { StreamDescriptor as CoreDescriptor, StreamId } from '../../core/types.ts';
import { streamIdFromBytes, streamIdToBytes } from '../../core/uuid.ts';
import type { MetaFilter } from '../../db/backend.ts';
import type { KeyOptValue, StreamDescriptor } from '../../wire/index.ts';

/** Most tags/annotations/removals accepted in one request (each key and value is ≤ 255 anyway). */
export const MAX_METADATA_ENTRIES = 4096;

/** A request's `uuid`: exactly 16 raw bytes, else 438 InvalidParameter. */
export function streamIdOf(uuid: Uint8Array): StreamId {
  return streamIdFromBytes(uuid);
}

/**
 * A requested data version (uint64 on the wire; 0 = latest). Versions are JS numbers inside
 * ArborDB; one above 2^53 cannot exist, so it is 450 VersionNotAvailable.
 */
export function requestedVersion(v: bigint, what = 'version'): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DbError(450, `${what} ${v} is not available`);
  return Number(v);
}

/** A property version from a request; anything above 2^53 cannot match (423). */
export function expectedPropertyVersion(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

function checkCount(n: number, what: string): void {
  if (n > MAX_METADATA_ENTRIES) {
    throw new DbError(438, `${what}: ${n} entries, at most ${MAX_METADATA_ENTRIES} allowed per request`);
  }
}

/** Tags/annotations of an update or a filter: `val` present = that string, absent = null. Last key wins. */
export function metaFilterOf(entries: readonly KeyOptValue[], what: string): MetaFilter {
  checkCount(entries.length, what);
  const out: Record<string, string | null> = {};
  for (const e of entries) out[e.key] = e.val === undefined ? null : e.val.value;
  return out;
}

/**
 * Tags/annotations of a Create. btrdb-python always sets `val` there (Python None → ""), so an
 * absent `val` is read as "" too. Last key wins.
 */
export function createMapOf(entries: readonly KeyOptValue[], what: string): Record<string, string> {
  checkCount(entries.length, what);
  const out: Record<string, string> = {};
  for (const e of entries) out[e.key] = e.val?.value ?? '';
  return out;
}

/** A list of keys to remove. */
export function keyList(keys: readonly string[], what: string): readonly string[] {
  checkCount(keys.length, what);
  return keys;
}

const entriesOf = (m: Readonly<Record<string, string>>): KeyOptValue[] =>
  Object.entries(m).map(([key, value]) => ({ key, val: { value } }));

/** A descriptor for StreamInfo / LookupStreams: every tag and annotation with `val` set. */
export function descriptorToWire(d: CoreDescriptor): StreamDescriptor {
  return {
    uuid: streamIdToBytes(d.id),
    collection: d.collection,
    tags: entriesOf(d.tags),
    annotations: entriesOf(d.annotations),
    propertyVersion: BigInt(d.propertyVersion),
  };
}

/** Split `items` into slices of at most `size` (at least one slice, possibly empty). */
export function slices<T>(items: readonly T[], size: number): T[][] {
  if (items.length === 0) return [[]];
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

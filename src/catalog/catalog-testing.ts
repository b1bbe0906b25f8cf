/** Helpers shared by the catalog's tests (not used by production code). */
import assert from 'node:assert/strict';
import { isDbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import type { NewStream } from './types.ts';

/** A deterministic stream id: `sid(1)` = 00000000-0000-4000-8000-000000000001. */
export function sid(n: number): StreamId {
  const hex = n.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}` as StreamId;
}

export function stream(
  n: number,
  collection: string,
  tags: Record<string, string> = { name: `s${n}` },
  annotations: Record<string, string> = {},
): NewStream {
  return { id: sid(n), collection, tags, annotations };
}

/** Await `p` and assert it rejects with DbError `code`; returns the message. */
export async function rejectsWith(p: Promise<unknown>, code: number): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(isDbError(e), `expected DbError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    return e.message;
  }
  assert.fail(`expected a DbError ${code}, but the call succeeded`);
}

/** Byte-order comparison (what Postgres' "C" collation does). */
export function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

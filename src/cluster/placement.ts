/**
 * Placement in cluster mode: which shard a stream lives in, and which live member owns a shard.
 *
 * `shardOf` is part of the on-disk layout — a stream's data sits in its shard's stores — so the
 * function below must NEVER change (golden values in placement.test.ts pin it):
 *
 *     shardOf(id, shards) = u32be(SHA-1(uuidBytes(id))[0..4]) mod shards
 *
 * where `uuidBytes` is the 16 raw RFC 4122 bytes of the stream id (as Python's `UUID.bytes`).
 *
 * `ownerOf` uses rendezvous (highest-random-weight) hashing: each member's weight for a shard is
 *
 *     u64be(SHA-1(utf8(`${shard}\n${member}`))[0..8])
 *
 * and the member with the highest weight owns the shard (equal weights — practically never — go
 * to the greater member id). A shard's owner depends only on the set of members, not their order;
 * when a member leaves, only its shards move (each to the member that ranked second), and when one
 * joins it takes only the shards it now ranks first for.
 */
import { createHash } from 'node:crypto';
import { DbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { streamIdToBytes } from '../core/uuid.ts';

/** Default number of shards of a cluster. */
export const DEFAULT_SHARDS = 64;

function checkShards(shards: number): void {
  if (!Number.isInteger(shards) || shards < 1 || shards > 0xffff_ffff) {
    throw new DbError(438, `shard count must be a whole number in [1, 2^32), got ${shards}`);
  }
}

/** The shard, in [0, shards), of stream `id`. Stable forever (see the file comment). */
export function shardOf(id: StreamId, shards: number): number {
  checkShards(shards);
  const digest = createHash('sha1').update(streamIdToBytes(id)).digest();
  return digest.readUInt32BE(0) % shards;
}

/** The rendezvous weight of `member` for `shard` (a 64-bit unsigned integer). */
export function weightOf(shard: number, member: string): bigint {
  return createHash('sha1').update(`${shard}\n${member}`, 'utf8').digest().readBigUInt64BE(0);
}

/** The member that owns `shard` among `members` (any order, duplicates ignored); null if none. */
export function ownerOf(shard: number, members: readonly string[]): string | null {
  let best: string | null = null;
  let bestWeight = -1n;
  for (const m of members) {
    const w = weightOf(shard, m);
    if (w > bestWeight || (w === bestWeight && best !== null && m > best)) {
      best = m;
      bestWeight = w;
    }
  }
  return best;
}

/** The owner of every shard 0 … shards − 1 (null entries when there are no members). */
export function assignment(shards: number, members: readonly string[]): (string | null)[] {
  checkShards(shards);
  const owners: (string | null)[] = [];
  for (let s = 0; s < shards; s++) owners.push(ownerOf(s, members));
  return owners;
}

/** The shards, ascending, that `member` owns among `members`. */
export function shardsOwnedBy(member: string, shards: number, members: readonly string[]): number[] {
  const mine: number[] = [];
  assignment(shards, members).forEach((owner, s) => {
    if (owner === member) mine.push(s);
  });
  return mine;
}

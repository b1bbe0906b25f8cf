/**
 * Data retention for edge recorders: keep the last N days, or at most N bytes, of each collection,
 * dropping the oldest data first, so that a short-term archive near the PMUs records forever in
 * fixed space (openHistorian's rolling archive, seed 003).
 *
 * A sweep deletes, per stream, the points older than the rule's cutoff (one new version per stream
 * that had any) and then compacts with `dropBefore` set for those streams, so the versions that
 * still held the deleted points are pruned and their blocks reclaimed. A sweep that finds nothing
 * to drop writes nothing: running it every minute is cheap and idempotent.
 *
 * Rules:
 *   - `collection` names a collection and covers its sub-collections too (`edge` covers `edge` and
 *     `edge/site1`, not `edge2`). A stream falls under the longest rule that covers it.
 *   - `maxAgeNs`: points older than `now - maxAgeNs` (wall-clock ns, not the newest point) go.
 *   - `maxBytes`: if the latest versions of the rule's streams occupy more than this on disk
 *     together, the oldest points across them go until the estimate is ≤ 90 % of it (the margin
 *     keeps a sweep from running on every insert). Bytes per point are each stream's own average;
 *     a single cutoff time applies to all the rule's streams, so "oldest first" holds across the
 *     collection, not per stream.
 */
import { DAY, HOUR, MAX_INSERT_TIME, MAX_TIME, MIN_TIME, MINUTE, SECOND } from '../core/time.ts';
import type { StreamId, Version } from '../core/types.ts';
import type { CompactionReport, RetentionPolicy } from '../engine/compaction.ts';
import { treeSize } from '../engine/tree-size.ts';
import type { Database } from './database.ts';

export interface DataRetentionRule {
  /** A collection; the rule also covers its sub-collections. */
  readonly collection: string;
  /** Keep points younger than this (ns before now). */
  readonly maxAgeNs?: bigint;
  /** Keep at most this many bytes on disk for all covered streams together. */
  readonly maxBytes?: number;
}

export interface DataRetentionReport {
  /** Per rule: covered streams, bytes before, the cutoff applied (null: nothing to drop), points dropped. */
  readonly rules: {
    readonly collection: string;
    readonly streams: number;
    readonly bytesBefore: number;
    readonly cutoff: bigint | null;
    readonly pointsDropped: number;
  }[];
  /** The compaction that reclaimed the space (null when nothing was dropped). */
  readonly compaction: CompactionReport | null;
}

/** The fraction of `maxBytes` a size sweep brings the estimate down to. */
export const SIZE_TARGET = 0.9;

const UNITS: Record<string, bigint> = { s: SECOND, m: MINUTE, h: HOUR, d: DAY };
const SIZES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
};

/** A retention rule that does not parse (the CLI reports it as a usage error). */
export class RetentionRuleError extends Error {}

/**
 * Parse `COLLECTION=LIMIT[,LIMIT]` where a limit is an age (`30d`, `12h`, `90m`, `3600s`) or a
 * size (`500MB`, `10GB`, `2GiB`): e.g. `pmu=30d`, `edge/site1=10GB`, `pmu=7d,2GB`.
 */
export function parseRetentionRule(text: string): DataRetentionRule {
  const eq = text.lastIndexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new RetentionRuleError(
      `retention rule ${JSON.stringify(text)}: expected COLLECTION=LIMIT[,LIMIT], e.g. pmu=30d or pmu=7d,10GB`,
    );
  }
  const collection = text.slice(0, eq);
  let maxAgeNs: bigint | undefined;
  let maxBytes: number | undefined;
  for (const part of text.slice(eq + 1).split(',')) {
    const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]+)$/.exec(part.trim());
    const unit = m?.[2]?.toLowerCase() ?? '';
    if (m && unit in UNITS && maxAgeNs === undefined && /^\d+$/.test(m[1]!)) {
      maxAgeNs = BigInt(m[1]!) * UNITS[unit]!;
      if (maxAgeNs <= 0n) throw new RetentionRuleError(`retention rule ${JSON.stringify(text)}: the age must be > 0`);
    } else if (m && unit in SIZES && maxBytes === undefined) {
      maxBytes = Number(m[1]) * SIZES[unit]!;
      if (!(maxBytes >= 1))
        throw new RetentionRuleError(`retention rule ${JSON.stringify(text)}: the size must be ≥ 1 byte`);
    } else {
      throw new RetentionRuleError(
        `retention rule ${JSON.stringify(text)}: ${JSON.stringify(part)} is neither an age in whole s, m, h or d ` +
          '(e.g. 30d) nor a size in B, KB, MB, GB, TB, KiB, MiB or GiB (e.g. 10GB), or it repeats one',
      );
    }
  }
  return {
    collection,
    ...(maxAgeNs !== undefined ? { maxAgeNs } : {}),
    ...(maxBytes !== undefined ? { maxBytes } : {}),
  };
}

/**
 * Is `collection` the collection `prefix` or one of its sub-collections (`edge` covers `edge` and
 * `edge/site1`, not `edge2`)? The empty prefix covers every collection. Used by retention rules,
 * archive export and replication alike.
 */
export function covers(prefix: string, collection: string): boolean {
  return prefix === '' || collection === prefix || collection.startsWith(`${prefix}/`);
}

interface Covered {
  readonly id: StreamId;
  readonly bytes: number;
  readonly points: number;
}

/**
 * Apply `rules` once at wall-clock time `nowNs`, then compact with `policy` plus the pruning the
 * deletions need. See the file comment for the semantics.
 */
export async function applyDataRetention(
  db: Database,
  rules: readonly DataRetentionRule[],
  nowNs: bigint,
  policy: RetentionPolicy = {},
): Promise<DataRetentionReport> {
  const live = await db.lookupStreams({ collection: '', isPrefix: true });
  const byRule = new Map<DataRetentionRule, Covered[]>(rules.map((r) => [r, []]));
  for (const s of live) {
    let best: DataRetentionRule | null = null;
    for (const r of rules)
      if (covers(r.collection, s.collection) && (!best || r.collection.length > best.collection.length)) best = r;
    if (!best || !db.engine.hasStream(s.id)) continue;
    const versions = db.engine.versionsOf(s.id);
    const root = versions[versions.length - 1]?.root ?? null;
    const { bytes } = await treeSize(db.engine.tree, root);
    const { count } = await db.engine.count(s.id, MIN_TIME, MAX_TIME);
    byRule.get(best)!.push({ id: s.id, bytes, points: count });
  }
  const dropBefore = new Map<StreamId, Version>();
  const report: DataRetentionReport = { rules: [], compaction: null };
  for (const [rule, streams] of byRule) {
    const bytesBefore = streams.reduce((a, s) => a + s.bytes, 0);
    let cutoff: bigint | null = null;
    if (rule.maxAgeNs !== undefined) cutoff = nowNs - rule.maxAgeNs;
    if (rule.maxBytes !== undefined && bytesBefore > rule.maxBytes) {
      const bySize = await sizeCutoff(db, streams, bytesBefore - rule.maxBytes * SIZE_TARGET);
      if (bySize !== null && (cutoff === null || bySize > cutoff)) cutoff = bySize;
    }
    let pointsDropped = 0;
    if (cutoff !== null && cutoff > MIN_TIME) {
      for (const s of streams) {
        const { count } = await db.engine.count(s.id, MIN_TIME, cutoff);
        if (count === 0) continue;
        dropBefore.set(s.id, await db.delete(s.id, MIN_TIME, cutoff));
        pointsDropped += count;
      }
    }
    report.rules.push({
      collection: rule.collection,
      streams: streams.length,
      bytesBefore,
      cutoff: pointsDropped > 0 ? cutoff : null,
      pointsDropped,
    });
  }
  if (dropBefore.size > 0) return { ...report, compaction: await db.compact({ ...policy, dropBefore }) };
  return report;
}

/**
 * The smallest time t such that dropping every covered point before t frees at least `excess`
 * bytes (estimated per stream as its points before t × its bytes per point); null when no stream
 * has points. Bisects on time down to 1 ms (≤ 60 steps), counting through the trees' statistics.
 */
async function sizeCutoff(db: Database, streams: readonly Covered[], excess: number): Promise<bigint | null> {
  const withData = streams.filter((s) => s.points > 0);
  if (withData.length === 0) return null;
  let lo: bigint | null = null;
  let hi: bigint | null = null;
  for (const s of withData) {
    const first = await db.engine.nearest(s.id, MIN_TIME, false);
    const last = await db.engine.nearest(s.id, MAX_INSERT_TIME, true);
    if (lo === null || first.time < lo) lo = first.time;
    if (hi === null || last.time + 1n > hi) hi = last.time + 1n;
  }
  if (lo === null || hi === null) return null;
  const freed = async (t: bigint): Promise<number> => {
    let sum = 0;
    for (const s of withData) sum += ((await db.engine.count(s.id, MIN_TIME, t)).count * s.bytes) / s.points;
    return sum;
  };
  // Invariant: freed(lo) < excess ≤ freed(hi) (hi drops everything, which frees every byte).
  while (hi - lo > 1_000_000n) {
    const mid: bigint = lo + (hi - lo) / 2n;
    if ((await freed(mid)) >= excess) hi = mid;
    else lo = mid;
  }
  return hi;
}

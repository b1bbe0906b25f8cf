/** `arbor compact` — apply a retention policy and reclaim the space of unreferenced blocks. */
import { formatIso } from '../client/index.ts';
import {
  applyDataRetention,
  type DataRetentionRule,
  parseRetentionRule,
  RetentionRuleError,
} from '../db/data-retention.ts';
import { openDatabase } from '../db/database.ts';
import { dataDir, flag, has, parseArgs } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `arbor compact — prune old versions and reclaim disk space

By default every version is kept (nothing is pruned); compaction then only reclaims blocks that
no version references (e.g. after obliterate). With a policy, versions it does not keep are
removed for good (they answer 450 VersionNotAvailable afterwards).

Data retention (--retain, repeatable) first deletes old points: per collection (and its
sub-collections), keep the last N days and/or at most N bytes, dropping the oldest points first;
the versions that still held them are pruned too, so the space really comes back. This is how an
edge recorder keeps a rolling archive in fixed space (\`arbor serve --retain\` applies the same
rules on every compaction).

Usage: arbor compact [--data DIR] [--keep-versions N] [--keep-age DURATION] [--retain RULE]…

  --keep-versions N     keep the newest N versions of every stream
  --keep-age DURATION   keep every version younger than DURATION (e.g. 7d, 12h, 30m)
  --retain RULE         COLLECTION=LIMIT[,LIMIT]; a limit is an age (30d, 12h, 90m, 3600s:
                        points older than that before now go) or a size (500MB, 10GB, 2GiB: the
                        oldest points go until the collection is under 90 % of it)

Examples:
  arbor compact --keep-versions 10
  arbor compact --keep-age 30d
  arbor compact --retain pmu=30d --retain edge/site1=7d,20GB
`;

/** Parse every --retain rule, as usage errors. */
export function retentionRules(texts: readonly string[]): DataRetentionRule[] {
  try {
    return texts.map(parseRetentionRule);
  } catch (e) {
    if (e instanceof RetentionRuleError) throw new UsageError(`--retain: ${e.message}`);
    throw e;
  }
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new UsageError(`not a duration: ${JSON.stringify(text)} (use e.g. 90s, 30m, 12h, 7d)`);
  const unit = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

export async function compactCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    data: { type: 'string' },
    'keep-versions': { type: 'string' },
    'keep-age': { type: 'string' },
    retain: { type: 'list' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  const kv = flag(p, 'keep-versions');
  const ka = flag(p, 'keep-age');
  if (kv !== undefined && !(Number.isInteger(Number(kv)) && Number(kv) >= 1)) {
    throw new UsageError(`--keep-versions must be a whole number ≥ 1, got ${kv}`);
  }
  const rules = retentionRules(p.flags.get('retain') ?? []);
  const policy = {
    ...(kv !== undefined ? { keepVersions: Number(kv) } : {}),
    ...(ka !== undefined ? { maxAgeMs: parseDuration(ka) } : {}),
  };
  const db = await openDatabase(dataDir(p), { background: false });
  try {
    if (rules.length > 0) {
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      const dr = await applyDataRetention(db, rules, nowNs, policy);
      for (const x of dr.rules) {
        process.stdout.write(
          `retain ${x.collection}: ${x.streams} streams, ${x.bytesBefore} bytes; ` +
            (x.cutoff === null
              ? 'nothing to drop\n'
              : `dropped ${x.pointsDropped} points before ${formatIso(x.cutoff)}\n`),
        );
      }
    }
    const r = await db.compact(policy);
    process.stdout.write(
      `compacted ${r.streams} streams: ${r.segmentsReclaimed} of ${r.segmentsBefore} segments reclaimed, ` +
        `${r.blocksMoved} blocks moved, ${r.bytesBefore} → ${r.bytesAfter} bytes\n`,
    );
  } finally {
    await db.close();
  }
}

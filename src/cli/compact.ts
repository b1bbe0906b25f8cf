/** `arbor compact` — apply a retention policy and reclaim the space of unreferenced blocks. */
import { openDatabase } from '../db/database.ts';
import { dataDir, flag, has, parseArgs } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `arbor compact — prune old versions and reclaim disk space

By default every version is kept (nothing is pruned); compaction then only reclaims blocks that
no version references (e.g. after obliterate). With a policy, versions it does not keep are
removed for good (they answer 450 VersionNotAvailable afterwards).

Usage: arbor compact [--data DIR] [--keep-versions N] [--keep-age DURATION]

  --keep-versions N     keep the newest N versions of every stream
  --keep-age DURATION   keep every version younger than DURATION (e.g. 7d, 12h, 30m)

Examples:
  arbor compact --keep-versions 10
  arbor compact --keep-age 30d
`;

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
  const db = await openDatabase(dataDir(p), { background: false });
  try {
    const r = await db.compact({
      ...(kv !== undefined ? { keepVersions: Number(kv) } : {}),
      ...(ka !== undefined ? { maxAgeMs: parseDuration(ka) } : {}),
    });
    process.stdout.write(
      `compacted ${r.streams} streams: ${r.segmentsReclaimed} of ${r.segmentsBefore} segments reclaimed, ` +
        `${r.blocksMoved} blocks moved, ${r.bytesBefore} → ${r.bytesAfter} bytes\n`,
    );
  } finally {
    await db.close();
  }
}

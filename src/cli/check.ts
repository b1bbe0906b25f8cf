/** `arbor check` — the verifier over a data directory (see src/engine/check.ts). */
import { openDatabase } from '../db/database.ts';
import { dataDir, has, parseArgs } from './args.ts';

const HELP = `arbor check — verify a data directory

Walks every retained version of every stream: each block's checksum, point order, node ranges,
and every node's statistics recomputed from the points beneath it. Exits 1 if anything is wrong,
printing each problem with its stream, version and location.

Usage: arbor check [--data DIR] [--json]

Examples:
  arbor check --data ./data
  arbor check --json > report.json
`;

export async function checkCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    data: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  const dir = dataDir(p);
  const db = await openDatabase(dir, { background: false });
  try {
    const started = Date.now();
    const r = await db.check();
    const ms = Date.now() - started;
    if (has(p, 'json')) process.stdout.write(`${JSON.stringify({ ...r, ms }, null, 2)}\n`);
    else {
      process.stdout.write(
        `checked ${r.streams} streams, ${r.versions} versions, ${r.nodes} blocks, ${r.points} points in ${ms} ms: ` +
          `${r.problems.length === 0 ? 'no problems' : `${r.problems.length} problem(s)`}\n`,
      );
      for (const x of r.problems) process.stdout.write(`  stream ${x.stream} version ${x.version}: ${x.what}\n`);
    }
    if (r.problems.length > 0) process.exitCode = 1;
  } finally {
    await db.close();
  }
}

/** `arbor restore BACKUP DATADIR` — make a data directory from a backup (src/db/backup-restore.ts). */
import { restoreBackup } from '../db/backup-restore.ts';
import { has, parseArgs } from './args.ts';
import { phaseProgress } from './backup.ts';
import { UsageError } from './main.ts';

const HELP = `arbor restore — make a data directory from a backup

Usage: arbor restore BACKUP DATADIR [--no-check] [--quiet] [--json]

Reads BACKUP's BACKUP file and verifies the size and SHA-256 of every file it lists BEFORE
writing anything: a missing or damaged file stops the restore, naming the file. DATADIR must be
new or empty (a restore never overwrites data). The result is an ordinary data directory for
"arbor serve --data DATADIR"; it is then opened and verified as "arbor check" would (every
block, point and statistic of every retained version). Exits 1 if the check finds problems.

  --no-check   skip the final verification (it reads every block: slow on a large backup)
  --quiet      no progress lines
  --json       print the report as JSON

Example:
  arbor restore /backups/2026-11-23 /var/lib/arbordb-restored
`;

export async function restoreCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    'no-check': { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  if (p.positional.length !== 2)
    throw new UsageError('give the backup directory and the new data directory (see --help)');
  const [from, to] = p.positional as [string, string];
  const progress = phaseProgress('restore', !has(p, 'quiet'));
  let r: Awaited<ReturnType<typeof restoreBackup>>;
  try {
    r = await restoreBackup(from, to, { onProgress: (x) => progress.update(x), skipCheck: has(p, 'no-check') });
  } finally {
    progress.finish();
  }
  const problems = r.check?.problems ?? [];
  if (has(p, 'json')) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else {
    const c = r.check;
    process.stdout.write(
      `restored ${r.backup.streams} streams, ${r.backup.versions} versions (backup of ${r.backup.source} taken ` +
        `${r.backup.snapshotAt}) into ${r.dir} in ${(r.ms / 1000).toFixed(1)} s; ` +
        (c === null
          ? 'not checked\n'
          : `checked ${c.versions} versions, ${c.nodes} blocks, ${c.points} points: ` +
            `${problems.length === 0 ? 'no problems' : `${problems.length} problem(s)`}\n`),
    );
    for (const x of problems) process.stdout.write(`  stream ${x.stream} version ${x.version}: ${x.what}\n`);
  }
  if (problems.length > 0) process.exitCode = 1;
}

/** `arbor check` — find damage in a data directory and verify it; `--repair` salvages it. */
import { openDatabase } from '../db/database.ts';
import type { CheckReport } from '../engine/check.ts';
import { lockDirectory } from '../engine/open-dir.ts';
import { type SalvageReport, salvageEngineDir } from '../engine/repair.ts';
import { fsEnv } from '../storage/index.ts';
import { dataDir, has, parseArgs } from './args.ts';

const HELP = `arbor check — verify a data directory, and salvage a damaged one

First reads every file of the directory without changing it: every block segment, manifest and
WAL record is checksummed, and the tree of every retained version is read. Each damage is printed
with its file and byte offset. Then opens the database and walks every retained version of every
stream: point order, node ranges, and every node's statistics recomputed from the points beneath
it. Exits 1 if anything is wrong (a torn tail left by a crash alone is not wrong: it is reported,
and cut off at open).

With --repair (stop the server first), a damaged directory is salvaged: every intact version of
every stream is kept and versions whose blocks cannot be read are dropped (a stream with no intact
version is kept empty); every readable WAL record not yet committed is kept; the manifest and WAL
are rewritten, after copying them to manifest.before-repair/ and wal.before-repair/ (block
segments with a bad header are moved to blocks.before-repair/). It prints what it could not
salvage — stream, versions, file, offset — then verifies the result. Exits 0 when the repaired
directory verifies clean.

Usage: arbor check [--data DIR] [--repair] [--json]

Examples:
  arbor check --data ./data
  arbor check --data ./data --repair
  arbor check --json > report.json
`;

export async function checkCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    data: { type: 'string' },
    json: { type: 'boolean' },
    repair: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  const dir = dataDir(p);
  const json = has(p, 'json');
  const repair = has(p, 'repair');
  const started = Date.now();
  const release = lockDirectory(dir);
  let salvage: SalvageReport;
  try {
    salvage = await salvageEngineDir(fsEnv, dir, { repair });
  } finally {
    release();
  }
  const out = (s: string): void => {
    if (!json) process.stdout.write(s);
  };
  printSalvage(salvage, out);

  let check: CheckReport | null = null;
  let openError: string | null = null;
  const damage = salvage.findings.filter((f) => f.kind === 'damage').length;
  if (damage > 0 && !repair) {
    // Opening would replay the WAL into trees that may reference damaged blocks (and then drop
    // the WAL): leave the directory as it is for --repair.
    openError = `not opened: ${damage} damaged place(s) found`;
  } else {
    try {
      const db = await openDatabase(dir, { background: false });
      try {
        check = await db.check();
      } finally {
        await db.close();
      }
    } catch (e) {
      openError = e instanceof Error ? e.message : String(e);
    }
  }
  const ms = Date.now() - started;
  if (json) {
    process.stdout.write(`${JSON.stringify({ salvage, check, openError, ms }, null, 2)}\n`);
  } else if (check) {
    out(
      `checked ${check.streams} streams, ${check.versions} versions, ${check.nodes} blocks, ${check.points} points in ${ms} ms: ` +
        `${check.problems.length === 0 ? 'no problems' : `${check.problems.length} problem(s)`}\n`,
    );
    for (const x of check.problems) out(`  stream ${x.stream} version ${x.version}: ${x.what}\n`);
  } else {
    out(`cannot open the database: ${openError}\n`);
  }
  const clean =
    check !== null &&
    check.problems.length === 0 &&
    (repair ? salvage.verified !== null && salvage.verified.problems.length === 0 : damage === 0);
  if (!clean) {
    if (!repair && (damage > 0 || openError))
      out('run `arbor check --repair` (with the server stopped) to salvage it\n');
    process.exitCode = 1;
  }
}

function printSalvage(r: SalvageReport, out: (s: string) => void): void {
  if (r.findings.length === 0) out(`${r.dir}: every segment and record reads back intact\n`);
  for (const f of r.findings)
    out(`${f.kind === 'damage' ? 'DAMAGE' : 'note'}: ${f.file} offset ${f.offset}: ${f.what}\n`);
  if (r.dryRun) {
    if (r.needsRewrite) {
      out(`--repair would keep ${describeKept(r)} and could not salvage:\n`);
      for (const l of r.lost) out(`  ${describeLoss(l)}\n`);
    }
    return;
  }
  if (!r.needsRewrite) {
    out('nothing to repair\n');
    return;
  }
  out(`repaired: kept ${describeKept(r)}\n`);
  for (const b of r.backups) out(`  backup: ${b}\n`);
  for (const w of r.rewritten) out(`  rewritten: ${w}\n`);
  if (r.lost.length === 0) out('everything was salvaged\n');
  else {
    out('could not salvage:\n');
    for (const l of r.lost) out(`  ${describeLoss(l)}\n`);
  }
}

function describeKept(r: SalvageReport): string {
  const versions = r.streams.reduce((n, s) => n + s.kept, 0);
  return `${r.streams.length} stream(s), ${versions} version(s), ${r.walRecordsKept} uncommitted WAL record(s)`;
}

function describeLoss(l: SalvageReport['lost'][number]): string {
  const who =
    l.stream === null ? '' : `stream ${l.stream}${l.versions.length ? ` versions ${l.versions.join(', ')}` : ''}: `;
  return `${who}${l.file} offset ${l.offset}: ${l.what}`;
}

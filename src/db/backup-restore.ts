/**
 * `restoreBackup(backup, dataDir)`: turn a backup (docs/format/backup.md) into a normal data
 * directory.
 *
 * 1. Read and check the BACKUP file (its own SHA-256, format, the list of files).
 * 2. Verify EVERY listed file's size and SHA-256 before writing anything; a missing or damaged
 *    file is DbError 500 naming it, and nothing is written.
 * 3. The target must be absent or empty (438): a restore never overwrites a data directory.
 * 4. Copy block segments and manifest segments (hashing again on the way: a file changed since
 *    step 2 is caught too), load the catalog tables into a fresh catalog.
 * 5. Open the result as a Database (which reconciles catalog and engine, ADR 0003), run the
 *    verifier over every stream and version, close. The report carries what the verifier found.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createCatalogFromTables } from '../catalog/catalog-export.ts';
import { DbError } from '../core/errors.ts';
import type { CheckReport } from '../engine/check.ts';
import { type Copied, copyFileHashed, damaged, hashFile } from './backup-copy.ts';
import { type BackupManifest, fsyncDir, prepareEmptyDir, readBackupManifest } from './backup-format.ts';
import { openDatabase } from './database.ts';

export type RestorePhase = 'verify' | 'copy' | 'catalog' | 'check' | 'done';

export interface RestoreProgress {
  readonly phase: RestorePhase;
  readonly done: number;
  readonly total: number;
}

export interface RestoreOptions {
  readonly onProgress?: (p: RestoreProgress) => void;
  /** Skip the final verifier pass (it reads every block; default false). */
  readonly skipCheck?: boolean;
}

export interface RestoreReport {
  readonly backup: BackupManifest;
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
  /** The verifier's report over the restored directory (null with skipCheck). */
  readonly check: CheckReport | null;
  readonly ms: number;
}

/**
 * Verify every file a backup lists against its size and SHA-256. Throws DbError 500 naming the
 * first bad file (and how many are bad in all).
 */
export async function verifyBackup(
  dir: string,
  onBytes: (n: number) => void = () => undefined,
): Promise<BackupManifest> {
  const m = readBackupManifest(dir);
  const bad: { file: string; what: string }[] = [];
  for (const f of m.files) {
    const file = path.join(dir, ...f.path.split('/'));
    let got: Copied;
    try {
      got = await hashFile(file, onBytes);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      bad.push({ file, what: 'the file is missing' });
      continue;
    }
    if (got.bytes !== f.bytes) bad.push({ file, what: `it has ${got.bytes} bytes, the backup lists ${f.bytes}` });
    else if (got.sha256 !== f.sha256) {
      bad.push({ file, what: `its SHA-256 does not match (expected ${f.sha256}, found ${got.sha256})` });
    }
  }
  const first = bad[0];
  if (first) {
    const more = bad.slice(1).map((b) => `${b.file}: ${b.what}`);
    throw damaged(first.file, more.length === 0 ? first.what : `${first.what}; also ${more.join('; ')}`);
  }
  return m;
}

/**
 * Restore the backup in `backupDir` into `target` (absent or empty). Nothing is written unless the
 * whole backup verifies. Resolves once the new data directory is complete and closed.
 */
export async function restoreBackup(
  backupDir: string,
  target: string,
  opts: RestoreOptions = {},
): Promise<RestoreReport> {
  const started = Date.now();
  const dir = path.resolve(target);
  const from = path.resolve(backupDir);
  const progress = (phase: RestorePhase, done = 0, total = 0): void => opts.onProgress?.({ phase, done, total });
  // Refuse a bad target before reading gigabytes, but create nothing until the backup verifies.
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new DbError(438, `restore target ${dir} is a file, not a directory`);
    if (fs.readdirSync(dir).length > 0) prepareEmptyDir(dir, 'restore target'); // throws 438
  }
  const listed = readBackupManifest(from);
  const total = listed.files.reduce((n, f) => n + f.bytes, 0);
  let done = 0;
  progress('verify', 0, total);
  const m = await verifyBackup(from, (n) => {
    done += n;
    progress('verify', done, total);
  });

  const undo = prepareEmptyDir(dir, 'restore target');
  let check: CheckReport | null = null;
  try {
    await materialise(m, from, dir, total, progress);
    // The first open reconciles catalog and engine (ADR 0003); then the verifier reads it all.
    progress('check', total, total);
    const db = await openDatabase(dir, { background: false });
    try {
      if (!opts.skipCheck) check = await db.check();
    } finally {
      await db.close();
    }
  } catch (e) {
    // A half-restored directory must not be mistaken for a data directory.
    try {
      undo();
    } catch {
      // the original error matters more
    }
    throw e;
  }
  progress('done', total, total);
  return { backup: m, dir, files: m.files.length, bytes: total, check, ms: Date.now() - started };
}

/** Copy blocks and manifest, make the catalog (the target exists and is empty). */
async function materialise(
  m: BackupManifest,
  from: string,
  dir: string,
  total: number,
  progress: (phase: RestorePhase, done: number, total: number) => void,
): Promise<void> {
  let done = 0;
  progress('copy', 0, total);
  for (const sub of ['blocks', 'manifest']) fs.mkdirSync(path.join(dir, sub));
  for (const f of m.files) {
    if (f.path.startsWith('catalog/')) continue;
    const src = path.join(from, ...f.path.split('/'));
    const got = await copyFileHashed(src, path.join(dir, ...f.path.split('/')), (n) => {
      done += n;
      progress('copy', done, total);
    });
    if (got.bytes !== f.bytes || got.sha256 !== f.sha256) {
      throw damaged(src, 'it changed while it was being restored (its SHA-256 no longer matches)');
    }
  }
  for (const sub of ['blocks', 'manifest']) fsyncDir(path.join(dir, sub));

  progress('catalog', done, total);
  const csv = (name: string): Uint8Array => {
    const file = path.join(from, 'catalog', name);
    const bytes = new Uint8Array(fs.readFileSync(file));
    const entry = m.files.find((f) => f.path === `catalog/${name}`);
    if (entry?.sha256 !== createHash('sha256').update(bytes).digest('hex')) {
      throw damaged(file, 'it changed while it was being restored (its SHA-256 no longer matches)');
    }
    return bytes;
  };
  await createCatalogFromTables(path.join(dir, 'catalog'), {
    streams: csv('streams.csv'),
    obliterated: csv('obliterated.csv'),
  });
  fsyncDir(dir);
}

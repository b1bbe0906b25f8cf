/**
 * The `BACKUP` file of a backup directory (docs/format/backup.md): what the backup holds, with the
 * size and SHA-256 of every file, and a SHA-256 over its own content. It is written last (atomically),
 * so a directory without it is an unfinished backup; `arbor restore` reads it first and verifies
 * every file against it before writing anything.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DbError } from '../core/errors.ts';

export const BACKUP_FILE = 'BACKUP';
export const BACKUP_FORMAT = 'arbordb-backup';
export const BACKUP_VERSION = 1;

/** A file of the backup, relative to its directory ('/'-separated). */
export interface BackupFileEntry {
  readonly path: string;
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the file's bytes. */
  readonly sha256: string;
}

export interface BackupManifest {
  readonly format: typeof BACKUP_FORMAT;
  readonly version: typeof BACKUP_VERSION;
  /** When the backup was asked for (ISO 8601): every write acknowledged before is in it. */
  readonly startedAt: string;
  /** When the engine's view was captured (the versions in the backup are the latest then). */
  readonly snapshotAt: string;
  readonly finishedAt: string;
  /** The data directory backed up (absolute path, for the operator's information). */
  readonly source: string;
  readonly streams: number;
  readonly versions: number;
  readonly files: readonly BackupFileEntry[];
}

/** The only paths a backup may list (so a crafted BACKUP cannot make restore read elsewhere). */
const FILE_PATH = /^(blocks\/\d{10}\.seg|manifest\/\d{16}\.log|catalog\/(streams|obliterated)\.csv)$/;

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The file's text: the manifest's JSON plus `sha256` of that JSON, then a newline. */
export function encodeBackupManifest(m: BackupManifest): string {
  const body = JSON.stringify(m);
  return `${JSON.stringify({ ...m, sha256: sha256Hex(body) })}\n`;
}

function bad(file: string, what: string): DbError {
  return new DbError(500, `${file} is not a valid backup manifest: ${what}`, { location: { file, offset: 0 } });
}

/** Parse and check a BACKUP file's text (`file` names it in errors). */
export function decodeBackupManifest(text: string, file: string): BackupManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad(file, 'it is not JSON (damaged or truncated)');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(file, 'it is not a JSON object');
  const { sha256, ...rest } = raw as Record<string, unknown>;
  if (typeof sha256 !== 'string') throw bad(file, 'no sha256');
  if (sha256Hex(JSON.stringify(rest)) !== sha256) throw bad(file, 'its checksum does not match its content (damaged)');
  const m = rest as Partial<Record<keyof BackupManifest, unknown>>;
  if (m.format !== BACKUP_FORMAT) throw bad(file, `format is ${JSON.stringify(m.format)}, not "${BACKUP_FORMAT}"`);
  if (m.version !== BACKUP_VERSION) {
    throw bad(file, `format version ${String(m.version)} is not supported (this build reads ${BACKUP_VERSION})`);
  }
  for (const k of ['startedAt', 'snapshotAt', 'finishedAt', 'source'] as const) {
    if (typeof m[k] !== 'string') throw bad(file, `${k} is missing`);
  }
  for (const k of ['streams', 'versions'] as const) {
    if (!Number.isSafeInteger(m[k])) throw bad(file, `${k} is missing`);
  }
  if (!Array.isArray(m.files)) throw bad(file, 'files is missing');
  const seen = new Set<string>();
  for (const f of m.files as unknown[]) {
    const e = f as Partial<BackupFileEntry> | null;
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.path !== 'string' ||
      !FILE_PATH.test(e.path) ||
      !Number.isSafeInteger(e.bytes) ||
      (e.bytes ?? -1) < 0 ||
      typeof e.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(e.sha256)
    ) {
      throw bad(file, `bad file entry ${JSON.stringify(f)}`);
    }
    if (seen.has(e.path)) throw bad(file, `${e.path} is listed twice`);
    seen.add(e.path);
  }
  for (const need of ['catalog/streams.csv', 'catalog/obliterated.csv']) {
    if (!seen.has(need)) throw bad(file, `${need} is not listed`);
  }
  if (![...seen].some((p) => p.startsWith('manifest/'))) throw bad(file, 'no manifest segment is listed');
  return m as BackupManifest;
}

/** Read the BACKUP file of `dir`: 404-like DbError 500 when missing (not a backup, or unfinished). */
export function readBackupManifest(dir: string): BackupManifest {
  const file = path.join(dir, BACKUP_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DbError(
        500,
        `${file} does not exist: ${dir} is not a backup, or the backup did not finish (the BACKUP file is written last)`,
      );
    }
    throw e;
  }
  return decodeBackupManifest(text, file);
}

/** Write the BACKUP file durably: temp file, fsync, rename, fsync the directory. */
export function writeBackupManifest(dir: string, m: BackupManifest): void {
  const file = path.join(dir, BACKUP_FILE);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, encodeBackupManifest(m));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir);
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * `dir` must be absent or an empty directory; it is created. 438 otherwise (a backup or restore
 * never overwrites anything). Returns a function that removes what was put there since (for a
 * failed backup or restore: `dir` itself when this call made it, else its entries).
 */
export function prepareEmptyDir(dir: string, what: string): () => void {
  const undo = (made: boolean) => (): void => {
    if (made) fs.rmSync(dir, { recursive: true, force: true });
    else for (const e of fs.readdirSync(dir)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
  };
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      fs.mkdirSync(dir, { recursive: true });
      fsyncDir(path.dirname(path.resolve(dir)));
      return undo(true);
    }
    if (code === 'ENOTDIR') throw new DbError(438, `${what} ${dir} is a file, not a directory`);
    throw e;
  }
  if (entries.length > 0) {
    throw new DbError(
      438,
      `${what} ${dir} is not empty (${entries.length} entries, e.g. ${entries.slice(0, 3).join(', ')}); give a new or empty directory`,
    );
  }
  return undo(false);
}

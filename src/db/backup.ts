/**
 * `backupDatabase(db, dir)`: a consistent, online backup of an open Database (docs/adr/0005-backup.md,
 * layout in docs/format/backup.md).
 *
 * 1. The engine's snapshot: every write acknowledged before the call is committed, then every
 *    stream's retained versions and the block segment list are captured at one instant, and
 *    compaction is held off until the copy ends (it is the only thing that deletes segments).
 * 2. The catalog's two tables, exported in one SQL transaction.
 * 3. The block segments the snapshot lists, record by record with every CRC checked; the unsynced
 *    tail a server may be writing is left out. Then every captured root is checked to lie inside
 *    what was copied.
 * 4. A fresh manifest: one `state` record per captured stream (`wal` = 0: the backup has no WAL,
 *    every acknowledged write is in a tree).
 * 5. The BACKUP file, last and atomically, with every file's size and SHA-256.
 *
 * Inserts, reads and commits go on throughout; the server's only pause is the catalog export.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DbError } from '../core/errors.ts';
import { encodeRecord, stateRecord } from '../engine/manifest.ts';
import type { EngineSnapshot } from '../engine/snapshot.ts';
import { segmentName } from '../storage/block-store.ts';
import { openFileRecordLog } from '../storage/record-log-open.ts';
import { catalogTablesOf } from './backup-catalog.ts';
import { type Copied, copyBlockSegment, hashFile, writeFileHashed } from './backup-copy.ts';
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  type BackupFileEntry,
  fsyncDir,
  prepareEmptyDir,
  writeBackupManifest,
} from './backup-format.ts';
import type { Database } from './database.ts';

export type BackupPhase = 'snapshot' | 'catalog' | 'blocks' | 'manifest' | 'done';

export interface BackupProgress {
  readonly phase: BackupPhase;
  /** Bytes of block segments copied so far, and the most there can be. */
  readonly done: number;
  readonly total: number;
}

export interface BackupOptions {
  readonly onProgress?: (p: BackupProgress) => void;
}

export interface BackupReport {
  readonly dir: string;
  readonly streams: number;
  readonly versions: number;
  readonly files: number;
  readonly bytes: number;
  readonly startedAt: string;
  readonly snapshotAt: string;
  readonly finishedAt: string;
  readonly ms: number;
}

const ADDR_SCALE = 2 ** 32;

/**
 * Back up `db` into `target` (created; must be absent or empty: 438 otherwise). Resolves when the
 * backup is complete and durable. An in-memory database cannot be backed up (501). On failure the
 * target holds no BACKUP file, so `restore` refuses it.
 */
export async function backupDatabase(db: Database, target: string, opts: BackupOptions = {}): Promise<BackupReport> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  if (db.dir === null) throw new DbError(501, 'an in-memory database cannot be backed up');
  const source = path.resolve(db.dir);
  const dir = path.resolve(target);
  if (dir === source || dir.startsWith(`${source}${path.sep}`)) {
    throw new DbError(438, `the backup directory ${dir} must not be inside the data directory ${source}`);
  }
  const exportTables = catalogTablesOf(db.catalog);
  const undo = prepareEmptyDir(dir, 'backup directory');
  const progress = (phase: BackupPhase, done = 0, total = 0): void => opts.onProgress?.({ phase, done, total });

  progress('snapshot');
  let snap: EngineSnapshot;
  try {
    snap = await db.engine.snapshot();
  } catch (e) {
    undo();
    throw e;
  }
  try {
    const snapshotAt = new Date(snap.takenAt).toISOString();
    const files: BackupFileEntry[] = [];
    const add = (rel: string, c: Copied): void => {
      files.push({ path: rel, bytes: c.bytes, sha256: c.sha256 });
    };

    progress('catalog');
    const tables = await exportTables();
    fs.mkdirSync(path.join(dir, 'catalog'));
    add('catalog/streams.csv', await writeFileHashed(path.join(dir, 'catalog', 'streams.csv'), tables.streams));
    add(
      'catalog/obliterated.csv',
      await writeFileHashed(path.join(dir, 'catalog', 'obliterated.csv'), tables.obliterated),
    );
    fsyncDir(path.join(dir, 'catalog'));

    const copied = await copySegments(snap, path.join(source, 'blocks'), path.join(dir, 'blocks'), progress);
    for (const [id, c] of copied) add(`blocks/${segmentName(id)}`, c);
    checkRootsCopied(snap, copied, path.join(source, 'blocks'));

    progress('manifest');
    const manifestDir = path.join(dir, 'manifest');
    const log = await openFileRecordLog(manifestDir);
    try {
      for (const s of snap.streams) log.append(encodeRecord(stateRecord(s)));
      await log.sync();
    } finally {
      await log.close();
    }
    for (const name of fs.readdirSync(manifestDir).sort()) {
      if (!/^\d{16}\.log$/.test(name)) continue;
      add(`manifest/${name}`, await hashFile(path.join(manifestDir, name)));
    }
    fsyncDir(dir);

    const finished = Date.now();
    const versions = snap.streams.reduce((n, s) => n + s.versions.length, 0);
    const finishedAt = new Date(finished).toISOString();
    writeBackupManifest(dir, {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      startedAt,
      snapshotAt,
      finishedAt,
      source,
      streams: snap.streams.length,
      versions,
      files,
    });
    const bytes = files.reduce((n, f) => n + f.bytes, 0);
    progress('done', bytes, bytes);
    return {
      dir,
      streams: snap.streams.length,
      versions,
      files: files.length,
      bytes,
      startedAt,
      snapshotAt,
      finishedAt,
      ms: finished - started,
    };
  } catch (e) {
    // Leave nothing half-made behind (without BACKUP it could not be restored anyway).
    try {
      undo();
    } catch {
      // the original error matters more
    }
    throw e;
  } finally {
    snap.release();
  }
}

/** Copy the snapshot's segments in id order; returns what was copied by segment id. */
async function copySegments(
  snap: EngineSnapshot,
  from: string,
  to: string,
  progress: (phase: BackupPhase, done: number, total: number) => void,
): Promise<Map<number, Copied>> {
  fs.mkdirSync(to);
  const total = snap.segments.reduce((n, s) => n + s.bytes, 0);
  let done = 0;
  progress('blocks', done, total);
  const copied = new Map<number, Copied>();
  const segs = snap.segments;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    // A segment's successor file is created only after the segment is complete and synced, so if
    // any later file exists now, this one cannot be in the middle of a write.
    const laterExists = segs.slice(i + 1).some((s) => fs.existsSync(path.join(from, segmentName(s.id))));
    const c = await copyBlockSegment(
      path.join(from, segmentName(seg.id)),
      path.join(to, segmentName(seg.id)),
      seg.id,
      seg.bytes,
      !laterExists,
      (n) => {
        done += n;
        progress('blocks', done, total);
      },
    );
    if (c !== null) copied.set(seg.id, c);
  }
  fsyncDir(to);
  return copied;
}

/**
 * Every captured root must lie inside the copied bytes (its children are older blocks: lower
 * addresses in the same or earlier segments, all complete). 500 otherwise: the backup is unusable.
 */
function checkRootsCopied(snap: EngineSnapshot, copied: ReadonlyMap<number, Copied>, from: string): void {
  for (const s of snap.streams) {
    for (const v of s.versions) {
      if (v.root === null) continue;
      const id = Math.floor(v.root.addr / ADDR_SCALE);
      const end = v.root.addr - id * ADDR_SCALE + v.root.len;
      const have = copied.get(id)?.bytes ?? 0;
      if (end > have) {
        throw new DbError(
          500,
          `backup incomplete: version ${v.version} of stream ${s.id} needs ${path.join(from, segmentName(id))} up to byte ${end}, but only ${have} bytes could be copied`,
        );
      }
    }
  }
}

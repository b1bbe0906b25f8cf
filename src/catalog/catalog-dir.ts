/**
 * The catalog's directory on disk:
 *
 *   <dir>/LOCK        pid of the process that has the catalog open (one opener at a time)
 *   <dir>/CATALOG     marker, written once the cluster below is complete: {"format":…,"version":1}
 *   <dir>/pgdata/     the PGlite (PostgreSQL 18) cluster
 *
 * A `pgdata/` without `CATALOG` is a first open that died half-way (it was never handed out, so
 * holds nothing): it is wiped and made again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DbError } from '../core/errors.ts';

export const MARKER = { format: 'arbordb-catalog', version: 1 } as const;

export interface CatalogDir {
  readonly pgdata: string;
  /** True when pgdata holds a complete cluster made by an earlier open. */
  readonly initialised: boolean;
  /** Record that pgdata is complete (durably: file fsync + rename + directory fsync). */
  markInitialised(): void;
  /** Remove the lock file. */
  release(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === 'EPERM';
  }
}

function acquireLock(lockPath: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return;
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'EEXIST') throw e;
      const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) {
        throw new DbError(453, `catalog directory ${path.dirname(lockPath)} is in use by process ${pid}`);
      }
      fs.rmSync(lockPath, { force: true }); // stale: its process is gone
    }
  }
  throw new DbError(453, `could not lock catalog directory ${path.dirname(lockPath)}`);
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Lock `dir` (creating it) and report whether its cluster exists. 453 if another process has it. */
export function openCatalogDir(dir: string): CatalogDir {
  const root = path.resolve(dir);
  fs.mkdirSync(root, { recursive: true });
  const lockPath = path.join(root, 'LOCK');
  acquireLock(lockPath);
  const pgdata = path.join(root, 'pgdata');
  const markerPath = path.join(root, 'CATALOG');
  let initialised = false;
  try {
    if (fs.existsSync(markerPath)) {
      const marker: unknown = JSON.parse(fs.readFileSync(markerPath, 'utf8'));
      const m = marker as { format?: unknown; version?: unknown };
      if (m.format !== MARKER.format || m.version !== MARKER.version) {
        throw new DbError(500, `${markerPath} is not an ArborDB catalog marker of version ${MARKER.version}`);
      }
      initialised = true;
    } else {
      fs.rmSync(pgdata, { recursive: true, force: true });
    }
  } catch (e) {
    fs.rmSync(lockPath, { force: true });
    throw e;
  }
  return {
    pgdata,
    initialised,
    markInitialised() {
      const tmp = `${markerPath}.tmp`;
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, `${JSON.stringify(MARKER)}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, markerPath);
      fsyncDir(root);
    },
    release() {
      fs.rmSync(lockPath, { force: true });
    },
  };
}

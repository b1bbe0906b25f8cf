/**
 * Opening an engine on a data directory: `blocks/`, `wal/`, `manifest/` under it, guarded by a
 * `LOCK` file so two processes never open one directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DbError } from '../core/errors.ts';
import { type Env, fsEnv, openBlockStore, openRecordLog } from '../storage/index.ts';
import { Engine, type EngineOptions, type EngineStorage } from './engine.ts';

/** Open the three stores of an engine under `dir` on any Env (memory and faulty ones in tests). */
export async function openEngineStorage(env: Env, dir: string): Promise<EngineStorage> {
  const blocks = await openBlockStore(env, path.join(dir, 'blocks'));
  const wal = await openRecordLog(env, path.join(dir, 'wal'));
  const manifest = await openRecordLog(env, path.join(dir, 'manifest'));
  return { blocks, wal, manifest, dir };
}

/**
 * Take the directory's lock: a `LOCK` file holding our pid, created exclusively. A lock left by a
 * process that no longer runs is taken over. Returns a release function. 453 if held.
 */
export function lockDirectory(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) {
        throw new DbError(453, `data directory ${dir} is in use by another process (pid ${pid}); stop it first`);
      }
      fs.unlinkSync(file); // stale: its process is gone
    }
  }
  throw new DbError(453, `could not lock data directory ${dir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Open (creating if needed) the engine of a data directory on the real file system. */
export async function openEngineDir(dir: string, opts: EngineOptions = {}): Promise<Engine> {
  const release = lockDirectory(dir);
  try {
    const engine = await Engine.open(await openEngineStorage(fsEnv, dir), { ...opts, onClose: release });
    return engine;
  } catch (e) {
    release();
    throw e;
  }
}

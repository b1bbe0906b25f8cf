/**
 * PGlite runs PostgreSQL with fsync off and its file layer never calls fsync, so a committed
 * transaction is only in the OS page cache: safe against a process crash, not against power loss.
 * After each catalog mutation we therefore fsync PostgreSQL's own WAL ourselves (every segment file
 * in pg_wal/ changed since the last call, plus pg_control): once that returns, the commit record is
 * on disk and PostgreSQL's crash recovery replays it at the next open. See docs/format/catalog.md.
 */
import fs from 'node:fs';
import path from 'node:path';

export async function fsyncPgWal(pgdata: string): Promise<void> {
  const walDir = path.join(pgdata, 'pg_wal');
  const files = (await fs.promises.readdir(walDir)).filter((f) => /^[0-9A-F]{24}$/.test(f));
  for (const f of [...files.map((x) => path.join(walDir, x)), path.join(pgdata, 'global', 'pg_control')]) {
    let fh: fs.promises.FileHandle | undefined;
    try {
      fh = await fs.promises.open(f, 'r+');
      await fh.datasync();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    } finally {
      await fh?.close();
    }
  }
  const dir = await fs.promises.open(walDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * An Env that counts the `sync()` (fdatasync) calls made on each file and otherwise delegates to
 * another: the independent reference for fsync counters in tests. Test support only.
 */
import type { AppendFile, Env, ReadableFile } from './env.ts';

/**
 * Delegates everything to `inner`; counts `sync()` calls per path on the files opened through
 * `openAppend` (a `writeFileAtomic` is the inner Env's and not counted).
 */
export class SyncCountingEnv implements Env {
  readonly name: string;
  readonly syncs = new Map<string, number>();

  constructor(private readonly inner: Env) {
    this.name = `counting(${inner.name})`;
  }

  /** fdatasyncs issued so far on files whose path starts with `prefix`. */
  syncsUnder(prefix: string): number {
    let n = 0;
    for (const [p, c] of this.syncs) if (p.startsWith(prefix)) n += c;
    return n;
  }

  mkdirp(dir: string): Promise<void> {
    return this.inner.mkdirp(dir);
  }
  list(dir: string): Promise<string[]> {
    return this.inner.list(dir);
  }
  async openAppend(path: string): Promise<AppendFile> {
    const f = await this.inner.openAppend(path);
    const count = (): void => {
      this.syncs.set(path, (this.syncs.get(path) ?? 0) + 1);
    };
    return {
      path: f.path,
      size: () => f.size(),
      read: (dst, position) => f.read(dst, position),
      close: () => f.close(),
      write: (chunks) => f.write(chunks),
      truncate: (size) => f.truncate(size),
      sync: () => {
        count();
        return f.sync();
      },
    };
  }
  openRead(path: string): Promise<ReadableFile> {
    return this.inner.openRead(path);
  }
  remove(path: string): Promise<void> {
    return this.inner.remove(path);
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  syncDir(dir: string): Promise<void> {
    return this.inner.syncDir(dir);
  }
  readFile(path: string): Promise<Uint8Array> {
    return this.inner.readFile(path);
  }
  writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    return this.inner.writeFileAtomic(path, data);
  }
}

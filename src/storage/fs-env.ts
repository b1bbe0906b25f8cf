import fs from 'node:fs';
import path from 'node:path';
import type { AppendFile, Env } from './env.ts';
import { errnoError } from './errno.ts';
import { writeFileAtomicVia } from './write-file-atomic.ts';

/**
 * The Env over real files. Reads are synchronous `pread`s into the caller's buffer (a page-cache
 * hit of a few KB costs ~2 µs; the async thread-pool path ~25 µs). Writes and syncs go through the
 * thread pool: one `pwritev` of the staged chunks, then `fdatasync`.
 */
export const fsEnv: Env = {
  name: 'fs',
  async mkdirp(dir) {
    const first = await fs.promises.mkdir(dir, { recursive: true });
    if (first === undefined) return;
    // Make the new directories durable (as the Env contract says): fsync the parent of each one.
    const stop = path.dirname(path.resolve(first));
    for (let d = path.resolve(dir); d !== stop && d !== path.dirname(d); d = path.dirname(d)) {
      await fsEnv.syncDir(path.dirname(d));
    }
  },
  async list(dir) {
    return (await fs.promises.readdir(dir)).sort();
  },
  async openAppend(path) {
    const fd = await openFd(path, fs.constants.O_RDWR | fs.constants.O_CREAT);
    return new FsFile(path, fd, await fileSize(fd));
  },
  async openRead(path) {
    const fd = await openFd(path, fs.constants.O_RDONLY);
    return new FsFile(path, fd, await fileSize(fd));
  },
  async remove(path) {
    await fs.promises.unlink(path);
  },
  async rename(from, to) {
    await fs.promises.rename(from, to);
  },
  async syncDir(dir) {
    const fd = await openFd(dir, fs.constants.O_RDONLY);
    try {
      await new Promise<void>((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve())));
    } finally {
      fs.closeSync(fd);
    }
  },
  async readFile(path) {
    const b = await fs.promises.readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
  writeFileAtomic(path, data) {
    return writeFileAtomicVia(fsEnv, path, data);
  },
};

function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, flags, 0o644, (e, fd) => (e ? reject(e) : resolve(fd))));
}

function fileSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fs.fstat(fd, (e, st) => (e ? reject(e) : resolve(st.size))));
}

/** Batches up to this size are written synchronously (see FsFile.write). */
const INLINE_WRITE_BYTES = 64 * 1024;

class FsFile implements AppendFile {
  readonly path: string;
  private fd: number;
  private bytes: number;

  constructor(path: string, fd: number, size: number) {
    this.path = path;
    this.fd = fd;
    this.bytes = size;
  }

  size(): number {
    return this.bytes;
  }

  read(dst: Uint8Array, position: number): number {
    let done = 0;
    while (done < dst.length) {
      const n = fs.readSync(this.live(), dst, done, dst.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    let rest = chunks.filter((c) => c.length > 0);
    while (rest.length > 0) {
      // libuv loops over short writes itself but reports an error only when nothing was written,
      // so a short count means the next call will return the real errno (usually ENOSPC).
      // A small batch (a WAL group commit) is copied into the page cache inline: a few µs, and
      // it saves a thread-pool round trip (~30 µs) on the commit path.
      const fd = this.live();
      const total = rest.reduce((n, c) => n + c.length, 0);
      const n =
        total <= INLINE_WRITE_BYTES
          ? fs.writevSync(fd, rest, this.bytes)
          : await new Promise<number>((resolve, reject) =>
              fs.writev(fd, rest, this.bytes, (e, written) => (e ? reject(e) : resolve(written))),
            );
      if (n === 0) throw errnoError('EIO', 'write', this.path, 'write made no progress');
      this.bytes += n;
      rest = dropPrefix(rest, n);
    }
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => fs.fdatasync(this.live(), (e) => (e ? reject(e) : resolve())));
  }

  async truncate(size: number): Promise<void> {
    await new Promise<void>((resolve, reject) => fs.ftruncate(this.live(), size, (e) => (e ? reject(e) : resolve())));
    this.bytes = size;
  }

  async close(): Promise<void> {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    await new Promise<void>((resolve, reject) => fs.close(fd, (e) => (e ? reject(e) : resolve())));
  }

  private live(): number {
    if (this.fd < 0) throw errnoError('EBADF', 'access', this.path, 'file is closed');
    return this.fd;
  }
}

/** The chunks left after the first `n` bytes. */
function dropPrefix(chunks: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    if (n >= c.length) {
      n -= c.length;
      continue;
    }
    out.push(n > 0 ? c.subarray(n) : c);
    n = 0;
  }
  return out;
}

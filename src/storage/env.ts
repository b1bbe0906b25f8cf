/**
 * The file-system seam of the storage layer (leveldb's `Env`). Everything file-like that storage
 * does goes through an Env, so the same code runs on real files (`fsEnv`), on an in-memory model of
 * durability (`MemoryEnv`) and under fault injection (`FaultyEnv`).
 *
 * Failures are thrown as Node-style errno errors (`err.code` = 'EIO', 'ENOSPC', 'ENOENT' …); the
 * stores above turn them into DbError with the file name.
 *
 * Durability contract (what MemoryEnv models and the stores rely on):
 * - bytes written to a file are durable only after `AppendFile.sync()` resolves;
 * - a file's creation, a rename and a removal are durable only after `syncDir()` of its directory;
 * - directories made by `mkdirp` are durable when it resolves (fsEnv fsyncs the parent of each
 *   directory it creates).
 */

/** A file opened for positional reads. */
export interface ReadableFile {
  readonly path: string;
  /**
   * The file's size in bytes: for an append handle, as extended by this handle's writes; for a
   * read-only handle, the size at open (files read this way are not being appended to).
   */
  size(): number;
  /**
   * Synchronous positional read (pread) of up to `dst.length` bytes at byte `position` into `dst`.
   * Returns the number of bytes read: fewer than `dst.length` only at end of file. Synchronous on
   * purpose: a read of a few KB from the page cache costs ~2 µs this way, ~25 µs through the
   * thread pool.
   */
  read(dst: Uint8Array, position: number): number;
  close(): Promise<void>;
}

/** A file opened for appending (and reading). Never opened with O_APPEND: writes are positional. */
export interface AppendFile extends ReadableFile {
  /**
   * Write `chunks` back to back at offset `size()` (one writev). Resolves when every byte is in
   * the OS (not durable). On failure a prefix of the bytes may have been written: `size()` then
   * says how far the file reached, and the caller should `truncate` back.
   */
  write(chunks: readonly Uint8Array[]): Promise<void>;
  /** fdatasync: the bytes written so far (and the file's size) are durable when this resolves. */
  sync(): Promise<void>;
  /** Cut (or extend with zeros) the file to `size` bytes. Durable after the next `sync()`. */
  truncate(size: number): Promise<void>;
}

export interface Env {
  /** For messages: 'fs', 'memory', 'faulty(memory)'. */
  readonly name: string;
  /** Create a directory and its parents, durably; no error if it exists. */
  mkdirp(dir: string): Promise<void>;
  /** Names (not paths) of the entries of `dir`, sorted. Throws ENOENT if it does not exist. */
  list(dir: string): Promise<string[]>;
  /** Open `path` for append + read, creating it (empty) if missing. */
  openAppend(path: string): Promise<AppendFile>;
  /** Open an existing file for positional reads. Throws ENOENT if missing. */
  openRead(path: string): Promise<ReadableFile>;
  /** Remove a file. Throws ENOENT if missing. Durable after `syncDir`. */
  remove(path: string): Promise<void>;
  /** Atomically rename `from` to `to`, replacing `to`. Durable after `syncDir`. */
  rename(from: string, to: string): Promise<void>;
  /** fsync a directory: makes creations, renames and removals inside it durable. */
  syncDir(dir: string): Promise<void>;
  /** Read a whole (small) file. Throws ENOENT if missing. */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Replace `path` with `data` atomically and durably: write `path.tmp`, fsync it, rename it over
   * `path`, fsync the directory. After a crash the file holds either the old or the new bytes.
   */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
}

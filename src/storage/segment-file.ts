import { dirname } from 'node:path';
import { DbError } from '../core/errors.ts';
import type { AppendFile, Env, ReadableFile } from './env.ts';
import { ioFailure } from './io-failure.ts';
import type { IoStats } from './io-stats.ts';
import { Staging } from './staging.ts';

/** What a segment needs from its store to do I/O. */
export interface SegmentIo {
  readonly env: Env;
  /** DbError code for I/O failures other than a full disk: 434 for logs, 500 for block stores. */
  readonly errorCode: 434 | 500;
  readonly stats: IoStats;
}

/**
 * One segment file and its three frontiers, in bytes from the start of the file:
 * `durable` ≤ `written` ≤ `end`. Bytes below `durable` survive a crash; bytes below `written` are
 * in the OS; bytes in [first staged arena, `end`) are held in memory (staging) until durable.
 *
 * When a write or sync fails, nothing about the bytes past `durable` can be trusted (after a failed
 * fsync the kernel may have dropped dirty pages and marked them clean), so the file is cut back to
 * `durable` and the next flush rewrites them from memory. The half-written record is never left
 * visible, and a full disk can be retried once space is freed.
 */
export class SegmentFile {
  readonly staging = new Staging();
  durable: number;
  written: number;
  end: number;
  private file: ReadableFile | AppendFile | undefined;
  private entryDurable: boolean;
  private needsTruncate = false;

  private constructor(
    readonly path: string,
    /** Position of the file's byte 0 in the store's global order (block: id·2^32, log: start LSN). */
    readonly base: number,
    file: ReadableFile | AppendFile | undefined,
    size: number,
  ) {
    this.file = file;
    this.durable = size;
    this.written = size;
    this.end = size;
    this.entryDurable = file !== undefined;
  }

  /** A segment already on disk, of `size` bytes (all durable). Append only if `file` is an AppendFile. */
  static existing(path: string, base: number, file: ReadableFile | AppendFile, size: number): SegmentFile {
    return new SegmentFile(path, base, file, size);
  }

  /** A segment whose file does not exist yet: it is created by the first flush. */
  static fresh(path: string, base: number): SegmentFile {
    return new SegmentFile(path, base, undefined, 0);
  }

  /** Reserve `n` bytes at the end; returns where to fill them and their file offset. */
  stage(n: number): { readonly buf: Uint8Array; readonly pos: number; readonly offset: number } {
    const offset = this.end;
    const { buf, pos } = this.staging.reserve(offset, n);
    this.end += n;
    return { buf, pos, offset };
  }

  /** Synchronous positional read from the file (not from staging). */
  read(dst: Uint8Array, position: number): number {
    if (!this.file) return 0;
    return this.file.read(dst, position);
  }

  /**
   * Make bytes [0, upTo) durable: write what is not yet written, fdatasync, and fsync the directory
   * if the file's creation is not yet durable. On failure, cut the file back to `durable`.
   */
  async flushTo(upTo: number, io: SegmentIo): Promise<void> {
    if (upTo <= this.durable) return;
    let doing = 'writing';
    try {
      const f = await this.appendFile(io);
      if (this.needsTruncate) {
        doing = 'truncating';
        await f.truncate(this.durable);
        this.written = this.durable;
        this.needsTruncate = false;
      }
      if (upTo > this.written) {
        doing = 'writing';
        const chunks = this.staging.chunks(this.written, upTo);
        io.stats.writes++;
        await f.write(chunks);
        io.stats.bytesWritten += upTo - this.written;
        this.written = upTo;
      }
      doing = 'syncing';
      io.stats.syncs++;
      await f.sync();
      if (!this.entryDurable) {
        doing = 'syncing the directory of';
        io.stats.dirSyncs++;
        await io.env.syncDir(dirname(this.path));
        this.entryDurable = true;
      }
      this.durable = upTo;
      this.staging.release(upTo);
    } catch (e) {
      await this.cutBack();
      throw ioFailure(io.errorCode, doing, this.path, e);
    }
  }

  /** Truncate a live segment to `size` bytes and make that durable (used by recovery at open). */
  async truncateTo(size: number, io: SegmentIo): Promise<void> {
    const f = this.appendable();
    try {
      await f.truncate(size);
      io.stats.syncs++;
      await f.sync();
    } catch (e) {
      throw ioFailure(io.errorCode, 'truncating', this.path, e);
    }
    this.durable = size;
    this.written = size;
    this.end = size;
  }

  /**
   * Forget the staged bytes past `durable` (after a failed flush of a record log: those records
   * were never acknowledged and must never be written later). The file was already cut back.
   */
  discardStaged(): void {
    this.staging.discardFrom(this.durable);
    this.end = this.durable;
    this.written = Math.min(this.written, this.durable);
  }

  /** True when every byte is durable. */
  settled(): boolean {
    return this.durable === this.end;
  }

  async close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    await f?.close();
  }

  private async appendFile(io: SegmentIo): Promise<AppendFile> {
    if (this.file) return this.appendable();
    const f = await io.env.openAppend(this.path);
    const size = f.size();
    if (size !== 0) {
      await f.close();
      throw new DbError(500, `segment ${this.path} already exists with ${size} bytes; refusing to overwrite it`);
    }
    this.file = f;
    return f;
  }

  private appendable(): AppendFile {
    const f = this.file;
    if (!f || !('write' in f)) throw new DbError(500, `segment ${this.path} is not open for appending`);
    return f;
  }

  private async cutBack(): Promise<void> {
    this.written = this.durable;
    const f = this.file;
    if (!f || !('write' in f)) return;
    try {
      await f.truncate(this.durable);
      this.needsTruncate = false;
    } catch {
      this.needsTruncate = true;
    }
  }
}

import { join } from 'node:path';
import { corruption, DbError } from '../core/errors.ts';
import type { Env } from './env.ts';
import { ioFailure } from './io-failure.ts';
import type { IoStats } from './io-stats.ts';
import { RECORD_HEADER_BYTES, writeRecord } from './record-format.ts';
import { readRecords } from './record-scan.ts';
import { SegmentChain } from './segment-chain.ts';
import { SegmentFile, type SegmentIo } from './segment-file.ts';
import { encodeSegmentHeader, LOG_SEGMENT } from './segment-header.ts';
import type { LogSyncStats, Lsn, RecordLog } from './types.ts';

export interface RecordLogOptions {
  /** Roll to a new segment when an append would take the current one past this size. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Largest payload `append` accepts and recovery believes (a guard against corrupt lengths). Default 256 MiB. */
  readonly maxRecordBytes?: number;
  /**
   * Operator repair: at open, cut the last segment at its first bad record even when valid records
   * follow (they are dropped). Default false: that case is reported as corruption.
   */
  readonly repairTail?: boolean;
}

/** What `open` found and did. */
export interface RecordLogRecovery {
  /** Torn tail cut off the last segment: [from, to) in `file`. */
  readonly truncated: readonly { readonly file: string; readonly from: number; readonly to: number }[];
}

/** A RecordLog with the extras of this implementation. */
export interface SegmentedRecordLog extends RecordLog {
  readonly dir: string;
  readonly env: Env;
  readonly recovery: RecordLogRecovery;
  /** Start LSN and logical size of each segment, oldest first. */
  segments(): readonly { readonly startLsn: Lsn; readonly bytes: number }[];
  /** I/O counters since open (e.g. `syncs` = fdatasyncs issued: group commit shares them). */
  stats(): Readonly<IoStats>;
}

export const LOG_NAME = /^(\d{16})\.log$/;
export const logSegmentName = (startLsn: Lsn): string => `${String(startLsn).padStart(16, '0')}.log`;

export interface RecordLogLimits {
  readonly segmentBytes: number;
  readonly maxRecordBytes: number;
}

/**
 * A segmented log of checksummed records (format: docs/format/record-log.md). `append` copies the
 * payload into memory and returns its LSN; `sync` is group commit (see GroupCommit).
 */
export class SegmentedRecordLogImpl implements SegmentedRecordLog {
  private readonly io: SegmentIo;
  private readonly chain: SegmentChain;
  private closed = false;
  private failed: DbError | undefined;
  /**
   * End LSNs of appended records not yet counted as durable, oldest first, from `unsyncedHead` on
   * (syncStats counts a record once the durable end passes its end).
   */
  private unsynced: number[] = [];
  private unsyncedHead = 0;
  private syncedRecords = 0;

  constructor(
    readonly env: Env,
    readonly dir: string,
    private readonly limits: RecordLogLimits,
    /** Every segment, oldest first; the last is active. */
    private segs: SegmentFile[],
    readonly recovery: RecordLogRecovery,
    stats: IoStats,
  ) {
    this.io = { env, errorCode: 434, stats };
    this.chain = new SegmentChain(this.io, segs.at(-1), 0, (e) => this.discardUnsynced(e));
  }

  /**
   * Stage `payload` (copied) and return its LSN. REQUIRES: 1 ≤ payload.length ≤ maxRecordBytes
   * (a zero length would be indistinguishable from zero-filled space). Durable once a later
   * `sync()` resolves.
   */
  append(payload: Uint8Array): Lsn {
    this.open();
    this.writable();
    if (payload.length === 0) throw new DbError(421, 'cannot append an empty record');
    if (payload.length > this.limits.maxRecordBytes) {
      throw new DbError(414, `record of ${payload.length} bytes exceeds maxRecordBytes ${this.limits.maxRecordBytes}`);
    }
    const len = RECORD_HEADER_BYTES + payload.length;
    let seg = this.active();
    if (seg.end > LOG_SEGMENT.bytes && seg.end + len > this.limits.segmentBytes) seg = this.stageRoll();
    const { buf, pos, offset } = seg.stage(len);
    writeRecord(buf, pos, payload);
    this.settle();
    this.unsynced.push(seg.base + offset + len);
    return seg.base + offset;
  }

  sync(): Promise<void> {
    this.open();
    return this.chain.sync();
  }

  get failure(): DbError | undefined {
    return this.failed;
  }

  resume(): void {
    this.failed = undefined;
  }

  get durableLsn(): Lsn {
    return this.chain.durable;
  }

  /** The LSN the next append gets, unless that append rolls to a new segment. */
  get nextLsn(): Lsn {
    return this.chain.stagedEnd;
  }

  /**
   * Yield every durable record with lsn ≥ `from`, in order, re-verifying checksums (a mismatch
   * throws DbError 500 with file and offset). Records made durable after the call starts are not
   * included. REQUIRES: no `truncateBefore` of the segments being read while iterating.
   */
  async *replay(from: Lsn = 0): AsyncIterable<{ readonly lsn: Lsn; readonly payload: Uint8Array }> {
    this.open();
    const end = this.durableLsn;
    for (const seg of [...this.segs]) {
      if (seg.base >= end) break;
      const segEnd = Math.min(seg.durable, end - seg.base);
      if (seg.base + segEnd <= from) continue;
      const it = readRecords(seg, LOG_SEGMENT.bytes, segEnd, this.limits.maxRecordBytes);
      for (;;) {
        let r: ReturnType<typeof it.next>;
        try {
          r = it.next();
        } catch (e) {
          throw ioFailure(434, 'reading', seg.path, e);
        }
        if (r.done) {
          if (r.value.problem) throw corruption(seg.path, r.value.problem.offset, r.value.problem.reason);
          break;
        }
        const lsn = seg.base + r.value.offset;
        if (lsn >= from) yield { lsn, payload: r.value.payload };
      }
    }
  }

  locate(lsn: Lsn): { readonly file: string; readonly offset: number } {
    const seg = this.segs.findLast((s) => s.base <= lsn);
    return seg ? { file: seg.path, offset: lsn - seg.base } : { file: this.dir, offset: lsn };
  }

  /**
   * Remove the segments all of whose records have lsn < `before` (a segment qualifies when the
   * next one starts at or below `before`), then fsync the directory. Never removes the active
   * segment or one with unsynced bytes.
   */
  async truncateBefore(before: Lsn): Promise<void> {
    this.open();
    const victims: SegmentFile[] = [];
    for (let i = 0; i + 1 < this.segs.length; i++) {
      const seg = this.segs[i];
      const next = this.segs[i + 1];
      if (!seg || !next || next.base > before || !seg.settled()) break;
      victims.push(seg);
    }
    if (victims.length === 0) return;
    this.segs = this.segs.slice(victims.length);
    for (const seg of victims) {
      await seg.close();
      try {
        await this.env.remove(seg.path);
      } catch (e) {
        if ((e as { code?: unknown }).code !== 'ENOENT') throw ioFailure(434, 'removing', seg.path, e);
      }
    }
    try {
      this.io.stats.dirSyncs++;
      await this.env.syncDir(this.dir);
    } catch (e) {
      throw ioFailure(434, 'syncing the directory', this.dir, e);
    }
  }

  /**
   * Start a new segment at the next LSN and make it (and everything staged before it) durable.
   * A no-op when the active segment holds no records yet.
   */
  async roll(): Promise<void> {
    this.open();
    this.writable();
    if (this.active().end > LOG_SEGMENT.bytes) this.stageRoll();
    await this.chain.sync();
  }

  /** Logical bytes of all segments (staged included). */
  bytes(): number {
    return this.segs.reduce((n, s) => n + s.end, 0);
  }

  segments(): readonly { readonly startLsn: Lsn; readonly bytes: number }[] {
    return this.segs.map((s) => ({ startLsn: s.base, bytes: s.end }));
  }

  stats(): Readonly<IoStats> {
    return { ...this.io.stats };
  }

  /** `syncs` = fdatasyncs of this log's segment files (IoStats.syncs); `records` = records they made durable. */
  syncStats(): LogSyncStats {
    this.settle();
    return { syncs: this.io.stats.syncs, records: this.syncedRecords };
  }

  /** Sync what is staged, then release the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.chain.sync();
    } finally {
      this.closed = true;
      await this.chain.idle();
      for (const s of this.segs) await s.close();
    }
  }

  private active(): SegmentFile {
    const a = this.chain.active;
    if (!a) throw new DbError(500, `record log ${this.dir} has no active segment`);
    return a;
  }

  private stageRoll(): SegmentFile {
    const start = this.chain.stagedEnd;
    const seg = SegmentFile.fresh(join(this.dir, logSegmentName(start)), start);
    const { buf, pos } = seg.stage(LOG_SEGMENT.bytes);
    buf.set(encodeSegmentHeader(LOG_SEGMENT, start), pos);
    this.segs.push(seg);
    this.chain.activate(seg);
    return seg;
  }

  /**
   * A flush failed: forget every record not yet durable (their writers are told by the failed
   * sync; none may ever become durable later, or a rejected write would reappear after a
   * restart), and refuse appends until `resume()`. A segment whose file never became durable is
   * dropped and its (empty) file removed, so a later roll can start at another LSN.
   */
  private async discardUnsynced(e: unknown): Promise<void> {
    const cause = e instanceof DbError ? e : ioFailure(434, 'syncing', this.dir, e);
    this.failed = new DbError(
      cause.code,
      `record log ${this.dir} refuses appends after a failed write (${cause.message})`,
      { cause },
    );
    const fallback = this.segs.findLast((s) => s.durable > 0);
    this.settle();
    const dropped = this.chain.discardUnsynced(fallback);
    // A flush that failed in a later segment may have made an earlier one durable: those records
    // stay (replay finds them); the rest are gone and never become durable.
    this.settle();
    this.unsynced = [];
    this.unsyncedHead = 0;
    if (dropped.length === 0) return;
    this.segs = this.segs.filter((s) => !dropped.includes(s));
    for (const seg of dropped) {
      await seg.close().catch(() => {});
      await this.env.remove(seg.path).catch(() => {});
    }
  }

  /** Count the records the durable end has passed since the last call. */
  private settle(): void {
    const durable = this.chain.durable;
    const ends = this.unsynced;
    let i = this.unsyncedHead;
    while (i < ends.length && (ends[i] as number) <= durable) i++;
    this.syncedRecords += i - this.unsyncedHead;
    if (i === ends.length) {
      this.unsynced = [];
      i = 0;
    } else if (i > 4096 && i * 2 > ends.length) {
      this.unsynced = ends.slice(i);
      i = 0;
    }
    this.unsyncedHead = i;
  }

  private writable(): void {
    if (this.failed) throw this.failed;
  }

  private open(): void {
    if (this.closed) throw new DbError(500, `record log ${this.dir} is closed`);
  }
}

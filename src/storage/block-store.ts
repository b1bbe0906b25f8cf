import { join } from 'node:path';
import { corruption, DbError } from '../core/errors.ts';
import type { Env } from './env.ts';
import { ioFailure } from './io-failure.ts';
import { type IoStats, newIoStats } from './io-stats.ts';
import { RECORD_HEADER_BYTES, readU32, recordProblem, writeRecord } from './record-format.ts';
import { scanRecords } from './record-scan.ts';
import { SegmentChain } from './segment-chain.ts';
import { SegmentFile, type SegmentIo } from './segment-file.ts';
import { BLOCK_SEGMENT, encodeSegmentHeader, segmentHeaderProblem } from './segment-header.ts';
import type { BlockRef, BlockStore } from './types.ts';

export interface BlockStoreOptions {
  /** Roll to a new segment when a put would take the current one past this size. Default 256 MiB; at most 2^32 − 1. */
  readonly segmentBytes?: number;
  /** Largest block payload accepted by `put` and believed by `get`. Default 64 MiB. */
  readonly maxBlockBytes?: number;
  /** `getMany` reads two refs in one I/O when at most this many bytes lie between them. Default 64 KiB. */
  readonly readGapBytes?: number;
  /** Cap on the bytes of one coalesced read. Default 4 MiB. */
  readonly maxReadBytes?: number;
  /**
   * Salvage mode (`arbor check --repair`): a segment whose header is bad is left out (listed in
   * `recovery.skipped`; reads of its blocks report it missing) instead of failing the open.
   */
  readonly skipDamagedSegments?: boolean;
  /**
   * Open for reading only (`arbor check`): nothing is written — a torn tail is listed in
   * `recovery.truncated` but not cut, and `put`/`sync` must not be called.
   */
  readonly readOnly?: boolean;
}

/** What `open` found and did. */
export interface BlockStoreRecovery {
  /** Torn tails cut off the last segment: [from, to) in `file`. */
  readonly truncated: readonly { readonly file: string; readonly from: number; readonly to: number }[];
  /**
   * Damaged records found in the last segment with valid records after them: left in place (reads
   * of those blocks report the corruption), since cutting there would drop durable blocks.
   */
  readonly damaged: readonly { readonly file: string; readonly offset: number; readonly reason: string }[];
  /** Segments left out because their header is bad (only with `skipDamagedSegments`). */
  readonly skipped: readonly { readonly file: string; readonly reason: string }[];
}

/** A BlockStore with the extras of this implementation. */
export interface SegmentedBlockStore extends BlockStore {
  readonly dir: string;
  readonly env: Env;
  readonly recovery: BlockStoreRecovery;
  /** I/O counters since open. */
  stats(): Readonly<IoStats>;
  /**
   * Read every durable record of every segment and verify headers and checksums (for `arbor
   * check`). Returns the first problem of each bad segment (records after it cannot be walked);
   * empty when all is well. Reads everything: slow on a large store.
   */
  verify(): Promise<readonly { readonly file: string; readonly offset: number; readonly reason: string }[]>;
}

const SEGMENT_ID_LIMIT = 2 ** 21; // id · 2^32 + offset must stay below 2^53
export const SEGMENT_NAME = /^(\d{10})\.seg$/;
export const segmentName = (id: number): string => `${String(id).padStart(10, '0')}.seg`;
const ADDR_SCALE = 2 ** 32;

/** Resolved options. */
export interface BlockStoreLimits {
  readonly segmentBytes: number;
  readonly maxBlockBytes: number;
  readonly readGapBytes: number;
  readonly maxReadBytes: number;
}

export function blockStoreLimits(o: BlockStoreOptions): BlockStoreLimits {
  const segmentBytes = o.segmentBytes ?? 256 * 1024 * 1024;
  if (!(segmentBytes > BLOCK_SEGMENT.bytes && segmentBytes < ADDR_SCALE)) {
    throw new DbError(438, `segmentBytes must be in (${BLOCK_SEGMENT.bytes}, 2^32), got ${segmentBytes}`);
  }
  return {
    segmentBytes,
    maxBlockBytes: o.maxBlockBytes ?? 64 * 1024 * 1024,
    readGapBytes: o.readGapBytes ?? 64 * 1024,
    maxReadBytes: o.maxReadBytes ?? 4 * 1024 * 1024,
  };
}

/**
 * Append-only block storage in numbered segment files (format: docs/format/block-segment.md).
 * `put` copies the block into memory and hands out its address at once; `sync` writes everything
 * staged with one writev per segment and fdatasyncs, coalescing concurrent callers. Reads are
 * synchronous preads behind a Promise (µs from the page cache) and verify every checksum.
 */
export class SegmentedBlockStoreImpl implements SegmentedBlockStore {
  private readonly io: SegmentIo;
  private readonly chain: SegmentChain;
  private closed = false;

  constructor(
    readonly env: Env,
    readonly dir: string,
    private readonly limits: BlockStoreLimits,
    /** Every segment by id, in id order. */
    private readonly segs: Map<number, SegmentFile>,
    private nextId: number,
    active: SegmentFile | undefined,
    readonly recovery: BlockStoreRecovery,
    stats: IoStats = newIoStats(),
  ) {
    this.io = { env, errorCode: 500, stats };
    this.chain = new SegmentChain(this.io, active);
  }

  /**
   * Stage `block` (copied; the caller may reuse its buffer) and return its address and record
   * length. REQUIRES: 1 ≤ block.length ≤ maxBlockBytes. Durable once a later `sync()` resolves.
   */
  put(block: Uint8Array): BlockRef {
    this.open();
    if (block.length === 0) throw new DbError(421, 'cannot store an empty block');
    if (block.length > this.limits.maxBlockBytes) {
      throw new DbError(414, `block of ${block.length} bytes exceeds maxBlockBytes ${this.limits.maxBlockBytes}`);
    }
    const len = RECORD_HEADER_BYTES + block.length;
    let seg = this.chain.active;
    if (
      !seg ||
      (seg.end > BLOCK_SEGMENT.bytes && seg.end + len > this.limits.segmentBytes) ||
      seg.end + len >= ADDR_SCALE
    ) {
      this.rollSegment();
      seg = this.chain.active;
    }
    if (!seg) throw new DbError(500, 'block store has no active segment');
    const { buf, pos, offset } = seg.stage(len);
    writeRecord(buf, pos, block);
    return { addr: seg.base + offset, len };
  }

  sync(): Promise<void> {
    this.open();
    return this.chain.sync();
  }

  async get(ref: BlockRef): Promise<Uint8Array> {
    this.open();
    const seg = this.locate(ref);
    const offset = ref.addr - seg.base;
    const staged = seg.staging.view(offset, ref.len);
    const rec = staged ? staged.slice() : this.readRun(seg, offset, offset + ref.len);
    return this.checkRecord(seg, offset, rec, ref.len);
  }

  /**
   * Read `refs` (results in request order), one pread per run of nearby refs in a segment: refs
   * are sorted by address and merged while the gap is ≤ readGapBytes and the run ≤ maxReadBytes.
   * Staged blocks come from memory. Every checksum is verified; the first bad one throws.
   */
  async getMany(refs: readonly BlockRef[]): Promise<Uint8Array[]> {
    this.open();
    const out = new Array<Uint8Array>(refs.length);
    const order = refs.map((_, i) => i);
    if (refs.length > 1) order.sort((a, b) => (refs[a]?.addr ?? 0) - (refs[b]?.addr ?? 0));
    let i = 0;
    while (i < order.length) {
      const first = this.ref(refs, order, i);
      const seg = this.locate(first);
      const start = first.addr - seg.base;
      const staged = seg.staging.view(start, first.len);
      if (staged) {
        out[order[i] ?? 0] = this.checkRecord(seg, start, staged.slice(), first.len);
        i++;
        continue;
      }
      let runEnd = start + first.len;
      let j = i + 1;
      for (; j < order.length; j++) {
        const r = this.ref(refs, order, j);
        const off = r.addr - seg.base;
        if (off < 0 || off >= ADDR_SCALE || seg.staging.holds(off)) break;
        const end = Math.max(runEnd, off + r.len);
        if (off - runEnd > this.limits.readGapBytes || end - start > this.limits.maxReadBytes) break;
        this.locate(r);
        runEnd = end;
      }
      const buf = this.readRun(seg, start, runEnd);
      for (let k = i; k < j; k++) {
        const r = this.ref(refs, order, k);
        const off = r.addr - seg.base;
        out[order[k] ?? 0] = this.checkRecord(seg, off, buf.subarray(off - start, off - start + r.len), r.len);
      }
      i = j;
    }
    return out;
  }

  /** Start a new segment for subsequent puts; returns its id. Its file is created by the next sync. */
  /**
   * Seal what was written for a compaction: roll to a new segment unless the active one holds no
   * block yet (it then stays active — rolling would only use up one of the 2^21 segment ids, one
   * per compaction run even on an idle database). Returns the active segment's id afterwards.
   */
  rollIfUsed(): number {
    this.open();
    const a = this.chain.active;
    if (a && a.end <= BLOCK_SEGMENT.bytes) return a.base / ADDR_SCALE;
    return this.rollSegment();
  }

  rollSegment(): number {
    this.open();
    const id = this.nextId;
    if (id >= SEGMENT_ID_LIMIT) throw new DbError(426, `block store ${this.dir} ran out of segment ids (${id})`);
    this.nextId++;
    const seg = SegmentFile.fresh(join(this.dir, segmentName(id)), id * ADDR_SCALE);
    const { buf, pos } = seg.stage(BLOCK_SEGMENT.bytes);
    buf.set(encodeSegmentHeader(BLOCK_SEGMENT, id), pos);
    this.segs.set(id, seg);
    this.chain.activate(seg);
    return id;
  }

  /** Ids and logical sizes (staged bytes included) of all segments, by id. */
  segments(): readonly { readonly id: number; readonly bytes: number }[] {
    return [...this.segs].map(([id, s]) => ({ id, bytes: s.end }));
  }

  /**
   * Remove whole segments and fsync the directory. Unknown ids are ignored (a crash may have
   * removed them already). REQUIRES: none of them is the active segment or has unsynced blocks.
   */
  async deleteSegments(ids: readonly number[]): Promise<void> {
    this.open();
    const victims: SegmentFile[] = [];
    for (const id of ids) {
      const seg = this.segs.get(id);
      if (!seg) continue;
      if (seg === this.chain.active || !seg.settled()) {
        throw new DbError(500, `cannot delete segment ${seg.path}: it is still being written`);
      }
      victims.push(seg);
    }
    for (const seg of victims) {
      this.segs.delete(seg.base / ADDR_SCALE);
      await seg.close();
      try {
        await this.env.remove(seg.path);
      } catch (e) {
        if ((e as { code?: unknown }).code !== 'ENOENT') throw ioFailure(500, 'removing', seg.path, e);
      }
    }
    if (victims.length === 0) return;
    try {
      this.io.stats.dirSyncs++;
      await this.env.syncDir(this.dir);
    } catch (e) {
      throw ioFailure(500, 'syncing the directory', this.dir, e);
    }
  }

  /** Total bytes of all segments, staged bytes included. */
  bytes(): number {
    let n = 0;
    for (const s of this.segs.values()) n += s.end;
    return n;
  }

  stats(): Readonly<IoStats> {
    return { ...this.io.stats };
  }

  async verify(): Promise<readonly { readonly file: string; readonly offset: number; readonly reason: string }[]> {
    this.open();
    const problems: { file: string; offset: number; reason: string }[] = [];
    for (const [id, seg] of this.segs) {
      if (seg.durable === 0) continue;
      try {
        const h = new Uint8Array(BLOCK_SEGMENT.bytes);
        const headerProblem = segmentHeaderProblem(BLOCK_SEGMENT, h.subarray(0, seg.read(h, 0)), id);
        if (headerProblem) {
          problems.push({ file: seg.path, offset: 0, reason: headerProblem });
          continue;
        }
        const scan = scanRecords(seg, BLOCK_SEGMENT.bytes, seg.durable, this.limits.maxBlockBytes);
        if (scan.problem) problems.push({ file: seg.path, ...scan.problem });
      } catch (e) {
        throw ioFailure(500, 'verifying', seg.path, e);
      }
    }
    return problems;
  }

  /** Sync what is staged (unsynced blocks are lost if that fails), then release the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.chain.sync();
    } finally {
      this.closed = true;
      await this.chain.idle();
      for (const s of this.segs.values()) await s.close();
    }
  }

  private ref(refs: readonly BlockRef[], order: readonly number[], k: number): BlockRef {
    const r = refs[order[k] ?? -1];
    if (!r) throw new DbError(500, 'block ref missing');
    return r;
  }

  /** The segment of `ref`, after checking that the ref lies inside it. */
  private locate(ref: BlockRef): SegmentFile {
    const id = Math.floor(ref.addr / ADDR_SCALE);
    const offset = ref.addr - id * ADDR_SCALE;
    const seg = this.segs.get(id);
    const file = seg?.path ?? join(this.dir, segmentName(id));
    if (!Number.isSafeInteger(ref.addr) || !Number.isSafeInteger(ref.len)) {
      throw corruption(file, offset, `block ref {addr: ${ref.addr}, len: ${ref.len}} is not an integer pair`);
    }
    if (!seg) throw corruption(file, offset, `block ref names segment ${id}, which does not exist`);
    if (ref.len <= RECORD_HEADER_BYTES || ref.len > RECORD_HEADER_BYTES + this.limits.maxBlockBytes) {
      throw corruption(file, offset, `block ref length ${ref.len} is impossible`);
    }
    if (offset < BLOCK_SEGMENT.bytes || offset + ref.len > seg.end) {
      throw corruption(file, offset, `block ref [${offset}, +${ref.len}) lies outside the segment (${seg.end} bytes)`);
    }
    return seg;
  }

  private readRun(seg: SegmentFile, start: number, end: number): Uint8Array {
    // Not zero-filled: only the bytes the read returns are exposed.
    const buf = new Uint8Array(Buffer.allocUnsafeSlow(end - start).buffer, 0, end - start);
    let n: number;
    try {
      n = seg.read(buf, start);
    } catch (e) {
      throw ioFailure(500, 'reading', seg.path, e);
    }
    this.io.stats.reads++;
    this.io.stats.bytesRead += n;
    return buf.subarray(0, n);
  }

  /** Check the record bytes `rec` read for a ref of length `len` at `offset`; return the payload. */
  private checkRecord(seg: SegmentFile, offset: number, rec: Uint8Array, len: number): Uint8Array {
    if (rec.length < len) throw corruption(seg.path, offset, `short read: ${rec.length} of ${len} bytes`);
    const stored = readU32(rec, 0);
    if (stored !== len - RECORD_HEADER_BYTES) {
      throw corruption(seg.path, offset, `record length ${stored} does not match the reference (${len - 8})`);
    }
    const problem = recordProblem(rec, 0, len, this.limits.maxBlockBytes);
    if (problem) throw corruption(seg.path, offset, problem);
    return rec.subarray(RECORD_HEADER_BYTES, len);
  }

  private open(): void {
    if (this.closed) throw new DbError(500, `block store ${this.dir} is closed`);
  }
}

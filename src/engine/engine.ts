/**
 * The storage engine: many streams, each a copy-on-write statistical tree with numbered versions.
 *
 * Write path (docs/format/wal.md, manifest.md): an insert is validated, sorted, appended to the WAL
 * and acknowledged after the WAL's group-commit fsync; it then waits in the stream's queue. A
 * commit merges the durable prefix of the queue into the tree (new blocks staged in the
 * BlockStore), fsyncs the blocks, appends a commit record to the manifest and fsyncs it — only
 * then is the new version published. Inserts of ≥ `directInsertPoints` skip the WAL: they are
 * committed at once and acknowledged when their commit is durable.
 *
 * Reads at version 0 first commit every acknowledged change of the stream (a read barrier), so
 * "latest" always includes acknowledged, unflushed points.
 */
import { corruption, DbError, isDbError } from '../core/errors.ts';
import type { StatPoint } from '../core/stat.ts';
import { FIRST_VERSION, LATEST, type MergePolicy, type StreamId, type Version } from '../core/types.ts';
import type { BlockStore, RecordLog } from '../storage/types.ts';
import { type CompactionReport, markLive, type RetentionPolicy, relocate, versionsToKeep } from './compaction.ts';
import {
  applyRecord,
  decodeRecord,
  encodeRecord,
  type ManifestRecord,
  rootToJson,
  type StreamOptions,
  type StreamRecord,
  stateRecord,
} from './manifest.ts';
import type { NodeRef } from './node-ref.ts';
import { concat, isSorted, type PointBatch, sortStable } from './point-batch.ts';
import { captureSnapshot, type EngineSnapshot, SnapshotPins } from './snapshot.ts';
import { type PendingOp, StreamState } from './stream-state.ts';
import {
  alignedWindows,
  changedRanges,
  countRange,
  nearest as nearestPoint,
  rawValues,
  windows as windowQuery,
} from './tree-query.ts';
import { TreeStore, type TreeStoreOptions } from './tree-store.ts';
import { deleteRange, insertBatch } from './tree-update.ts';
import { checkBatch, checkPointWidth, checkPolicy, checkRange, checkTime, checkWidth } from './validate.ts';
import { decodeWalInsert, encodeWalInsert } from './wal-record.ts';

export interface EngineStorage {
  readonly blocks: BlockStore;
  readonly wal: RecordLog;
  readonly manifest: RecordLog;
  /** The data directory, for messages (openEngineStorage sets it). */
  readonly dir?: string;
}

/**
 * Whether the engine accepts writes (`Engine.health()`). After a write or fsync fails (a full
 * disk: code 426; another I/O error: 434/500) the engine is read-only: reads keep working, every
 * write is refused with `reason`, and from `retryAt` on the next write (or the maintenance timer)
 * probes with a real write + fsync and leaves read-only mode when that succeeds.
 */
export interface EngineHealth {
  readonly state: 'ok' | 'read-only';
  /** The data directory. */
  readonly dir: string;
  /** The error of the write that failed (null when ok). */
  readonly reason: string | null;
  readonly code: number | null;
  /** ms (engine clock) when the engine became read-only, and when the next probe may run. */
  readonly since: number | null;
  readonly retryAt: number | null;
  /** Probes that failed since the engine became read-only. */
  readonly failedProbes: number;
  /** Times the engine became read-only since it was opened. */
  readonly readOnlyEntries: number;
  /** Acknowledged points held in memory (and in the WAL) that wait for a commit. */
  readonly bufferedPoints: number;
}

/** The block a probe writes and fsyncs to learn whether the disk takes writes again (never read). */
const PROBE_BLOCK = Uint8Array.of(0x70);

/** How many aged stream buffers the maintenance tick commits at once. */
const MAINTAIN_CONCURRENCY = 256;
/** How often (engine clock, ms) an insert re-sums the buffers of every stream. */
const BUFFER_CHECK_MS = 100;

export interface EngineOptions extends TreeStoreOptions {
  /** Commit a stream's buffer once it holds this many points (default 32768). */
  readonly commitPoints?: number;
  /** Inserts at least this large skip the WAL and commit directly (default 32768). */
  readonly directInsertPoints?: number;
  /** Commit buffers older than this (ms, default 10 000) so the WAL can be truncated. */
  readonly maxBufferAgeMs?: number;
  /** Largest accepted insert (points, default 10 000 000) → 414 above. */
  readonly maxInsertPoints?: number;
  /** Rewrite the manifest as a checkpoint when it grows past this (bytes, default 16 MiB). */
  readonly manifestCheckpointBytes?: number;
  /** Run the background maintenance timer (default true). Tests may turn it off. */
  readonly background?: boolean;
  /** Wall clock in ms (tests inject one). */
  readonly now?: () => number;
  /**
   * After a failed write makes the engine read-only, wait this long (ms, default 1000) before a
   * write attempt or the maintenance timer probes the disk again.
   */
  readonly readOnlyRetryMs?: number;
  /**
   * Bound on acknowledged-but-uncommitted points held in memory across all streams (default
   * 8 000 000 ≈ 300 MB). Above half of it the largest buffers are committed early; at the limit
   * inserts are refused with 426 until commits catch up (the server's pushback).
   */
  readonly maxBufferedPoints?: number;
  /** Called after close() (releases the directory lock). */
  readonly onClose?: () => void;
  /** Which old versions to keep (default: all). Applied by `compact()`. */
  readonly retention?: RetentionPolicy;
  /** Segments whose live share is below this are rewritten by `compact()` (default 0.5). */
  readonly compactBelow?: number;
  /**
   * Keep the segments a compaction emptied for this long (ms, engine clock) before deleting them,
   * so that reads which resolved an older root before the compaction can finish (default 0:
   * delete at once; `arbor serve` uses 60 000). They are deleted by the first compaction after
   * that, or by any compaction after a restart (nothing live references them).
   */
  readonly retireSegmentsMs?: number;
}

/** What a version of a stream looks like from outside. */
export interface StreamInfo {
  readonly id: StreamId;
  readonly version: Version;
  readonly options: StreamOptions;
  readonly versions: readonly Version[];
  readonly bufferedPoints: number;
}

export interface EngineStats {
  streams: number;
  commits: number;
  /**
   * Durability operations of the WAL since it was opened (fdatasyncs of its segment files; object
   * creates for a cluster shard's WAL). Group commit shares one among many concurrent inserts.
   */
  walSyncs: number;
  /** WAL records those syncs made durable: walSyncedRecords / walSyncs is the average group size. */
  walSyncedRecords: number;
  /** WAL records appended (one per insert below `directInsertPoints`). */
  walRecords: number;
  pointsInserted: number;
  blocksWritten: number;
  bytesWritten: number;
  coreCacheHits: number;
  coreCacheMisses: number;
  leafCacheHits: number;
  leafCacheMisses: number;
  lastBackgroundError: string | null;
  /** 1 while writes are refused after a failed write (see `health()`), else 0. */
  readOnly: number;
  /** Times the engine turned read-only since it was opened. */
  readOnlyEntries: number;
}

export class Engine {
  private readonly streams = new Map<StreamId, StreamState>();
  readonly tree: TreeStore;
  private readonly commitPoints: number;
  private readonly directInsertPoints: number;
  private readonly maxBufferAgeMs: number;
  private readonly maxInsertPoints: number;
  private readonly checkpointBytes: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  /** Commits between manifest append and in-memory publish; a checkpoint waits for 0. */
  private manifestPending = 0;
  private manifestGate: Promise<void> | null = null;
  private closed = false;
  private readonly counters = { commits: 0, walRecords: 0, pointsInserted: 0 };
  private lastBackgroundError: string | null = null;
  private readonly onClose: (() => void) | undefined;
  private readonly retention: RetentionPolicy;
  private readonly compactBelow: number;
  private readonly retireSegmentsMs: number;
  /** Segments emptied by a compaction, waiting out `retireSegmentsMs` before deletion. */
  private retired: { readonly ids: readonly number[]; readonly at: number }[] = [];
  /** While set, new commits wait: compaction is rewriting block addresses. */
  private compacting: Promise<void> | null = null;
  private commitsInFlight = 0;
  private readonly readOnlyRetryMs: number;
  /** Set while writes are refused after a failed write (see EngineHealth). */
  private readOnly: { cause: DbError; since: number; retryAt: number; failedProbes: number } | null = null;
  private readOnlyEntries = 0;
  /** The running probe; while it runs, commits are allowed again. */
  private probing: Promise<void> | null = null;
  private readonly maxBufferedPoints: number;
  /** The last sum of every stream's buffer, taken at most every BUFFER_CHECK_MS (engine clock). */
  private bufferedTotal = 0;
  private bufferCheckAt = Number.NEGATIVE_INFINITY;
  /** Early commits of the largest buffers, while the total is above half the limit. */
  private relieving: Promise<void> | null = null;
  /** Backups in progress (snapshot.ts): compaction waits while any is held. */
  private readonly pins = new SnapshotPins();

  private constructor(
    private readonly storage: EngineStorage,
    opts: EngineOptions,
  ) {
    this.tree = new TreeStore(storage.blocks, opts);
    this.commitPoints = opts.commitPoints ?? 32768;
    this.directInsertPoints = opts.directInsertPoints ?? 32768;
    this.maxBufferAgeMs = opts.maxBufferAgeMs ?? 10_000;
    this.maxInsertPoints = opts.maxInsertPoints ?? 10_000_000;
    this.checkpointBytes = opts.manifestCheckpointBytes ?? 16 * 1024 * 1024;
    this.now = opts.now ?? Date.now;
    this.onClose = opts.onClose;
    this.retention = opts.retention ?? {};
    this.compactBelow = opts.compactBelow ?? 0.5;
    this.retireSegmentsMs = opts.retireSegmentsMs ?? 0;
    this.readOnlyRetryMs = opts.readOnlyRetryMs ?? 1000;
    this.maxBufferedPoints = opts.maxBufferedPoints ?? 8_000_000;
  }

  /**
   * Open an engine over already-opened storage: replay the manifest, then the WAL records not yet
   * in any tree, then commit what the WAL held so it can be truncated.
   */
  static async open(storage: EngineStorage, opts: EngineOptions = {}): Promise<Engine> {
    const e = new Engine(storage, opts);
    await e.recover();
    if (opts.background !== false) {
      e.timer = setInterval(() => void e.maintain(), 1000);
      e.timer.unref();
    }
    return e;
  }

  private async recover(): Promise<void> {
    const state = new Map<StreamId, StreamRecord>();
    const created = new Set<StreamId>();
    for await (const { lsn, payload } of this.storage.manifest.replay()) {
      try {
        const rec = decodeRecord(payload, `record at lsn ${lsn}`);
        if (rec.k === 'create' || rec.k === 'state') created.add(rec.id);
        else if (!created.has(rec.id)) {
          // Commits, prunes and obliterations follow their stream's create (or checkpoint) record.
          throw new DbError(
            500,
            `${rec.k} record for stream ${rec.id}, which no earlier record creates: records are missing`,
          );
        }
        applyRecord(state, rec, `record at lsn ${lsn}`);
      } catch (e) {
        // A record that passed its checksum but makes no sense: name the file and offset.
        if (!isDbError(e) || e.location) throw e;
        const at = this.storage.manifest.locate(lsn);
        throw corruption(at.file, at.offset, e.message);
      }
    }
    // Every WAL record below a stream's bound was appended before; a WAL that ends earlier lost
    // segments, and new records would reuse LSNs that replay skips as committed.
    let bound = 0;
    for (const r of state.values()) bound = Math.max(bound, r.walBound);
    if (this.storage.wal.nextLsn < bound) {
      const at = this.storage.wal.locate(this.storage.wal.nextLsn);
      throw corruption(
        at.file,
        at.offset,
        `the WAL ends at LSN ${this.storage.wal.nextLsn} but the manifest has committed WAL records up to LSN ${bound}: WAL segments are missing (run arbor check --repair)`,
      );
    }
    for (const r of state.values()) this.streams.set(r.id, new StreamState(r.id, r.options, r.versions, r.walBound));
    for await (const { lsn, payload } of this.storage.wal.replay()) {
      const rec = decodeWalInsert(payload, `at lsn ${lsn}`);
      const s = this.streams.get(rec.stream);
      if (!s || lsn < s.walBound) continue; // obliterated, or already in the tree
      const batch = sortStable(rec.batch);
      // Keep the version number the insert was acknowledged with.
      const version = Math.max(rec.version, s.nextVersion);
      s.nextVersion = version + 1;
      s.ops.push({
        kind: 'insert',
        seq: s.nextSeq++,
        version,
        batch,
        policy: rec.policy,
        lsn,
        waiter: null,
        at: this.now(),
      });
      s.bufferedPoints += batch.times.length;
    }
    for (const s of this.streams.values()) {
      if (s.ops.length === 0 || this.readOnly) continue;
      try {
        await this.commit(s);
      } catch (e) {
        // A full disk at open: open read-only; the WAL keeps the records (reads see them).
        if (!this.readOnly) throw e;
      }
    }
    if (!this.readOnly) await this.truncateWal();
  }

  // ── streams ────────────────────────────────────────────────────────────────────────────────

  /** Create an empty stream at version FIRST_VERSION. 417 if it exists. Durable on return. */
  async createStream(id: StreamId, options: Partial<StreamOptions> = {}): Promise<Version> {
    this.checkOpen();
    if (this.readOnly) await this.admitWrite();
    if (this.streams.has(id)) throw new DbError(417, `stream ${id} already exists`);
    const opts: StreamOptions = { allowNonFinite: options.allowNonFinite ?? false };
    const at = this.now();
    const s = new StreamState(id, opts, [{ version: FIRST_VERSION, root: null, at }], this.storage.wal.nextLsn);
    this.streams.set(id, s);
    try {
      await this.appendManifest({ k: 'create', id, v: FIRST_VERSION, opt: { nonFinite: opts.allowNonFinite }, at });
    } catch (err) {
      this.streams.delete(id);
      throw err;
    }
    return FIRST_VERSION;
  }

  hasStream(id: StreamId): boolean {
    return this.streams.has(id);
  }

  streamIds(): StreamId[] {
    return [...this.streams.keys()];
  }

  /** Erase a stream: data, versions and buffered points. Durable on return. 404 if unknown. */
  async obliterate(id: StreamId): Promise<void> {
    this.checkOpen();
    if (this.readOnly) await this.admitWrite();
    const s = this.live(id);
    s.obliterated = true;
    await s.commitChain.catch(() => undefined);
    const acknowledged = s.ops.filter((op) => op.waiter === null);
    for (const op of s.ops) op.waiter?.reject(new DbError(404, `stream ${id} was obliterated`));
    s.ops.length = 0;
    s.volatile = null;
    this.streams.delete(id);
    try {
      await this.appendManifest({ k: 'obliterate', id });
    } catch (err) {
      // Not durable: the stream still exists on disk, so it stays here too, with its
      // acknowledged (WAL-logged) writes.
      s.obliterated = false;
      s.ops.push(...acknowledged);
      s.bufferedPoints = acknowledged.reduce((n, op) => n + (op.kind === 'insert' ? op.batch.times.length : 0), 0);
      this.streams.set(id, s);
      throw err;
    }
  }

  /**
   * A stream's current version (after committing every acknowledged change, so the version is
   * materialized and will always read back exactly), options and retained versions.
   */
  async info(id: StreamId): Promise<StreamInfo> {
    const s = this.live(id);
    const { version } = await this.resolve(id, LATEST);
    return {
      id,
      version,
      options: s.options,
      versions: s.versions.map((v) => v.version),
      bufferedPoints: s.bufferedPoints,
    };
  }

  // ── writes ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Insert points (any order; equal times keep their order) under a merge policy. Resolves after
   * the points are durable, with a version that contains them. The arrays are copied.
   */
  async insert(id: StreamId, batch: PointBatch, policy: MergePolicy = 'never'): Promise<Version> {
    this.checkOpen();
    if (this.readOnly) await this.admitWrite();
    const s = this.live(id);
    checkPolicy(policy);
    checkBatch(batch, { allowNonFinite: s.options.allowNonFinite, maxPoints: this.maxInsertPoints });
    this.admitBuffered();
    const sorted = isSorted(batch.times)
      ? { times: batch.times.slice(), values: batch.values.slice(), flags: batch.flags?.slice() }
      : sortStable(batch);
    const n = sorted.times.length;
    this.counters.pointsInserted += n;
    if (n >= this.directInsertPoints) {
      return new Promise<Version>((resolve, reject) => {
        s.ops.push({
          kind: 'insert',
          seq: s.nextSeq++,
          version: s.nextVersion++,
          batch: sorted,
          policy,
          lsn: null,
          waiter: { resolve, reject },
          at: this.now(),
        });
        s.bufferedPoints += n;
        this.commit(s).catch(() => undefined);
      });
    }
    const wal = this.storage.wal;
    const version = s.nextVersion;
    let lsn: number;
    try {
      lsn = wal.append(encodeWalInsert({ stream: id, version, policy, batch: sorted }));
    } catch (err) {
      this.storageFailed(err);
      throw err;
    }
    s.nextVersion++;
    const op: PendingOp = {
      kind: 'insert',
      seq: s.nextSeq++,
      version,
      batch: sorted,
      policy,
      lsn,
      waiter: null,
      at: this.now(),
    };
    s.ops.push(op);
    s.bufferedPoints += n;
    this.counters.walRecords++;
    try {
      await wal.sync();
    } catch (err) {
      // The record was discarded by the WAL (never written later): forget the op.
      this.storageFailed(err);
      const i = s.ops.indexOf(op);
      if (i >= 0) {
        s.ops.splice(i, 1);
        s.bufferedPoints -= n;
      }
      throw err;
    }
    if (s.bufferedPoints >= this.commitPoints) this.commit(s).catch((e) => this.noteBackgroundError(e));
    return version as Version;
  }

  /** Delete points with start ≤ t < end; resolves with the new version once durable. */
  async delete(id: StreamId, start: bigint, end: bigint): Promise<Version> {
    this.checkOpen();
    if (this.readOnly) await this.admitWrite();
    const s = this.live(id);
    checkRange(start, end);
    return new Promise<Version>((resolve, reject) => {
      s.ops.push({
        kind: 'delete',
        seq: s.nextSeq++,
        version: s.nextVersion++,
        start,
        end,
        waiter: { resolve, reject },
        at: this.now(),
      });
      this.commit(s).catch(() => undefined);
    });
  }

  /** Commit every acknowledged change of the stream; resolves with the latest version. */
  async flush(id: StreamId): Promise<Version> {
    const s = this.live(id);
    await this.barrier(s);
    return s.latest.version;
  }

  /** Commit every stream's buffer. */
  async flushAll(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => this.barrier(s)));
  }

  // ── commits ────────────────────────────────────────────────────────────────────────────────

  /** Queue a commit of the stream's durable ops (up to `uptoSeq`) behind any running one. */
  private commit(s: StreamState, uptoSeq = Number.POSITIVE_INFINITY): Promise<void> {
    const next = s.commitChain.then(() => this.doCommit(s, uptoSeq));
    s.commitChain = next.catch(() => undefined);
    return next;
  }

  /** Wait until every op acknowledged before this call is committed. */
  private async barrier(s: StreamState): Promise<void> {
    const durable = this.storage.wal.durableLsn;
    let target = 0;
    for (const op of s.ops) if (isReady(op, durable)) target = op.seq;
    while (s.committedSeq < target && !s.obliterated) await this.commit(s);
  }

  private async doCommit(s: StreamState, uptoSeq: number): Promise<void> {
    while (this.compacting) await this.compacting;
    this.commitsInFlight++;
    try {
      await this.commitOnce(s, uptoSeq);
    } finally {
      this.commitsInFlight--;
    }
  }

  /**
   * Commit the longest prefix of durable ops with seq ≤ uptoSeq as one new version, numbered by
   * its last op. Versions of the earlier ops in the prefix are folded into it (they answer 450).
   */
  private async commitOnce(s: StreamState, uptoSeq: number): Promise<void> {
    if (s.obliterated) return;
    if (this.readOnly && !this.probing) {
      // No commits while read-only: acknowledged ops wait (reads see them through `volatile`);
      // ops whose callers still wait are refused.
      const err = this.readOnlyError();
      for (let i = 0; i < s.ops.length; ) {
        const op = s.ops[i]!;
        if (op.seq > uptoSeq || op.waiter === null) {
          i++;
          continue;
        }
        s.ops.splice(i, 1);
        if (op.kind === 'insert') s.bufferedPoints -= op.batch.times.length;
        op.waiter.reject(err);
      }
      throw err;
    }
    const durable = this.storage.wal.durableLsn;
    let k = 0;
    while (k < s.ops.length && s.ops[k]!.seq <= uptoSeq && isReady(s.ops[k]!, durable)) k++;
    if (k === 0) return;
    const ops = s.ops.slice(0, k);
    const version = ops[k - 1]!.version as Version;
    try {
      let walBound = s.walBound;
      let points = 0;
      for (const o of ops) {
        if (o.kind !== 'insert') continue;
        if (o.lsn !== null && o.lsn + 1 > walBound) walBound = o.lsn + 1;
        points += o.batch.times.length;
      }
      const v = s.volatile;
      const root =
        v && v.base === s.latest.version && v.seq === ops[k - 1]!.seq && v.count === k
          ? v.root // built while read-only from exactly these ops; its blocks are staged
          : await this.applyOps(s.latestRoot, ops);
      await this.durably(this.storage.blocks.sync());
      const at = this.now();
      await this.publish(s, { k: 'commit', id: s.id, v: version, root: rootToJson(root), wal: walBound, at }, () => {
        s.volatile = null;
        s.versions.push({ version, root, at });
        s.walBound = walBound;
        s.ops.splice(0, k);
        s.bufferedPoints -= points;
        s.committedSeq = ops[ops.length - 1]?.seq ?? s.committedSeq;
      });
      this.counters.commits++;
      for (const op of ops) op.waiter?.resolve(version);
    } catch (err) {
      // Ops whose callers are told of the failure leave the queue; WAL-logged inserts stay (they
      // were acknowledged and are durable) and are retried by the next commit.
      for (const op of ops) {
        if (op.waiter) {
          const i = s.ops.indexOf(op);
          if (i >= 0) s.ops.splice(i, 1);
          if (op.kind === 'insert') s.bufferedPoints -= op.batch.times.length;
          op.waiter.reject(err);
        }
      }
      throw err;
    }
  }

  /** The tree of `root` with `ops` applied, in order; new blocks are staged (not synced). */
  private async applyOps(root: NodeRef | null, ops: readonly PendingOp[]): Promise<NodeRef | null> {
    for (let i = 0; i < ops.length; ) {
      const op = ops[i]!;
      if (op.kind === 'delete') {
        root = await deleteRange(this.tree, root, op.start, op.end);
        i++;
        continue;
      }
      // Consecutive inserts with one policy merge as one batch: "earlier in the batch" and
      // "earlier in the queue" mean the same thing to every policy.
      const group: PointBatch[] = [];
      let j = i;
      while (j < ops.length) {
        const o = ops[j]!;
        if (o.kind !== 'insert' || o.policy !== op.policy) break;
        group.push(o.batch);
        j++;
      }
      root = await insertBatch(this.tree, root, sortStable(concat(group)), op.policy);
      i = j;
    }
    return root;
  }

  /**
   * What a read sees while the engine is read-only: the latest version plus every acknowledged,
   * durable WAL insert with seq ≤ `uptoSeq` that could not be committed, applied in memory (see
   * StreamState.volatile). Ops whose callers still wait are skipped: they will be refused.
   */
  private async volatileView(s: StreamState, uptoSeq: number): Promise<{ root: NodeRef | null; version: Version }> {
    const durable = this.storage.wal.durableLsn;
    const ops: PendingOp[] = [];
    for (const op of s.ops) {
      if (op.seq > uptoSeq) break;
      if (op.waiter !== null) continue;
      if (!isReady(op, durable)) break;
      ops.push(op);
    }
    const last = ops.at(-1);
    if (!last) return { root: s.latestRoot, version: s.latest.version };
    const v = s.volatile;
    const base = s.latest.version;
    if (v && v.base === base && v.seq === last.seq && v.count === ops.length) {
      return { root: v.root, version: last.version as Version };
    }
    const root = await this.applyOps(s.latestRoot, ops);
    if (s.latest.version === base) s.volatile = { base, seq: last.seq, count: ops.length, root };
    return { root, version: last.version as Version };
  }

  /** Append a manifest record, fsync it, then apply `apply` — unless a checkpoint is running. */
  private async publish(s: StreamState, rec: ManifestRecord, apply: () => void): Promise<void> {
    while (this.manifestGate) await this.manifestGate;
    if (s.obliterated) throw new DbError(404, `stream ${s.id} was obliterated`);
    this.manifestPending++;
    try {
      try {
        this.storage.manifest.append(encodeRecord(rec));
        await this.storage.manifest.sync();
      } catch (err) {
        this.storageFailed(err);
        throw err;
      }
      apply();
    } finally {
      this.manifestPending--;
    }
  }

  private async appendManifest(rec: ManifestRecord): Promise<void> {
    while (this.manifestGate) await this.manifestGate;
    this.manifestPending++;
    try {
      this.storage.manifest.append(encodeRecord(rec));
      await this.storage.manifest.sync();
    } catch (err) {
      this.storageFailed(err);
      throw err;
    } finally {
      this.manifestPending--;
    }
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────────────

  /**
   * The root and number of a version. 0 = latest (after a read barrier). A version handed out by
   * an insert but not yet committed is committed now. Pruned or unknown versions → 450.
   */
  async resolve(id: StreamId, version: number = LATEST): Promise<{ root: NodeRef | null; version: Version }> {
    this.checkOpen();
    const s = this.live(id);
    if (!Number.isInteger(version) || version < 0) throw new DbError(450, `version ${version} is not valid`);
    if (version === LATEST) {
      if (!this.readOnly || this.probing) {
        try {
          await this.barrier(s);
        } catch (e) {
          if (!this.readOnly) throw e;
        }
      }
      // Read-only: acknowledged writes that cannot be committed are still read (from memory).
      if (this.readOnly) return this.volatileView(s, Number.POSITIVE_INFINITY);
      return { root: s.latestRoot, version: s.latest.version };
    }
    if (version > s.latest.version) {
      // A version handed out for a write not yet committed: commit exactly up to that write.
      const op = s.ops.find((o) => o.version === version);
      if (op) {
        try {
          await this.commit(s, op.seq);
        } catch (e) {
          if (!this.readOnly) throw e;
        }
        if (this.readOnly && !s.find(version)) {
          const v = await this.volatileView(s, op.seq);
          if (v.version === version) return v;
        }
      }
    }
    const v = s.find(version);
    if (!v) {
      const why =
        version < s.latest.version
          ? 'it was pruned, or folded into a later commit before it was read'
          : 'it does not exist';
      throw new DbError(
        450,
        `version ${version} of stream ${id} is not available: ${why} (retained: ${describe(s.versions.map((x) => x.version))})`,
      );
    }
    return { root: v.root, version: v.version };
  }

  /** Raw points in [start, end) at a version, in chunks (views into cached leaves: copy to keep). */
  async *values(id: StreamId, start: bigint, end: bigint, version: number = LATEST): AsyncGenerator<PointBatch> {
    checkRange(start, end);
    const { root } = await this.resolve(id, version);
    yield* rawValues(this.tree, root, start, end);
  }

  /** Raw points in [start, end) as one batch (copied). */
  async valuesArray(
    id: StreamId,
    start: bigint,
    end: bigint,
    version: number = LATEST,
  ): Promise<PointBatch & { version: Version }> {
    checkRange(start, end);
    const r = await this.resolve(id, version);
    const parts: PointBatch[] = [];
    for await (const p of rawValues(this.tree, r.root, start, end)) parts.push(p);
    const all = parts.length === 1 ? copyBatch(parts[0]!) : concat(parts);
    return {
      ...(parts.length === 0 ? { times: new BigInt64Array(0), values: new Float64Array(0) } : all),
      version: r.version,
    };
  }

  async alignedWindows(
    id: StreamId,
    start: bigint,
    end: bigint,
    pw: number,
    version: number = LATEST,
  ): Promise<{ windows: StatPoint[]; version: Version }> {
    checkRange(start, end);
    checkPointWidth(pw);
    const r = await this.resolve(id, version);
    return { windows: await alignedWindows(this.tree, r.root, start, end, pw), version: r.version };
  }

  async windows(
    id: StreamId,
    start: bigint,
    end: bigint,
    width: bigint,
    depth = 0,
    version: number = LATEST,
  ): Promise<{ windows: StatPoint[]; version: Version }> {
    checkRange(start, end);
    checkWidth(width, depth);
    const r = await this.resolve(id, version);
    return { windows: await windowQuery(this.tree, r.root, start, end, width), version: r.version };
  }

  /** Forward: first point with t ≥ time; backward: last point with t < time. 401 if none. */
  async nearest(
    id: StreamId,
    time: bigint,
    backward: boolean,
    version: number = LATEST,
  ): Promise<{ time: bigint; value: number; version: Version }> {
    checkTime(time);
    const r = await this.resolve(id, version);
    const p = await nearestPoint(this.tree, r.root, time, backward);
    if (!p) throw new DbError(401, `no point ${backward ? 'before' : 'at or after'} ${time} in stream ${id}`);
    return { ...p, version: r.version };
  }

  async count(
    id: StreamId,
    start: bigint,
    end: bigint,
    version: number = LATEST,
  ): Promise<{ count: number; version: Version }> {
    checkRange(start, end);
    const r = await this.resolve(id, version);
    return { count: await countRange(this.tree, r.root, start, end), version: r.version };
  }

  /** Ranges changed between two versions (from exclusive; to 0 = latest), at 2^resolution granularity. */
  async changes(
    id: StreamId,
    fromVersion: number,
    toVersion: number,
    resolution: number,
  ): Promise<{ ranges: { start: bigint; end: bigint }[]; version: Version }> {
    checkPointWidth(resolution);
    const to = await this.resolve(id, toVersion);
    const fromV = fromVersion === 0 ? 1 : fromVersion;
    if (fromV > to.version) throw new DbError(427, `from version ${fromVersion} is after to version ${to.version}`);
    // A version before the stream's first means "from nothing"; otherwise it must be retained.
    const fromRoot = fromV < FIRST_VERSION ? null : (await this.resolve(id, fromV)).root;
    return { ranges: await changedRanges(this.tree, fromRoot, to.root, resolution), version: to.version };
  }

  // ── maintenance ────────────────────────────────────────────────────────────────────────────

  private async maintain(): Promise<void> {
    if (this.closed) return;
    if (this.readOnly) {
      if (!this.probing && this.now() >= this.readOnly.retryAt) await this.probe();
      return;
    }
    try {
      const now = this.now();
      const due: StreamState[] = [];
      for (const s of this.streams.values()) {
        const first = s.ops[0];
        if (first && now - first.at >= this.maxBufferAgeMs) due.push(s);
      }
      await this.commitConcurrently(due);
      await this.truncateWal();
      if (this.storage.manifest.bytes() > this.checkpointBytes) await this.checkpoint();
    } catch (e) {
      this.noteBackgroundError(e);
    }
  }

  /**
   * Commit these streams concurrently (bounded): concurrent commits share their block and manifest
   * fsyncs, so a fleet of thousands of slow streams commits ~10× faster than one by one.
   */
  private async commitConcurrently(streams: readonly StreamState[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < streams.length) {
        const s = streams[next++]!;
        await this.commit(s).catch((e: unknown) => this.noteBackgroundError(e));
      }
    };
    await Promise.all(Array.from({ length: Math.min(MAINTAIN_CONCURRENCY, streams.length) }, worker));
  }

  /**
   * Bounded memory for acknowledged-but-uncommitted points (`maxBufferedPoints`): above half the
   * limit, commit the largest buffers now (not waiting for their age); at the limit, refuse the
   * insert with 426 — nothing of it is stored — so a client backs off until commits catch up.
   */
  private admitBuffered(): void {
    const now = this.now();
    if (now - this.bufferCheckAt >= BUFFER_CHECK_MS) {
      this.bufferCheckAt = now;
      let total = 0;
      for (const s of this.streams.values()) total += s.bufferedPoints;
      this.bufferedTotal = total;
      if (total > this.maxBufferedPoints / 2 && this.relieving === null) {
        this.relieving = this.relieveBuffers().finally(() => {
          this.relieving = null;
          this.bufferCheckAt = Number.NEGATIVE_INFINITY; // look again at the next insert
        });
      }
    }
    if (this.bufferedTotal >= this.maxBufferedPoints) {
      throw new DbError(
        426,
        `write buffers hold ${this.bufferedTotal} uncommitted points (limit ${this.maxBufferedPoints}); ` +
          'commits are catching up: retry shortly',
      );
    }
  }

  /** Commit the largest buffers until the total would be at most a quarter of the limit. */
  private async relieveBuffers(): Promise<void> {
    // Only durable ops commit: let the WAL records of the inserts just admitted reach the disk
    // (a failure here is the inserts' own to report).
    await this.storage.wal.sync().catch(() => undefined);
    const busy = [...this.streams.values()].filter((s) => s.bufferedPoints > 0);
    busy.sort((a, b) => b.bufferedPoints - a.bufferedPoints);
    let total = 0;
    for (const s of busy) total += s.bufferedPoints;
    const chosen: StreamState[] = [];
    for (const s of busy) {
      if (total <= this.maxBufferedPoints / 4) break;
      chosen.push(s);
      total -= s.bufferedPoints;
    }
    await this.commitConcurrently(chosen);
  }

  /** Drop WAL segments no stream still needs. */
  private async truncateWal(): Promise<void> {
    let min = this.storage.wal.durableLsn;
    for (const s of this.streams.values()) {
      for (const op of s.ops) {
        if (op.kind === 'insert' && op.lsn !== null) {
          if (op.lsn < min) min = op.lsn;
          break;
        }
      }
    }
    await this.storage.wal.truncateBefore(min);
  }

  /** Rewrite the manifest as one `state` record per stream, then drop the older segments. */
  async checkpoint(): Promise<void> {
    if (this.readOnly) await this.admitWrite();
    if (this.manifestGate) return this.manifestGate;
    let open!: () => void;
    this.manifestGate = new Promise<void>((r) => {
      open = r;
    });
    try {
      while (this.manifestPending > 0) await new Promise((r) => setImmediate(r));
      await this.durably(this.checkpointNow());
    } finally {
      this.manifestGate = null;
      open();
    }
  }

  /**
   * Apply the retention policy, then reclaim the space of blocks no retained version uses.
   * Writers wait while block addresses are being rewritten; readers do not.
   */
  async compact(policy: RetentionPolicy = this.retention): Promise<CompactionReport> {
    this.checkOpen();
    if (this.readOnly) await this.admitWrite();
    while (this.compacting || this.pins.busy) await (this.compacting ?? this.pins.idle());
    let done!: () => void;
    this.compacting = new Promise<void>((r) => {
      done = r;
    });
    try {
      while (this.commitsInFlight > 0) await new Promise((r) => setImmediate(r));
      const now = this.now();
      for (const s of this.streams.values()) {
        const keep = versionsToKeep(s.versions, policy, now, policy.dropBefore?.get(s.id));
        if (keep.size === s.versions.length) continue;
        await this.appendManifest({ k: 'prune', id: s.id, keep: [...keep] });
        s.versions = s.versions.filter((v) => keep.has(v.version));
      }
      const blocks = this.storage.blocks;
      // Delete the retired segments whose time is up; the rest are not compaction candidates.
      const due = this.retired.filter((r) => now - r.at >= this.retireSegmentsMs);
      this.retired = this.retired.filter((r) => now - r.at < this.retireSegmentsMs);
      if (due.length > 0) await blocks.deleteSegments(due.flatMap((r) => r.ids));
      const waiting = new Set(this.retired.flatMap((r) => r.ids));
      const bytesBefore = blocks.bytes();
      // Everything written so far is now in sealed segments; the active one is not a candidate.
      const active = blocks.rollIfUsed();
      const before = blocks.segments().filter((seg) => !waiting.has(seg.id) && seg.id !== active);
      const roots = [...this.streams.values()].flatMap((s) => s.versions.map((v) => v.root));
      const live = await markLive(this.tree, roots);
      const victims = new Set(
        before.filter((seg) => (live.get(seg.id) ?? 0) < seg.bytes * this.compactBelow).map((seg) => seg.id),
      );
      const report: CompactionReport = {
        segmentsBefore: before.length,
        segmentsReclaimed: victims.size,
        bytesBefore,
        bytesAfter: bytesBefore,
        blocksMoved: 0,
        streams: this.streams.size,
      };
      if (victims.size === 0) return report;
      const moved = new Map<number, NodeRef>();
      const saved = new Map([...this.streams.values()].map((s) => [s, s.versions] as const));
      try {
        for (const s of this.streams.values()) {
          s.volatile = null;
          s.versions = await Promise.all(
            s.versions.map(async (v) => ({ ...v, root: await relocate(this.tree, v.root, victims, moved) })),
          );
        }
        for (const [from, to] of moved) if (from !== to.addr) report.blocksMoved++;
        await this.durably(blocks.sync());
        await this.durably(this.checkpointNow());
      } catch (err) {
        // Nothing durable points at the moved copies: keep reading the originals.
        for (const [s, versions] of saved) s.versions = versions;
        throw err;
      }
      if (this.retireSegmentsMs <= 0) await blocks.deleteSegments([...victims]);
      else this.retired.push({ ids: [...victims], at: this.now() });
      report.bytesAfter = blocks.bytes();
      return report;
    } finally {
      this.compacting = null;
      done();
    }
  }

  /** Write every stream's state to a fresh manifest segment and drop the older ones. */
  private async checkpointNow(): Promise<void> {
    const m = this.storage.manifest;
    await m.roll();
    const start = m.nextLsn;
    for (const s of this.streams.values()) {
      m.append(encodeRecord(stateRecord({ id: s.id, options: s.options, versions: s.versions, walBound: s.walBound })));
    }
    await m.sync();
    await m.truncateBefore(start);
  }

  private noteBackgroundError(e: unknown): void {
    this.lastBackgroundError = e instanceof Error ? e.message : String(e);
  }

  stats(): EngineStats {
    // The WAL counts its own syncs: only it knows how many waiting inserts one fsync served.
    const wal = this.storage.wal.syncStats();
    return {
      streams: this.streams.size,
      ...this.counters,
      walSyncs: wal.syncs,
      walSyncedRecords: wal.records,
      blocksWritten: this.tree.blocksWritten,
      bytesWritten: this.tree.bytesWritten,
      coreCacheHits: this.tree.cores.hits,
      coreCacheMisses: this.tree.cores.misses,
      leafCacheHits: this.tree.leaves.hits,
      leafCacheMisses: this.tree.leaves.misses,
      lastBackgroundError: this.lastBackgroundError,
      readOnly: this.readOnly ? 1 : 0,
      readOnlyEntries: this.readOnlyEntries,
    };
  }

  /**
   * A consistent point-in-time view for a backup (snapshot.ts): commits every write acknowledged
   * before the call, then captures every stream's retained versions and the segment list. Until
   * `release()`, compaction waits (it would delete segments the backup is copying); writes go on.
   */
  async snapshot(): Promise<EngineSnapshot> {
    this.checkOpen();
    while (this.compacting) await this.compacting;
    const release = this.pins.hold();
    try {
      await this.flushAll();
      this.checkOpen();
      return captureSnapshot(this.streams.values(), this.storage.blocks, this.now(), release);
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Retained versions of a stream with their roots (for the verifier and compaction). */
  versionsOf(id: StreamId): readonly { version: Version; root: NodeRef | null; at: number }[] {
    return this.live(id).versions;
  }

  /** Commit everything, stop the timer, close the storage. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    // Already read-only: nothing more is committed (the acknowledged buffers are in the WAL,
    // replayed at the next open) and the blocks still staged belong to no durable version, so
    // close quietly. Otherwise a failure to commit is the caller's to know.
    const quiet = this.readOnly !== null;
    let failure: unknown;
    try {
      if (!quiet) {
        await this.flushAll();
        await this.truncateWal();
      }
    } catch (e) {
      failure = e;
    } finally {
      this.closed = true;
      for (const store of [this.storage.wal, this.storage.manifest, this.storage.blocks]) {
        try {
          await store.close();
        } catch (e) {
          if (!quiet) failure ??= e;
        }
      }
      this.onClose?.();
    }
    if (failure !== undefined) throw failure;
  }

  /** Whether writes are accepted, and why not (see EngineHealth). For /readyz and /metrics. */
  health(): EngineHealth {
    const r = this.readOnly;
    let bufferedPoints = 0;
    for (const s of this.streams.values()) bufferedPoints += s.bufferedPoints;
    return {
      state: r ? 'read-only' : 'ok',
      dir: this.dirName(),
      reason: r ? r.cause.message : null,
      code: r ? r.cause.code : null,
      since: r ? r.since : null,
      retryAt: r ? r.retryAt : null,
      failedProbes: r ? r.failedProbes : 0,
      readOnlyEntries: this.readOnlyEntries,
      bufferedPoints,
    };
  }

  /**
   * Probe now, ignoring the back-off, whether writes work again (e.g. after an operator freed
   * space); returns the health afterwards. A no-op when writable.
   */
  async retryWrites(): Promise<EngineHealth> {
    this.checkOpen();
    if (this.readOnly) await this.probe();
    return this.health();
  }

  // ── read-only mode ─────────────────────────────────────────────────────────────────────────

  /** `p`, marking the engine read-only if it fails as a write of the storage. */
  private async durably<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      this.storageFailed(e);
      throw e;
    }
  }

  /** A write, fsync or append of the storage failed with `e`: stop writing (see EngineHealth). */
  private storageFailed(e: unknown): void {
    if (!isDbError(e) || !(e.code === 426 || e.code === 434 || e.code === 500)) return;
    const now = this.now();
    if (this.readOnly) {
      this.readOnly.cause = e;
      this.readOnly.retryAt = now + this.readOnlyRetryMs;
      return;
    }
    this.readOnly = { cause: e, since: now, retryAt: now + this.readOnlyRetryMs, failedProbes: 0 };
    this.readOnlyEntries++;
    this.noteBackgroundError(e);
  }

  private dirName(): string {
    return this.storage.dir ?? '(in-memory database)';
  }

  /** The error every write gets while read-only: the cause, the directory, and when it retries. */
  private readOnlyError(): DbError {
    const r = this.readOnly;
    if (!r) return new DbError(500, 'readOnlyError called while writable');
    const when = new Date(Math.max(r.retryAt, 0)).toISOString();
    return new DbError(
      r.cause.code,
      `the database in ${this.dirName()} is read-only since a write failed: ${r.cause.message}. ` +
        `Reads still work. ${r.cause.code === 426 ? 'Free disk space; ' : ''}writes are retried from ${when}.`,
      { cause: r.cause },
    );
  }

  /**
   * Called by every write while read-only: refuse it until `retryAt`, then probe (one probe at a
   * time; concurrent writers wait for its verdict).
   */
  private async admitWrite(): Promise<void> {
    while (this.readOnly) {
      if (this.probing) {
        await this.probing;
        continue;
      }
      if (this.now() < this.readOnly.retryAt) throw this.readOnlyError();
      await this.probe();
      if (this.readOnly) throw this.readOnlyError();
    }
  }

  /**
   * Try to leave read-only mode: forget the ops whose WAL records were discarded, let the logs
   * take appends again, write and fsync a probe block together with every staged block, and
   * commit every stream's acknowledged buffer. Success → writable; failure → read-only with a new
   * `retryAt`. Never throws.
   */
  private probe(): Promise<void> {
    if (this.probing) return this.probing;
    const run = async (): Promise<void> => {
      const r = this.readOnly;
      if (!r) return;
      try {
        if (this.storage.wal.failure) this.forgetDiscardedWalOps();
        this.storage.wal.resume();
        this.storage.manifest.resume();
        this.storage.blocks.put(PROBE_BLOCK);
        await this.durably(this.storage.blocks.sync());
        for (const s of [...this.streams.values()]) if (s.ops.length > 0) await this.barrier(s);
        this.readOnly = null;
      } catch (e) {
        this.storageFailed(e);
        if (this.readOnly) this.readOnly.failedProbes++;
        else this.noteBackgroundError(e);
      }
    };
    const p = run().finally(() => {
      this.probing = null;
    });
    this.probing = p;
    return p;
  }

  /**
   * Drop queued inserts whose WAL records the log discarded after a failed sync (their callers
   * were refused). Their LSNs are reused once the log resumes, so none may stay queued.
   */
  private forgetDiscardedWalOps(): void {
    const end = this.storage.wal.durableLsn;
    for (const s of this.streams.values()) {
      for (let i = s.ops.length - 1; i >= 0; i--) {
        const op = s.ops[i]!;
        if (op.kind !== 'insert' || op.lsn === null || op.lsn < end) continue;
        s.ops.splice(i, 1);
        s.bufferedPoints -= op.batch.times.length;
      }
    }
  }

  private live(id: StreamId): StreamState {
    const s = this.streams.get(id);
    if (!s) throw new DbError(404, `stream ${id} does not exist`);
    return s;
  }

  private checkOpen(): void {
    if (this.closed) throw new DbError(402, 'the database is closed');
  }
}

const isReady = (op: PendingOp, durableLsn: number): boolean =>
  op.kind === 'delete' || op.lsn === null || op.lsn < durableLsn;

const copyBatch = (b: PointBatch): PointBatch => ({
  times: b.times.slice(),
  values: b.values.slice(),
  flags: b.flags?.slice(),
});

function describe(vs: readonly number[]): string {
  if (vs.length <= 6) return vs.join(', ');
  return `${vs.slice(0, 3).join(', ')}, …, ${vs.slice(-2).join(', ')} (${vs.length} versions)`;
}

export type { StreamRecord };

/**
 * The in-memory state of one stream: its retained versions, and the queue of acknowledged
 * changes not yet committed to the tree (the write buffer). Changes are queued in the order they
 * were issued; a commit takes the longest prefix whose data is durable.
 */
import { DbError } from '../core/errors.ts';
import type { MergePolicy, StreamId, Version } from '../core/types.ts';
import type { StreamOptions, VersionEntry } from './manifest.ts';
import type { NodeRef } from './node-ref.ts';
import type { PointBatch } from './point-batch.ts';

interface Waiter {
  resolve(v: Version): void;
  reject(e: unknown): void;
}

export type PendingOp =
  | {
      readonly kind: 'insert';
      readonly seq: number;
      /** The version that contains this op and everything queued before it. */
      readonly version: number;
      readonly batch: PointBatch;
      readonly policy: MergePolicy;
      /** WAL position, or null for a large insert committed directly (not logged). */
      readonly lsn: number | null;
      readonly waiter: Waiter | null;
      readonly at: number;
    }
  | {
      readonly kind: 'delete';
      readonly seq: number;
      readonly version: number;
      readonly start: bigint;
      readonly end: bigint;
      readonly waiter: Waiter;
      readonly at: number;
    };

export class StreamState {
  readonly ops: PendingOp[] = [];
  /** Sequence number of the next op; ops are numbered in issue order. */
  nextSeq = 1;
  /** Sequence number of the last op committed to the tree. */
  committedSeq = 0;
  /** The version number the next acknowledged write will get (each write gets its own). */
  nextVersion: number;
  bufferedPoints = 0;
  /** Serialises commits of this stream. */
  commitChain: Promise<void> = Promise.resolve();
  obliterated = false;
  /**
   * While the engine is read-only: the tree of the latest version plus the acknowledged, durable
   * WAL inserts it cannot commit, built in memory (its blocks staged, never fsynced) so reads
   * still see every acknowledged point. Valid while `base` is the latest version and the first
   * `count` queued ops are the ones it holds (last one `seq`); the next commit reuses it.
   */
  volatile: {
    readonly base: number;
    readonly seq: number;
    readonly count: number;
    readonly root: NodeRef | null;
  } | null = null;

  constructor(
    readonly id: StreamId,
    public options: StreamOptions,
    /** Retained versions, ascending. Never empty: the creation version is the first. */
    public versions: VersionEntry[],
    /** WAL records of this stream below this LSN are in the tree. */
    public walBound: number,
  ) {
    this.nextVersion = versions[versions.length - 1]!.version + 1;
  }

  get latest(): VersionEntry {
    return this.versions[this.versions.length - 1]!;
  }

  get latestRoot(): NodeRef | null {
    return this.latest.root;
  }

  /** The retained version entry, or undefined. */
  find(version: number): VersionEntry | undefined {
    let lo = 0;
    let hi = this.versions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.versions[mid]!.version;
      if (v === version) return this.versions[mid];
      if (v < version) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  checkLive(): void {
    if (this.obliterated) throw new DbError(404, `stream ${this.id} does not exist (obliterated)`);
  }
}

/**
 * The I/O seams of ArborDB. Everything above storage talks to these interfaces; each has a real
 * (file-system), an in-memory and a fault-injecting implementation.
 */

/**
 * Where a block lives: segment id · 2^32 + byte offset of its record in that segment.
 * Segment ids start at 1, so address 0 never names a block (it marks an empty slot).
 */
export type Address = number;

/** A block's address plus its record length in bytes, enough to read it in one I/O. */
export interface BlockRef {
  readonly addr: Address;
  readonly len: number;
}

/**
 * Append-only, checksummed block storage. Blocks are immutable once written.
 * Record format: docs/format/block-segment.md.
 */
export interface BlockStore {
  /**
   * Stage a block for writing and return where it will live. Synchronous: the address is known at
   * once (so parents can reference children before anything is written). Not durable until
   * `sync()` resolves.
   */
  put(block: Uint8Array): BlockRef;
  /** Write every staged block and fsync; resolves when they are durable. Concurrent calls coalesce. */
  sync(): Promise<void>;
  /**
   * Read one block (staged or durable), verify its checksum, return the payload.
   * A mismatch or short read throws DbError 500 carrying file and offset.
   */
  get(ref: BlockRef): Promise<Uint8Array>;
  /** Read many blocks, coalescing adjacent ones into single reads; results in request order. */
  getMany(refs: readonly BlockRef[]): Promise<Uint8Array[]>;
  /** Start a new segment for subsequent puts (used by compaction). Returns its id. */
  rollSegment(): number;
  /** `rollSegment()` unless the active segment holds no block yet; returns the active segment's id. */
  rollIfUsed(): number;
  /** Ids and sizes of all segments. */
  segments(): readonly { readonly id: number; readonly bytes: number }[];
  /** Delete whole segments (after compaction moved every live block out of them). */
  deleteSegments(ids: readonly number[]): Promise<void>;
  /** Total bytes on disk. */
  bytes(): number;
  close(): Promise<void>;
}

/** A position in a RecordLog: the byte offset of a record in the log's virtual byte stream. */
export type Lsn = number;

/**
 * A segmented, append-only log of checksummed records: the WAL and the version manifest.
 * Format: docs/format/record-log.md.
 */
export interface RecordLog {
  /** Stage a record; returns its LSN at once. Durable only after `sync()` resolves. */
  append(payload: Uint8Array): Lsn;
  /**
   * Write all staged records and fdatasync. Concurrent callers share one fsync (group commit):
   * a call made while a sync is running waits for it, then at most one more sync covers everything
   * staged meanwhile.
   */
  sync(): Promise<void>;
  /** LSN just past the last durable record. */
  readonly durableLsn: Lsn;
  /** LSN the next append will get. */
  readonly nextLsn: Lsn;
  /**
   * Set when a flush failed (full disk, I/O error): every record staged but not durable at that
   * moment was discarded — it will never be written, and every `sync()` waiting for it rejected —
   * and `append`/`roll` throw this error until `resume()`. LSNs from `durableLsn` on are reused
   * after `resume()`, so the owner must forget the LSNs of the discarded records first.
   */
  readonly failure: Error | undefined;
  /** Accept appends again after a failure (the next sync is the retry). */
  resume(): void;
  /** Read every durable record with lsn ≥ from, in order. A torn tail was truncated at open. */
  replay(from?: Lsn): AsyncIterable<{ readonly lsn: Lsn; readonly payload: Uint8Array }>;
  /** The segment file holding LSN `lsn` and its offset in that file (for error messages). */
  locate(lsn: Lsn): { readonly file: string; readonly offset: number };
  /** Delete whole segments that hold only records with lsn < before. */
  truncateBefore(before: Lsn): Promise<void>;
  /** Start a new segment at the next LSN. */
  roll(): Promise<void>;
  /** Durability operations performed since open and the records they made durable (metrics). */
  syncStats(): LogSyncStats;
  bytes(): number;
  close(): Promise<void>;
}

/**
 * What a RecordLog's group commit did since the log was opened: `records / syncs` is the average
 * group size (how many appends one fsync served).
 */
export interface LogSyncStats {
  /**
   * Durability operations issued: fdatasyncs of segment files for a file log (opening and
   * recovery included; a group commit that spans a segment roll syncs each segment), object
   * creates for an object-store log, transactions for a PostgreSQL log.
   */
  readonly syncs: number;
  /** Appended records those operations made durable (records discarded after a failed sync are not counted). */
  readonly records: number;
}

/** Counters of the I/O a store issued, for metrics and benchmarks (e.g. fsyncs per commit). */
export interface IoStats {
  /** writev calls. */
  writes: number;
  bytesWritten: number;
  /** fdatasync calls on segment files. */
  syncs: number;
  /** fsync calls on the store's directory. */
  dirSyncs: number;
  /** Positional reads issued by get/getMany/replay. */
  reads: number;
  bytesRead: number;
}

export const newIoStats = (): IoStats => ({
  writes: 0,
  bytesWritten: 0,
  syncs: 0,
  dirSyncs: 0,
  reads: 0,
  bytesRead: 0,
});

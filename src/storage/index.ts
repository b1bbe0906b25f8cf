/** The storage layer's public API: block stores, record logs, and the Envs they run on. */

export type { BlockStoreOptions, BlockStoreRecovery, SegmentedBlockStore } from './block-store.ts';
export {
  openBlockStore,
  openFaultyBlockStore,
  openFileBlockStore,
  openMemoryBlockStore,
} from './block-store-open.ts';
export type { AppendFile, Env, ReadableFile } from './env.ts';
export type { FaultErrno, FaultOp, FaultTrigger } from './failpoints.ts';
export { FaultyEnv } from './faulty-env.ts';
export { fsEnv } from './fs-env.ts';
export type { IoStats } from './io-stats.ts';
export { type LogSalvage, type LostRange, type SalvagedRecord, salvageLog } from './log-salvage.ts';
export { type CrashOptions, MemoryEnv } from './memory-env.ts';
export type { TornMode } from './memory-file.ts';
export {
  MemoryObjectStore,
  type MemoryObjectStoreOptions,
  type ObjectFaultMode,
  type ObjectOp,
  type ObjectStoreStats,
} from './memory-object-store.ts';
export { ObjectBlockStore, type ObjectBlockStoreOptions } from './object-block-store.ts';
export { ObjectRecordLog, type ObjectRecordLogOptions } from './object-record-log.ts';
export type { ObjectInfo, ObjectStore } from './object-store.ts';
export type { RecordLogOptions, RecordLogRecovery, SegmentedRecordLog } from './record-log.ts';
export {
  openFaultyRecordLog,
  openFileRecordLog,
  openMemoryRecordLog,
  openRecordLog,
} from './record-log-open.ts';
export { parseS3Url, S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.ts';
export { seededRng } from './seeded-rng.ts';
export type { Address, BlockRef, BlockStore, Lsn, RecordLog } from './types.ts';

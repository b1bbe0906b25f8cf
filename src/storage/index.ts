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
export type { RecordLogOptions, RecordLogRecovery, SegmentedRecordLog } from './record-log.ts';
export {
  openFaultyRecordLog,
  openFileRecordLog,
  openMemoryRecordLog,
  openRecordLog,
} from './record-log-open.ts';
export { seededRng } from './seeded-rng.ts';
export type { Address, BlockRef, BlockStore, Lsn, RecordLog } from './types.ts';

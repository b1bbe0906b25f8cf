/**
 * ArborDB's user API, modelled on btrdb-python: a Connection finds and creates Streams; a Stream
 * reads and writes one series; a StreamSet queries several together and feeds the transformers
 * (typed arrays, Arrow, CSV, row objects, text). Times are bigint ns throughout.
 */

export { DbError, ERROR_CODES, type ErrorCode, isDbError } from '../core/errors.ts';
export type { StatPoint } from '../core/stat.ts';
export type { MergePolicy, PointBatch, StreamDescriptor, StreamId, Version } from '../core/types.ts';
export type { Backend, MetaFilter, ServerInfo } from '../db/backend.ts';
export { type AnnotationValue, decodeAnnotation, encodeAnnotation } from './annotations.ts';
export {
  Connection,
  type CreateOptions,
  connectionOver,
  Database,
  type LookupOptions,
  type StreamsOptions,
} from './connection.ts';
export type { Frame, FrameColumn } from './frame.ts';
export { INSERT_BATCH_SIZE, type PointColumns, type PointPairs, type PointsInput } from './insert-data.ts';
export { type JoinIndex, outerJoin, snapJoin, snapPeriod, snapTime } from './join.ts';
export {
  type PointAt,
  type RawArrays,
  type RawChunk,
  type RawPoint,
  type RawResult,
  STAT_FIELDS,
  type StatColumns,
  type StatField,
  type StatResult,
  statColumns,
} from './points.ts';
export { type SetTable, splitSetTable } from './set-table.ts';
export {
  type ArrowValuesOptions,
  type CountOptions,
  type InsertOptions,
  type NearestOptions,
  Stream,
  type VersionOption,
  type WindowsOptions,
} from './stream.ts';
export {
  type FilterOptions,
  type JoinedRows,
  type QueryKind,
  type SeriesOf,
  StreamSet,
} from './stream-set.ts';
export type { MemberFilter, TextMatch } from './stream-set-filter.ts';
export type { AggOption, ColumnNaming, FrameOptions, RawSeries, StatSeries } from './stream-set-frame.ts';
export type { UpdateOptions } from './stream-update.ts';
export {
  currentlyAsNs,
  DAY,
  type DeltaParts,
  formatIso,
  fromDate,
  HOUR,
  MAX_INSERT_TIME,
  MAX_TIME,
  MAXIMUM_TIME,
  MICROSECOND,
  MILLISECOND,
  MIN_TIME,
  MINIMUM_TIME,
  MINUTE,
  NANOSECOND,
  nsDelta,
  nsToDate,
  nsToIso,
  parseIso,
  SECOND,
  type TimeInput,
  toNanos,
  toNanoseconds,
} from './time.ts';
export { arrowToPoints, frameToArrow, rawToArrow, readTimes, statsToArrow } from './transformers/arrow.ts';
export { type CsvOptions, csvChunks, frameToCsv } from './transformers/csv.ts';
export { writeCsvFile } from './transformers/csv-file.ts';
export { type FrameRecord, frameToRecords } from './transformers/records.ts';
export type { Series } from './transformers/series.ts';
export { frameToText } from './transformers/text-table.ts';

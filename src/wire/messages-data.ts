/**
 * Request/response messages of the data RPCs that are not on a hot path (the point messages
 * RawValuesResponse, Aligned/WindowsResponse and InsertParams have hand-written codecs in
 * raw-values-codec.ts, windows-codec.ts and insert-codec.ts). Representation: see
 * messages-common.ts. Times are bigint ns; `versionMajor` 0 in a request means "latest".
 */
import {
  bool,
  bytes,
  enumField,
  int64,
  messageCodec,
  msg,
  repeated,
  repeatedMsg,
  sfixed64,
  uint32,
  uint64,
} from './message-codec.ts';
import {
  type ChangedRange,
  ChangedRangeCodec,
  type RawPoint,
  RawPointCodec,
  type RoundSpec,
  RoundSpecCodec,
  type Status,
  StatusCodec,
} from './messages-common.ts';

/** A response that carries only `stat` (Create, SetStream*, Obliterate). */
export interface StatResponse {
  readonly stat?: Status | undefined;
}
/** A "+V" response: `stat` and the version the answer was read at (Insert, Delete, Flush). */
export interface VersionedResponse extends StatResponse {
  readonly versionMajor: bigint;
  readonly versionMinor: bigint;
}
const statOnly = (name: string) => messageCodec<StatResponse>(name, { stat: msg(1, StatusCodec) });
const versioned = (name: string) =>
  messageCodec<VersionedResponse>(name, {
    stat: msg(1, StatusCodec),
    versionMajor: uint64(2),
    versionMinor: uint64(3),
  });

export interface RawValuesParams {
  readonly uuid: Uint8Array;
  readonly start: bigint;
  readonly end: bigint;
  readonly versionMajor: bigint;
}
export const RawValuesParamsCodec = messageCodec<RawValuesParams>('RawValuesParams', {
  uuid: bytes(1),
  start: sfixed64(2),
  end: sfixed64(3),
  versionMajor: uint64(4),
});

export interface ArrowRawValuesParams extends RawValuesParams {
  /** An IPC stream holding only a schema to cast to; empty = the default raw schema. */
  readonly templateBytes: Uint8Array;
}
export const ArrowRawValuesParamsCodec = messageCodec<ArrowRawValuesParams>('ArrowRawValuesParams', {
  uuid: bytes(1),
  start: sfixed64(2),
  end: sfixed64(3),
  versionMajor: uint64(4),
  templateBytes: bytes(5),
});

/** Also the shape of ArrowAlignedWindowsResponse and ArrowWindowsResponse. */
export interface ArrowVersionedResponse extends VersionedResponse {
  /** One complete Arrow IPC stream (schema, batches, EOS). */
  readonly arrowBytes: Uint8Array;
}
const arrowVersioned = (name: string) =>
  messageCodec<ArrowVersionedResponse>(name, {
    stat: msg(1, StatusCodec),
    versionMajor: uint64(2),
    versionMinor: uint64(3),
    arrowBytes: bytes(4),
  });
export type ArrowRawValuesResponse = ArrowVersionedResponse;
export const ArrowRawValuesResponseCodec = arrowVersioned('ArrowRawValuesResponse');
export type ArrowAlignedWindowsResponse = ArrowVersionedResponse;
export const ArrowAlignedWindowsResponseCodec = arrowVersioned('ArrowAlignedWindowsResponse');
export type ArrowWindowsResponse = ArrowVersionedResponse;
export const ArrowWindowsResponseCodec = arrowVersioned('ArrowWindowsResponse');

/** Note the numbering: start/end are fields 3/4 here. One version per uuid. */
export interface ArrowMultiValuesParams {
  readonly uuid: readonly Uint8Array[];
  readonly versionMajor: readonly bigint[];
  readonly start: bigint;
  readonly end: bigint;
  /** Snap grid period in ns; 0 = no snapping. */
  readonly snapPeriodNs: bigint;
  readonly templateBytes: Uint8Array;
}
export const ArrowMultiValuesParamsCodec = messageCodec<ArrowMultiValuesParams>('ArrowMultiValuesParams', {
  uuid: repeated(bytes(1)),
  versionMajor: repeated(uint64(2)),
  start: sfixed64(3),
  end: sfixed64(4),
  snapPeriodNs: int64(5),
  templateBytes: bytes(6),
});

/** No versions in this response. */
export interface ArrowMultiValuesResponse extends StatResponse {
  readonly arrowBytes: Uint8Array;
}
export const ArrowMultiValuesResponseCodec = messageCodec<ArrowMultiValuesResponse>('ArrowMultiValuesResponse', {
  stat: msg(1, StatusCodec),
  arrowBytes: bytes(2),
});

export interface AlignedWindowsParams extends RawValuesParams {
  readonly pointWidth: number;
}
export const AlignedWindowsParamsCodec = messageCodec<AlignedWindowsParams>('AlignedWindowsParams', {
  uuid: bytes(1),
  start: sfixed64(2),
  end: sfixed64(3),
  versionMajor: uint64(4),
  pointWidth: uint32(5),
});

export interface WindowsParams extends RawValuesParams {
  readonly width: bigint;
  readonly depth: number;
}
export const WindowsParamsCodec = messageCodec<WindowsParams>('WindowsParams', {
  uuid: bytes(1),
  start: sfixed64(2),
  end: sfixed64(3),
  versionMajor: uint64(4),
  width: uint64(5),
  depth: uint32(6),
});

export interface NearestParams {
  readonly uuid: Uint8Array;
  readonly time: bigint;
  readonly versionMajor: bigint;
  readonly backward: boolean;
}
export const NearestParamsCodec = messageCodec<NearestParams>('NearestParams', {
  uuid: bytes(1),
  time: sfixed64(2),
  versionMajor: uint64(3),
  backward: bool(4),
});

/** Nothing found is status 401, never an OK reply without `value`. */
export interface NearestResponse extends VersionedResponse {
  readonly value?: RawPoint | undefined;
}
export const NearestResponseCodec = messageCodec<NearestResponse>('NearestResponse', {
  stat: msg(1, StatusCodec),
  versionMajor: uint64(2),
  versionMinor: uint64(3),
  value: msg(4, RawPointCodec),
});

export interface ChangesParams {
  readonly uuid: Uint8Array;
  readonly fromMajor: bigint;
  readonly toMajor: bigint;
  readonly resolution: number;
}
export const ChangesParamsCodec = messageCodec<ChangesParams>('ChangesParams', {
  uuid: bytes(1),
  fromMajor: uint64(2),
  toMajor: uint64(3),
  resolution: uint32(4),
});

export interface ChangesResponse extends VersionedResponse {
  readonly ranges: readonly ChangedRange[];
}
export const ChangesResponseCodec = messageCodec<ChangesResponse>('ChangesResponse', {
  stat: msg(1, StatusCodec),
  versionMajor: uint64(2),
  versionMinor: uint64(3),
  ranges: repeatedMsg(4, ChangedRangeCodec),
});

/** Numbering differs from InsertParams: merge_policy 3, rounding 4, arrowBytes 5. */
export interface ArrowInsertParams {
  readonly uuid: Uint8Array;
  readonly sync: boolean;
  /** A MergePolicy value (enums.ts). */
  readonly merge_policy: number;
  readonly rounding?: RoundSpec | undefined;
  readonly arrowBytes: Uint8Array;
}
export const ArrowInsertParamsCodec = messageCodec<ArrowInsertParams>('ArrowInsertParams', {
  uuid: bytes(1),
  sync: bool(2),
  merge_policy: enumField(3),
  rounding: msg(4, RoundSpecCodec),
  arrowBytes: bytes(5),
});

/** The response of both Insert and ArrowInsert. */
export type InsertResponse = VersionedResponse;
export const InsertResponseCodec = versioned('InsertResponse');

export interface DeleteParams {
  readonly uuid: Uint8Array;
  readonly start: bigint;
  readonly end: bigint;
}
export const DeleteParamsCodec = messageCodec<DeleteParams>('DeleteParams', {
  uuid: bytes(1),
  start: sfixed64(2),
  end: sfixed64(3),
});
export type DeleteResponse = VersionedResponse;
export const DeleteResponseCodec = versioned('DeleteResponse');

export interface UuidParams {
  readonly uuid: Uint8Array;
}
export type FlushParams = UuidParams;
export const FlushParamsCodec = messageCodec<FlushParams>('FlushParams', { uuid: bytes(1) });
export type FlushResponse = VersionedResponse;
export const FlushResponseCodec = versioned('FlushResponse');

export type ObliterateParams = UuidParams;
export const ObliterateParamsCodec = messageCodec<ObliterateParams>('ObliterateParams', { uuid: bytes(1) });
export type ObliterateResponse = StatResponse;
export const ObliterateResponseCodec = statOnly('ObliterateResponse');

export { statOnly as statOnlyCodec, versioned as versionedCodec };

/**
 * Messages no btrdb-python user call reaches (FaultInject, GenerateCSV, Subscribe) and the
 * compaction-configuration messages that no v5 RPC uses. Representation: see messages-common.ts.
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
  string,
  uint32,
  uint64,
} from './message-codec.ts';
import { StatusCodec } from './messages-common.ts';
import type { StatResponse } from './messages-data.ts';

export interface FaultInjectParams {
  readonly type: bigint;
  readonly params: Uint8Array;
}
export const FaultInjectParamsCodec = messageCodec<FaultInjectParams>('FaultInjectParams', {
  type: uint64(1),
  params: bytes(2),
});

export interface FaultInjectResponse extends StatResponse {
  readonly rv: Uint8Array;
}
export const FaultInjectResponseCodec = messageCodec<FaultInjectResponse>('FaultInjectResponse', {
  stat: msg(1, StatusCodec),
  rv: bytes(2),
});

export interface StreamCSVConfig {
  readonly version: bigint;
  readonly label: string;
  readonly uuid: Uint8Array;
}
export const StreamCSVConfigCodec = messageCodec<StreamCSVConfig>('StreamCSVConfig', {
  version: uint64(1),
  label: string(2),
  uuid: bytes(3),
});

/** Times here are int64 varints (every other time field is sfixed64). */
export interface GenerateCSVParams {
  /** A QueryType value (enums.ts). */
  readonly queryType: number;
  readonly startTime: bigint;
  readonly endTime: bigint;
  readonly windowSize: bigint;
  /** The point width for aligned-windows queries. */
  readonly depth: number;
  readonly includeVersions: boolean;
  readonly streams: readonly StreamCSVConfig[];
}
export const GenerateCSVParamsCodec = messageCodec<GenerateCSVParams>('GenerateCSVParams', {
  queryType: enumField(1),
  startTime: int64(2),
  endTime: int64(3),
  windowSize: uint64(4),
  depth: uint32(5),
  includeVersions: bool(6),
  streams: repeatedMsg(7, StreamCSVConfigCodec),
});

export interface GenerateCSVResponse extends StatResponse {
  readonly isHeader: boolean;
  readonly row: readonly string[];
}
export const GenerateCSVResponseCodec = messageCodec<GenerateCSVResponse>('GenerateCSVResponse', {
  stat: msg(1, StatusCodec),
  isHeader: bool(2),
  row: repeated(string(3)),
});

export interface SubscriptionUpdate {
  /** A SubscriptionUpdateOp value (enums.ts). */
  readonly op: number;
  readonly uuid: readonly Uint8Array[];
}
export const SubscriptionUpdateCodec = messageCodec<SubscriptionUpdate>('SubscriptionUpdate', {
  op: enumField(1),
  uuid: repeated(bytes(2)),
});

export interface SubscriptionResp extends StatResponse {
  readonly uuid: Uint8Array;
  readonly arrowBytes: Uint8Array;
}
export const SubscriptionRespCodec = messageCodec<SubscriptionResp>('SubscriptionResp', {
  stat: msg(1, StatusCodec),
  uuid: bytes(2),
  arrowBytes: bytes(3),
});

export interface ReducedResolutionRange {
  readonly Start: bigint;
  readonly End: bigint;
  readonly Resolution: number;
}
export const ReducedResolutionRangeCodec = messageCodec<ReducedResolutionRange>('ReducedResolutionRange', {
  Start: int64(1),
  End: int64(2),
  Resolution: uint32(3),
});

export interface SetCompactionConfigParams {
  readonly uuid: Uint8Array;
  readonly CompactedVersion: bigint;
  readonly reducedResolutionRanges: readonly ReducedResolutionRange[];
  readonly unused0: bigint;
}
export const SetCompactionConfigParamsCodec = messageCodec<SetCompactionConfigParams>('SetCompactionConfigParams', {
  uuid: bytes(1),
  CompactedVersion: uint64(2),
  reducedResolutionRanges: repeatedMsg(3, ReducedResolutionRangeCodec),
  unused0: uint64(4),
});
export type SetCompactionConfigResponse = StatResponse;
export const SetCompactionConfigResponseCodec = messageCodec<SetCompactionConfigResponse>(
  'SetCompactionConfigResponse',
  { stat: msg(1, StatusCodec) },
);

export interface GetCompactionConfigParams {
  readonly uuid: Uint8Array;
}
export const GetCompactionConfigParamsCodec = messageCodec<GetCompactionConfigParams>('GetCompactionConfigParams', {
  uuid: bytes(1),
});

export interface GetCompactionConfigResponse extends StatResponse {
  readonly LatestMajorVersion: bigint;
  readonly CompactedVersion: bigint;
  readonly reducedResolutionRanges: readonly ReducedResolutionRange[];
  readonly unused0: bigint;
}
export const GetCompactionConfigResponseCodec = messageCodec<GetCompactionConfigResponse>(
  'GetCompactionConfigResponse',
  {
    stat: msg(1, StatusCodec),
    LatestMajorVersion: uint64(2),
    CompactedVersion: uint64(3),
    reducedResolutionRanges: repeatedMsg(4, ReducedResolutionRangeCodec),
    unused0: uint64(5),
  },
);

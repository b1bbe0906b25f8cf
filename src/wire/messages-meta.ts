/**
 * Request/response messages of the metadata and server RPCs (streams, collections, tags,
 * annotations, SQL, Info). Representation: see messages-common.ts.
 */
import { bool, bytes, messageCodec, msg, repeated, repeatedMsg, string, uint32, uint64 } from './message-codec.ts';
import {
  type KeyCount,
  KeyCountCodec,
  type KeyOptValue,
  KeyOptValueCodec,
  type Mash,
  MashCodec,
  type ProxyInfo,
  ProxyInfoCodec,
  type Role,
  RoleCodec,
  StatusCodec,
  type StreamDescriptor,
  StreamDescriptorCodec,
} from './messages-common.ts';
import { type StatResponse, statOnlyCodec, type VersionedResponse } from './messages-data.ts';

export interface StreamInfoParams {
  readonly uuid: Uint8Array;
  readonly omitVersion: boolean;
  readonly omitDescriptor: boolean;
  readonly role?: Role | undefined;
}
export const StreamInfoParamsCodec = messageCodec<StreamInfoParams>('StreamInfoParams', {
  uuid: bytes(1),
  omitVersion: bool(2),
  omitDescriptor: bool(3),
  role: msg(100, RoleCodec),
});

export interface StreamInfoResponse extends VersionedResponse {
  readonly descriptor?: StreamDescriptor | undefined;
}
export const StreamInfoResponseCodec = messageCodec<StreamInfoResponse>('StreamInfoResponse', {
  stat: msg(1, StatusCodec),
  versionMajor: uint64(2),
  versionMinor: uint64(3),
  descriptor: msg(4, StreamDescriptorCodec),
});

/** `changes` with `val` upsert, without `val` remove; `removals` delete keys. */
export interface SetStreamAnnotationsParams {
  readonly uuid: Uint8Array;
  readonly expectedPropertyVersion: bigint;
  readonly changes: readonly KeyOptValue[];
  readonly removals: readonly string[];
}
export const SetStreamAnnotationsParamsCodec = messageCodec<SetStreamAnnotationsParams>('SetStreamAnnotationsParams', {
  uuid: bytes(1),
  expectedPropertyVersion: uint64(2),
  changes: repeatedMsg(3, KeyOptValueCodec),
  removals: repeated(string(4)),
});
export type SetStreamAnnotationsResponse = StatResponse;
export const SetStreamAnnotationsResponseCodec = statOnlyCodec('SetStreamAnnotationsResponse');

export interface SetStreamTagsParams {
  readonly uuid: Uint8Array;
  readonly expectedPropertyVersion: bigint;
  readonly tags: readonly KeyOptValue[];
  readonly collection: string;
  readonly remove: readonly string[];
}
export const SetStreamTagsParamsCodec = messageCodec<SetStreamTagsParams>('SetStreamTagsParams', {
  uuid: bytes(1),
  expectedPropertyVersion: uint64(2),
  tags: repeatedMsg(3, KeyOptValueCodec),
  collection: string(4),
  remove: repeated(string(5)),
});
export type SetStreamTagsResponse = StatResponse;
export const SetStreamTagsResponseCodec = statOnlyCodec('SetStreamTagsResponse');

export interface CreateParams {
  readonly uuid: Uint8Array;
  readonly collection: string;
  readonly tags: readonly KeyOptValue[];
  readonly annotations: readonly KeyOptValue[];
}
export const CreateParamsCodec = messageCodec<CreateParams>('CreateParams', {
  uuid: bytes(1),
  collection: string(2),
  tags: repeatedMsg(3, KeyOptValueCodec),
  annotations: repeatedMsg(4, KeyOptValueCodec),
});
export type CreateResponse = StatResponse;
export const CreateResponseCodec = statOnlyCodec('CreateResponse');

/** The request of GetMetadataUsage. */
export interface MetadataUsageParams {
  readonly prefix: string;
  readonly role?: Role | undefined;
}
export const MetadataUsageParamsCodec = messageCodec<MetadataUsageParams>('MetadataUsageParams', {
  prefix: string(1),
  role: msg(100, RoleCodec),
});

export interface MetadataUsageResponse extends StatResponse {
  readonly tags: readonly KeyCount[];
  readonly annotations: readonly KeyCount[];
}
export const MetadataUsageResponseCodec = messageCodec<MetadataUsageResponse>('MetadataUsageResponse', {
  stat: msg(1, StatusCodec),
  tags: repeatedMsg(2, KeyCountCodec),
  annotations: repeatedMsg(3, KeyCountCodec),
});

export interface ListCollectionsParams {
  readonly prefix: string;
  readonly role?: Role | undefined;
}
export const ListCollectionsParamsCodec = messageCodec<ListCollectionsParams>('ListCollectionsParams', {
  prefix: string(1),
  role: msg(100, RoleCodec),
});

export interface ListCollectionsResponse extends StatResponse {
  readonly collections: readonly string[];
}
export const ListCollectionsResponseCodec = messageCodec<ListCollectionsResponse>('ListCollectionsResponse', {
  stat: msg(1, StatusCodec),
  collections: repeated(string(2)),
});

/** Filters are ANDed: `val` present → equal value, absent → key present. */
export interface LookupStreamsParams {
  readonly collection: string;
  readonly isCollectionPrefix: boolean;
  readonly tags: readonly KeyOptValue[];
  readonly annotations: readonly KeyOptValue[];
  readonly role?: Role | undefined;
}
export const LookupStreamsParamsCodec = messageCodec<LookupStreamsParams>('LookupStreamsParams', {
  collection: string(1),
  isCollectionPrefix: bool(2),
  tags: repeatedMsg(3, KeyOptValueCodec),
  annotations: repeatedMsg(4, KeyOptValueCodec),
  role: msg(100, RoleCodec),
});

export interface LookupStreamsResponse extends StatResponse {
  readonly results: readonly StreamDescriptor[];
}
export const LookupStreamsResponseCodec = messageCodec<LookupStreamsResponse>('LookupStreamsResponse', {
  stat: msg(1, StatusCodec),
  results: repeatedMsg(2, StreamDescriptorCodec),
});

export interface SQLQueryParams {
  readonly query: string;
  /** Bound to $1, $2 … as text. */
  readonly params: readonly string[];
  readonly role?: Role | undefined;
}
export const SQLQueryParamsCodec = messageCodec<SQLQueryParams>('SQLQueryParams', {
  query: string(1),
  params: repeated(string(2)),
  role: msg(100, RoleCodec),
});

export interface SQLQueryResponse extends StatResponse {
  /** One UTF-8 JSON object per row, keyed by output column name. */
  readonly SQLQueryRow: readonly Uint8Array[];
}
export const SQLQueryResponseCodec = messageCodec<SQLQueryResponse>('SQLQueryResponse', {
  stat: msg(1, StatusCodec),
  SQLQueryRow: repeated(bytes(2)),
});

export type InfoParams = Record<string, never>;
export const InfoParamsCodec = messageCodec<InfoParams>('InfoParams', {});

/** btrdb-python turns Arrow on only when majorVersion ≥ 5 and minorVersion ≥ 30. */
export interface InfoResponse extends StatResponse {
  readonly mash?: Mash | undefined;
  readonly majorVersion: number;
  readonly minorVersion: number;
  readonly build: string;
  readonly proxy?: ProxyInfo | undefined;
}
export const InfoResponseCodec = messageCodec<InfoResponse>('InfoResponse', {
  stat: msg(1, StatusCodec),
  mash: msg(2, MashCodec),
  majorVersion: uint32(3),
  minorVersion: uint32(4),
  build: string(5),
  proxy: msg(6, ProxyInfoCodec),
});

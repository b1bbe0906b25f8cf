/**
 * The 26 RPCs of service v5api.BTrDB: kind (U unary, S server-streaming, B bidirectional) and the
 * codecs of their request and response. The one place that says which message goes where.
 */
import { InsertParamsCodec } from './insert-codec.ts';
import type { MessageCodec } from './message-codec.ts';
import {
  AlignedWindowsParamsCodec,
  ArrowAlignedWindowsResponseCodec,
  ArrowInsertParamsCodec,
  ArrowMultiValuesParamsCodec,
  ArrowMultiValuesResponseCodec,
  ArrowRawValuesParamsCodec,
  ArrowRawValuesResponseCodec,
  ArrowWindowsResponseCodec,
  ChangesParamsCodec,
  ChangesResponseCodec,
  DeleteParamsCodec,
  DeleteResponseCodec,
  FlushParamsCodec,
  FlushResponseCodec,
  InsertResponseCodec,
  NearestParamsCodec,
  NearestResponseCodec,
  ObliterateParamsCodec,
  ObliterateResponseCodec,
  RawValuesParamsCodec,
  WindowsParamsCodec,
} from './messages-data.ts';
import {
  CreateParamsCodec,
  CreateResponseCodec,
  InfoParamsCodec,
  InfoResponseCodec,
  ListCollectionsParamsCodec,
  ListCollectionsResponseCodec,
  LookupStreamsParamsCodec,
  LookupStreamsResponseCodec,
  MetadataUsageParamsCodec,
  MetadataUsageResponseCodec,
  SetStreamAnnotationsParamsCodec,
  SetStreamAnnotationsResponseCodec,
  SetStreamTagsParamsCodec,
  SetStreamTagsResponseCodec,
  SQLQueryParamsCodec,
  SQLQueryResponseCodec,
  StreamInfoParamsCodec,
  StreamInfoResponseCodec,
} from './messages-meta.ts';
import {
  FaultInjectParamsCodec,
  FaultInjectResponseCodec,
  GenerateCSVParamsCodec,
  GenerateCSVResponseCodec,
  SubscriptionRespCodec,
  SubscriptionUpdateCodec,
} from './messages-misc.ts';
import { RawValuesResponseCodec } from './raw-values-codec.ts';
import { AlignedWindowsResponseCodec, WindowsResponseCodec } from './windows-codec.ts';

export type RpcKind = 'U' | 'S' | 'B';

export interface Rpc<K extends RpcKind, Req, Res> {
  readonly kind: K;
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Res>;
}

const rpc = <K extends RpcKind, Req, Res>(
  kind: K,
  request: MessageCodec<Req>,
  response: MessageCodec<Res>,
): Rpc<K, Req, Res> => ({ kind, request, response });

export const BTRDB_RPCS = {
  RawValues: rpc('S', RawValuesParamsCodec, RawValuesResponseCodec),
  ArrowRawValues: rpc('S', ArrowRawValuesParamsCodec, ArrowRawValuesResponseCodec),
  ArrowMultiValues: rpc('S', ArrowMultiValuesParamsCodec, ArrowMultiValuesResponseCodec),
  AlignedWindows: rpc('S', AlignedWindowsParamsCodec, AlignedWindowsResponseCodec),
  ArrowAlignedWindows: rpc('S', AlignedWindowsParamsCodec, ArrowAlignedWindowsResponseCodec),
  Windows: rpc('S', WindowsParamsCodec, WindowsResponseCodec),
  ArrowWindows: rpc('S', WindowsParamsCodec, ArrowWindowsResponseCodec),
  StreamInfo: rpc('U', StreamInfoParamsCodec, StreamInfoResponseCodec),
  SetStreamAnnotations: rpc('U', SetStreamAnnotationsParamsCodec, SetStreamAnnotationsResponseCodec),
  SetStreamTags: rpc('U', SetStreamTagsParamsCodec, SetStreamTagsResponseCodec),
  Create: rpc('U', CreateParamsCodec, CreateResponseCodec),
  ListCollections: rpc('S', ListCollectionsParamsCodec, ListCollectionsResponseCodec),
  LookupStreams: rpc('S', LookupStreamsParamsCodec, LookupStreamsResponseCodec),
  Nearest: rpc('U', NearestParamsCodec, NearestResponseCodec),
  Changes: rpc('S', ChangesParamsCodec, ChangesResponseCodec),
  Insert: rpc('U', InsertParamsCodec, InsertResponseCodec),
  ArrowInsert: rpc('U', ArrowInsertParamsCodec, InsertResponseCodec),
  Delete: rpc('U', DeleteParamsCodec, DeleteResponseCodec),
  Info: rpc('U', InfoParamsCodec, InfoResponseCodec),
  FaultInject: rpc('U', FaultInjectParamsCodec, FaultInjectResponseCodec),
  Flush: rpc('U', FlushParamsCodec, FlushResponseCodec),
  Obliterate: rpc('U', ObliterateParamsCodec, ObliterateResponseCodec),
  GetMetadataUsage: rpc('U', MetadataUsageParamsCodec, MetadataUsageResponseCodec),
  GenerateCSV: rpc('S', GenerateCSVParamsCodec, GenerateCSVResponseCodec),
  SQLQuery: rpc('S', SQLQueryParamsCodec, SQLQueryResponseCodec),
  Subscribe: rpc('B', SubscriptionUpdateCodec, SubscriptionRespCodec),
} as const;

export type BTrDBRpcs = typeof BTRDB_RPCS;
export type RpcName = keyof BTrDBRpcs;
/** Request message type of RPC `N`. */
export type RequestOf<N extends RpcName> = BTrDBRpcs[N] extends Rpc<RpcKind, infer Q, unknown> ? Q : never;
/** Response message type of RPC `N`. */
export type ResponseOf<N extends RpcName> = BTrDBRpcs[N] extends Rpc<RpcKind, unknown, infer R> ? R : never;

/**
 * The BTrDB v5 wire layer: message types and codecs (proto/btrdb.proto), the grpc-js service
 * definition and client, server tuning, and Arrow IPC helpers. See docs/api/wire.md.
 */
export * from './arrow-read.ts';
export * from './arrow-schemas.ts';
export * from './arrow-template.ts';
export * from './arrow-write.ts';
export * from './enums.ts';
export * from './grpc-client.ts';
export * from './grpc-server-tuning.ts';
export * from './insert-codec.ts';
export { MAX_STRING_BYTES, type MessageCodec } from './message-codec.ts';
export * from './message-registry.ts';
export * from './messages-common.ts';
export * from './messages-data.ts';
export * from './messages-meta.ts';
export * from './messages-misc.ts';
export type { PointColumns } from './raw-point-entries.ts';
export * from './raw-values-codec.ts';
export * from './rpc-table.ts';
export * from './service-definition.ts';
export * from './windows-codec.ts';
export * from './wire-error.ts';

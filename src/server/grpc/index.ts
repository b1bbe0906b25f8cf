/** The gRPC adapter of the BTrDB v5 service (thin: auth from metadata, backpressure, TLS). */

export {
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_MAX_RECEIVE_BYTES,
  type GrpcServer,
  type GrpcServerOptions,
  MAX_INSERT_POINTS,
  startGrpcServer,
  type TlsFiles,
} from './grpc-server.ts';
export { createGrpcHandlers, type HandlerOptions } from './handlers.ts';
export {
  applyInsertBudget,
  DEFAULT_MAX_INFLIGHT_INSERT_BYTES,
  InsertBudget,
} from './insert-budget.ts';
export { writeAll } from './write-stream.ts';

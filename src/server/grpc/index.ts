/** The gRPC adapter of the BTrDB v5 service (thin: auth from metadata, backpressure, TLS). */

export {
  type GrpcServer,
  type GrpcServerOptions,
  MAX_INSERT_POINTS,
  startGrpcServer,
  type TlsFiles,
} from './grpc-server.ts';
export { createGrpcHandlers, type HandlerOptions } from './handlers.ts';
export { writeAll } from './write-stream.ts';

/**
 * The transport-agnostic BTrDB v5 service: one function per RPC over a Backend, API-key
 * authentication, DbError → in-band Status. Adapters (grpc/, later http/) stay thin.
 */
export { ApiKeyAuth, bearerKey, INVALID_API_KEY } from './auth.ts';
export { type AuthResult, localContext, type RequestContext, type ServiceOptions } from './context.ts';
export { createBTrDBService, DEFAULT_POINTS_PER_MESSAGE } from './service.ts';
export type { BidiService, BTrDBService, StreamingService, UnaryService } from './service-types.ts';
export { statusOf } from './status.ts';

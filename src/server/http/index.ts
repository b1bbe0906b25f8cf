/**
 * The HTTP adapter: JSON API, live SSE, OpenAPI, Prometheus metrics and the web plotter, over a
 * Backend (docs/api/http.md). `arbor serve` starts it with `startHttpServer(db, opts)`.
 */
export { createHttpApp, DEFAULT_MAX_BODY_BYTES, type HttpApp, type HttpAppOptions } from './app.ts';
export { HTTP_STATUS_OF_CODE, HttpError, httpErrorOf } from './errors.ts';
export {
  DEFAULT_HTTP_ADDRESS,
  databaseStats,
  type HttpServer,
  type HttpServerOptions,
  splitAddress,
  startHttpServer,
} from './http-server.ts';
export { openApiDocument } from './openapi.ts';

/**
 * A route of the HTTP API: method, path template, parameters and body (declared once, used both
 * to validate and to emit OpenAPI), the documented answers, and the handler. Handlers write the
 * answer themselves (JSON, streamed rows, SSE); whatever they throw before writing becomes an
 * HTTP error (errors.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Backend } from '../../db/backend.ts';
import type { HttpMetrics } from './metrics.ts';
import type { ParamsSpec, ParamValues } from './params.ts';
import type { JsonSchema } from './shapes.ts';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Everything a handler may use besides its request. */
export interface AppContext {
  readonly backend: Backend;
  readonly metrics: HttpMetrics;
  /** Largest accepted request body (bytes). */
  readonly maxBodyBytes: number;
  /** Most windows one Windows request may produce (they include empty windows). */
  readonly maxWindows: number;
  /** Live (SSE) options. */
  readonly live: { readonly maxPending: number; readonly heartbeatMs: number };
  /** Aborted when the server closes: long answers (SSE) end. */
  readonly closing: AbortSignal;
  /** The engine/catalog/disk figures for /metrics and /readyz (absent for a bare Backend). */
  readonly stats?: () => Promise<ServerStats>;
}

/** Figures of the database behind the server, for /metrics. */
export interface ServerStats {
  readonly engine: Readonly<Record<string, number | string | null>>;
  readonly streams: number;
  readonly collections: number;
  /** Bytes of the data directory on disk, or null for an in-memory database. */
  readonly diskBytes: number | null;
  /**
   * Whether the database takes writes: 'read-only' after a write failed (e.g. the disk filled up;
   * reads still work, writes get `reason`). Absent when the backend cannot tell.
   */
  readonly writes?: {
    readonly state: 'ok' | 'read-only';
    readonly reason: string | null;
    readonly code: number | null;
  };
}

export interface Call<P, B> {
  readonly params: P;
  readonly body: B;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly app: AppContext;
  /** Aborted when the client goes away or the server closes. */
  readonly signal: AbortSignal;
}

export interface BodySpec<B> {
  readonly required: boolean;
  readonly description: string;
  /** Content type → schema, for OpenAPI. */
  readonly content: Readonly<Record<string, JsonSchema>>;
  read(req: IncomingMessage, app: AppContext, signal: AbortSignal): Promise<B>;
}

export interface ResponseDoc {
  readonly description: string;
  readonly content?: Readonly<Record<string, JsonSchema>>;
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: JsonSchema }>>;
}

export interface Route<P extends ParamsSpec, B> {
  readonly method: Method;
  /** Path template with `{name}` segments, e.g. `/api/streams/{uuid}/points`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly params: P;
  readonly body?: BodySpec<B>;
  /** Success answers by status; the error answers are added to the spec for every route. */
  readonly responses: Readonly<Record<string, ResponseDoc>>;
  /** Served without an API key (health checks, the spec). */
  readonly public?: boolean;
  handle(call: Call<ParamValues<P>, B>): Promise<void>;
}

export type AnyRoute = Route<ParamsSpec, unknown>;

/** Declare a route; the result is stored untyped in the route table. */
export function defineRoute<P extends ParamsSpec, B = undefined>(route: Route<P, B>): AnyRoute {
  return route as unknown as AnyRoute;
}

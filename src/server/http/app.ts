/**
 * The HTTP API as a request handler over a Backend: routing, API-key authentication and roles (the
 * service layer's ApiKeyAuth and access table, same keys and header as gRPC: 401 without a valid
 * key, 403 when its role is too weak), parameter and body validation, errors as
 * JSON, metrics, and the web plotter's static files at `/`. Transport only: every answer comes
 * from the Backend (the embedded Database in `arbor serve`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Backend } from '../../db/backend.ts';
import { ApiKeyAuth } from '../service/index.ts';
import { httpRouteAccess, permissionDenied, roleAllows } from '../service/roles.ts';
import type { RpcMetrics } from '../service/rpc-metrics.ts';
import { HttpError, httpErrorOf } from './errors.ts';
import { LIVE_ROUTES } from './live.ts';
import { HttpMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { parseParams } from './params.ts';
import { type AnyRoute, type AppContext, defineRoute, type ServerStats } from './route.ts';
import { DATA_ROUTES } from './routes-data.ts';
import { SERVER_ROUTES } from './routes-server.ts';
import { STREAM_ROUTES } from './routes-streams.ts';
import { DEFAULT_WEB_ROOT, serveStatic } from './static-files.ts';
import { sendJson } from './tables.ts';

export interface HttpAppOptions {
  /** Accepted plain API keys (`Authorization: Bearer KEY`, role admin); none = an open server. */
  readonly apiKeys?: readonly string[];
  /** The authenticator to use (keys file with roles, shared with gRPC); replaces `apiKeys`. */
  readonly auth?: ApiKeyAuth;
  /** Folder of the web plotter; null = no UI. Default: the repository's web/. */
  readonly webRoot?: string | null;
  /** Largest request body in bytes (default 64 MiB). */
  readonly maxBodyBytes?: number;
  /** Most windows per windows / aligned-windows / count request, checked before the read (default 1 000 000). */
  readonly maxWindows?: number;
  /** Live (SSE): events a subscriber may fall behind before 426 (default 1024). */
  readonly liveMaxPending?: number;
  /** Live (SSE): heartbeat comment interval in ms (default 15 000). */
  readonly liveHeartbeatMs?: number;
  /** Database figures for /metrics (engine counters, catalog size, disk bytes). */
  readonly stats?: () => Promise<ServerStats>;
  /** Where faults of the server (not DbErrors) are reported. */
  readonly log?: (line: string) => void;
  /** The gRPC server's request metrics, rendered on /metrics too (`arbor serve` shares them). */
  readonly grpcMetrics?: RpcMetrics;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Windows one window query may answer (they are built in memory whole), unless `maxWindows` says otherwise. */
export const DEFAULT_MAX_WINDOWS = 1_000_000;

export interface HttpApp {
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  readonly routes: readonly AnyRoute[];
  readonly metrics: HttpMetrics;
  /** Mark the server as closing: /readyz answers 503, live streams end. */
  readonly shutdown: () => void;
}

interface Compiled {
  readonly route: AnyRoute;
  readonly segments: readonly string[];
}

function match(segments: readonly string[], parts: readonly string[]): Record<string, string> | null {
  if (segments.length !== parts.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const s = segments[i]!;
    const p = parts[i]!;
    if (s.startsWith('{')) {
      if (p === '') return null;
      try {
        out[s.slice(1, -1)] = decodeURIComponent(p);
      } catch {
        return null;
      }
    } else if (s !== p) return null;
  }
  return out;
}

export function createHttpApp(backend: Backend, opts: HttpAppOptions = {}): HttpApp {
  const auth = opts.auth ?? new ApiKeyAuth(opts.apiKeys ?? []);
  const metrics = new HttpMetrics(opts.grpcMetrics);
  const closing = new AbortController();
  const webRoot = opts.webRoot === undefined ? DEFAULT_WEB_ROOT : opts.webRoot;
  const app: AppContext = {
    backend,
    metrics,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxWindows: opts.maxWindows ?? DEFAULT_MAX_WINDOWS,
    live: { maxPending: opts.liveMaxPending ?? 1024, heartbeatMs: opts.liveHeartbeatMs ?? 15_000 },
    closing: closing.signal,
    ...(opts.stats ? { stats: opts.stats } : {}),
  };
  const routes: AnyRoute[] = [...SERVER_ROUTES, ...STREAM_ROUTES, ...DATA_ROUTES, ...LIVE_ROUTES];
  let spec: string | null = null;
  routes.push(
    defineRoute({
      method: 'GET',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This OpenAPI document',
      tag: 'server',
      params: {},
      public: true,
      responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { type: 'object' } } } },
      async handle({ res }) {
        spec ??= JSON.stringify(openApiDocument(routes));
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(spec);
      },
    }),
  );
  const compiled: Compiled[] = routes.map((route) => ({ route, segments: route.path.split('/') }));

  async function serve(req: IncomingMessage, res: ServerResponse, signal: AbortSignal, url: URL): Promise<void> {
    const parts = url.pathname.split('/');
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const allowed: string[] = [];
    for (const c of compiled) {
      const pathValues = match(c.segments, parts);
      if (pathValues === null) continue;
      if (c.route.method !== method) {
        allowed.push(c.route.method);
        continue;
      }
      const r = c.route;
      // Who may call it: the access table (service/roles.ts), not the route itself.
      const need = httpRouteAccess(r.method, r.path);
      if (need !== 'public') {
        const a = auth.check(req.headers.authorization);
        if (!a.ok) {
          throw new HttpError(
            401,
            'Unauthorized',
            req.headers.authorization === undefined
              ? 'an API key is required: Authorization: Bearer KEY'
              : 'invalid api key',
            { 'www-authenticate': 'Bearer realm="arbordb"' },
          );
        }
        const have = a.role ?? 'admin';
        if (!roleAllows(have, need)) {
          throw new HttpError(403, 'Forbidden', permissionDenied(have, need, `${r.method} ${r.path}`));
        }
      }
      const params = parseParams(r.params, pathValues, url.searchParams);
      const body = r.body ? await r.body.read(req, app, signal) : undefined;
      await r.handle({ params, body, req, res, app, signal });
      return;
    }
    if (allowed.length > 0) {
      throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed here; use ${allowed.join(', ')}`, {
        allow: allowed.join(', '),
      });
    }
    if (webRoot !== null && (method === 'GET' || method === 'HEAD') && !url.pathname.startsWith('/api/')) {
      await serveStatic(webRoot, url.pathname, req, res);
      return;
    }
    throw new HttpError(404, 'NotFound', `no endpoint ${method} ${url.pathname} (see /openapi.json)`);
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = process.hrtime.bigint();
    const ac = new AbortController();
    let endpoint = 'unmatched';
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observe(endpoint, req.method ?? 'GET', res.statusCode, seconds);
    });
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendJson(res, 400, { error: { code: 400, name: 'BadRequest', message: 'malformed request target' } });
      return;
    }
    const known = compiled.find((c) => match(c.segments, url.pathname.split('/')) !== null);
    if (known) endpoint = known.route.path;
    else if (webRoot !== null && !url.pathname.startsWith('/api/')) endpoint = 'static';
    serve(req, res, ac.signal, url).catch((e: unknown) => {
      const answer = httpErrorOf(e);
      if (answer.internal)
        opts.log?.(`http: ${req.method} ${url.pathname}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (!req.complete) res.setHeader('connection', 'close'); // the rest of the body is not read
      sendJson(res, answer.status, answer.body, { ...answer.headers });
    });
  };

  return {
    handle,
    routes,
    metrics,
    shutdown: () => closing.abort(),
  };
}

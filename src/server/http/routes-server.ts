/** Server-wide endpoints: info, read-only SQL, health, readiness, Prometheus metrics, admin (backup). */
import { jsonBody } from './body.ts';
import { chunked, jsonRows } from './encoders.ts';
import { API_VERSION } from './openapi.ts';
import { formatParam } from './params.ts';
import { type AnyRoute, defineRoute } from './route.ts';
import { ADMIN_ROUTES } from './routes-admin.ts';
import { array, object, optional, str } from './shapes.ts';
import { negotiate, sendJson, streamTable } from './tables.ts';

const info = defineRoute({
  method: 'GET',
  path: '/api/info',
  operationId: 'info',
  summary: 'Server version',
  tag: 'server',
  params: {},
  responses: {
    '200': {
      description: 'versions',
      content: {
        'application/json': {
          type: 'object',
          properties: {
            majorVersion: { type: 'integer', description: 'BTrDB protocol version' },
            minorVersion: { type: 'integer' },
            build: { type: 'string' },
            proxyEndpoints: { type: 'array', items: { type: 'string' } },
            httpApiVersion: { type: 'string' },
          },
        },
      },
    },
  },
  async handle({ res, app }) {
    const i = await app.backend.info();
    sendJson(res, 200, { ...i, httpApiVersion: API_VERSION });
  },
});

/** SQL values as JSON: bigints as numbers when exact, else as strings. */
const sqlJson = (_key: string, v: unknown): unknown =>
  typeof v === 'bigint' ? (v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v.toString()) : v;

const sqlBody = object({
  query: str({ maxLength: 65536, description: 'one SELECT over the `streams` table' }),
  params: optional(array(str({ maxLength: 4096 }), { maxItems: 4096, description: 'values for $1, $2, …' })),
});

const sql = defineRoute({
  method: 'POST',
  path: '/api/sql',
  operationId: 'sql',
  summary: 'Read-only SQL over the streams table',
  description:
    'SELECT only, over `streams(uuid, collection, name, unit, ingress, distiller, property_version, annotations ' +
    'hstore)`. Rejected queries are 400 BadSQLValue.',
  tag: 'server',
  params: { format: formatParam(['json', 'ndjson']) },
  body: jsonBody(sqlBody, 'the query'),
  responses: {
    '200': {
      description: 'rows, one JSON object each, keyed by column name',
      content: {
        'application/json': { type: 'object', properties: { rows: { type: 'array', items: { type: 'object' } } } },
        'application/x-ndjson': { type: 'object' },
      },
    },
  },
  async handle({ params, body, req, res, app, signal }) {
    const format = negotiate(req, params.format, ['json', 'ndjson']);
    const rows = await app.backend.sql(body.query, body.params ?? []);
    const enc = jsonRows<Record<string, unknown>>('rows', (r) => JSON.parse(JSON.stringify(r, sqlJson)) as unknown);
    await streamTable(res, signal, chunked(rows, 1000), enc, { format, iso: false, meta: () => ({}) });
  },
});

const healthz = defineRoute({
  method: 'GET',
  path: '/healthz',
  operationId: 'healthz',
  summary: 'Liveness: the process answers',
  tag: 'server',
  params: {},
  public: true,
  responses: { '200': { description: 'alive', content: { 'application/json': { type: 'object' } } } },
  async handle({ res }) {
    sendJson(res, 200, { status: 'ok' });
  },
});

const readyz = defineRoute({
  method: 'GET',
  path: '/readyz',
  operationId: 'readyz',
  summary: 'Readiness: the database answers and the server is not shutting down',
  tag: 'server',
  params: {},
  public: true,
  responses: {
    '200': { description: 'ready', content: { 'application/json': { type: 'object' } } },
    '503': {
      description: 'shutting down or the database does not answer',
      content: { 'application/json': { type: 'object' } },
    },
  },
  async handle({ res, app }) {
    if (app.closing.aborted) return sendJson(res, 503, { status: 'shutting down' });
    try {
      await app.backend.info();
      const writes = (await app.stats?.())?.writes;
      // Read-only after a failed write (a full disk) is still ready: reads keep being served.
      if (writes?.state === 'read-only') sendJson(res, 200, { status: 'read-only', writes });
      else sendJson(res, 200, { status: 'ready' });
    } catch (e) {
      sendJson(res, 503, { status: 'unavailable', message: e instanceof Error ? e.message : String(e) });
    }
  },
});

const metrics = defineRoute({
  method: 'GET',
  path: '/metrics',
  operationId: 'metrics',
  summary: 'Prometheus metrics',
  description:
    'Requests by endpoint and status, latency histograms, points ingested and read, live subscribers, engine ' +
    'counters (commits, WAL syncs, cache hits/misses), catalog size, disk bytes. Needs the API key when keys are set.',
  tag: 'server',
  params: {},
  responses: { '200': { description: 'text exposition format 0.0.4', content: { 'text/plain': { type: 'string' } } } },
  async handle({ res, app }) {
    const text = app.metrics.render(await app.stats?.());
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(text);
  },
});

export const SERVER_ROUTES: readonly AnyRoute[] = [info, sql, healthz, readyz, metrics, ...ADMIN_ROUTES];

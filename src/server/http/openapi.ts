/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table: every parameter and
 * body schema here is the one the handlers validate with (params.ts, shapes.ts), so the spec
 * cannot drift from the behaviour. Served at /openapi.json.
 */

import { httpRouteAccess } from '../service/roles.ts';
import { HTTP_STATUS_OF_CODE } from './errors.ts';
import type { AnyRoute } from './route.ts';
import type { JsonSchema } from './shapes.ts';

export const API_VERSION = '1.0.0';

const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'integer', description: 'BTrDB status code (or the HTTP status for errors of HTTP itself)' },
        name: { type: 'string', description: 'e.g. NoSuchStream, InvalidTimeRange, Unauthorized' },
        message: { type: 'string' },
      },
      required: ['code', 'name', 'message'],
    },
  },
  required: ['error'],
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function contentOf(
  content: Readonly<Record<string, JsonSchema>> | undefined,
): Record<string, { schema: JsonSchema }> | undefined {
  if (content === undefined) return undefined;
  return Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema }]));
}

function operation(r: AnyRoute): Record<string, unknown> {
  const parameters = Object.entries(r.params).map(([name, p]) => ({
    name,
    in: p.in,
    required: p.in === 'path' ? true : p.required,
    description: p.description,
    schema: p.schema,
    ...(p.style === 'deepObject' ? { style: 'deepObject', explode: true } : {}),
    ...(p.style === 'form' ? { style: 'form', explode: true } : {}),
  }));
  const responses: Record<string, unknown> = {};
  for (const [status, doc] of Object.entries(r.responses)) {
    const content = contentOf(doc.content);
    responses[status] = {
      description: doc.description,
      ...(doc.headers ? { headers: doc.headers } : {}),
      ...(content ? { content } : {}),
    };
  }
  responses['4XX'] = errorResponse('bad request (400), unknown stream (404), conflict (409), …: see the error table');
  responses['5XX'] = errorResponse('server fault');
  const need = httpRouteAccess(r.method, r.path);
  if (need !== 'public') {
    responses['401'] = errorResponse('missing or invalid API key');
    responses['403'] = errorResponse(`the key's role is too weak: this needs a ${need} key`);
  }
  return {
    operationId: r.operationId,
    'x-arbor-role': need,
    summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    tags: [r.tag],
    parameters,
    ...(r.body
      ? {
          requestBody: {
            required: r.body.required,
            description: r.body.description,
            content: contentOf(r.body.content),
          },
        }
      : {}),
    responses,
    ...(r.public === true ? { security: [] } : {}),
  };
}

export function openApiDocument(routes: readonly AnyRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    paths[r.path] ??= {};
    paths[r.path]![r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ArborDB HTTP API',
      version: API_VERSION,
      description:
        'JSON over HTTP for ArborDB. Times are ns since 1970-01-01 UTC as decimal strings (or ISO-8601); ' +
        'ranges are half-open [start, end); version 0 = latest. Errors are JSON {"error": {code, name, message}}; ' +
        `BTrDB code → HTTP status: ${JSON.stringify(HTTP_STATUS_OF_CODE)}.`,
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API key of the server' } },
      schemas: { Error: ERROR_SCHEMA },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

/**
 * Stream and collection metadata: list/search streams, collections, metadata usage, create, info,
 * metadata update (optimistic property version), obliterate.
 */
import { DbError } from '../../core/errors.ts';
import type { StreamDescriptor, StreamId } from '../../core/types.ts';
import { newStreamId, parseStreamId } from '../../core/uuid.ts';
import type { Backend, MetaFilter } from '../../db/backend.ts';
import { jsonBody } from './body.ts';
import { chunked, jsonRows } from './encoders.ts';
import { boolParam, formatParam, intParam, listParam, mapParam, stringParam, uuidParam } from './params.ts';
import { type AnyRoute, defineRoute } from './route.ts';
import { bool, int, nullable, object, optional, record, str } from './shapes.ts';
import { negotiate, sendJson, streamTable } from './tables.ts';

/** A stream as the HTTP API shows it. */
export interface StreamJson {
  readonly uuid: string;
  readonly collection: string;
  readonly name: string;
  readonly unit: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly propertyVersion: number;
  readonly version?: number;
}

export function streamJson(d: StreamDescriptor, version?: number): StreamJson {
  return {
    uuid: d.id,
    collection: d.collection,
    name: d.tags.name ?? '',
    unit: d.tags.unit ?? '',
    tags: d.tags,
    annotations: d.annotations,
    propertyVersion: d.propertyVersion,
    ...(version === undefined ? {} : { version }),
  };
}

export const STREAM_SCHEMA = {
  type: 'object',
  properties: {
    uuid: { type: 'string', format: 'uuid' },
    collection: { type: 'string' },
    name: { type: 'string', description: 'the `name` tag' },
    unit: { type: 'string', description: 'the `unit` tag' },
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    propertyVersion: { type: 'integer', description: 'metadata version: 1 after create, raised by every change' },
    version: { type: 'integer', description: 'data version (stream info only)' },
  },
  required: ['uuid', 'collection', 'name', 'unit', 'tags', 'annotations', 'propertyVersion'],
} as const;

const streamList = {
  description: 'matching streams',
  content: {
    'application/json': { type: 'object', properties: { streams: { type: 'array', items: STREAM_SCHEMA } } },
    'application/x-ndjson': STREAM_SCHEMA,
  },
};

function filterOf(values: Record<string, string>, present: readonly string[]): MetaFilter {
  const out: Record<string, string | null> = {};
  for (const k of present) out[k] = null;
  return { ...out, ...values };
}

/** Case-insensitive substring match on collection, tag and annotation values. */
function matches(d: StreamDescriptor, q: string): boolean {
  const needle = q.toLowerCase();
  const hay = [d.collection, ...Object.values(d.tags), ...Object.values(d.annotations)];
  return hay.some((h) => h.toLowerCase().includes(needle));
}

const listStreams = defineRoute({
  method: 'GET',
  path: '/api/streams',
  operationId: 'listStreams',
  summary: 'List or look up streams',
  description:
    'Streams whose collection starts with (prefix=true, default) or equals `collection` ("" = all), with every ' +
    'tag[KEY]=VALUE and annotation[KEY]=VALUE equal and every hastag / hasannotation key present (ANDed), ' +
    'optionally filtered by `q`, a case-insensitive substring of the collection or any tag or annotation value.',
  tag: 'streams',
  params: {
    collection: stringParam('collection (prefix)', ''),
    prefix: boolParam('match `collection` as a prefix (default) or exactly', true),
    tag: mapParam('tag[KEY]=VALUE: the tag must equal VALUE'),
    annotation: mapParam('annotation[KEY]=VALUE: the annotation must equal VALUE'),
    hastag: listParam('tag keys that must be present', { type: 'string' }, (t) => t),
    hasannotation: listParam('annotation keys that must be present', { type: 'string' }, (t) => t),
    q: stringParam('search text: a substring of the collection or of any tag or annotation value', ''),
    limit: intParam('most streams answered', { min: 1, max: 1_000_000, fallback: 10_000 }),
    format: formatParam(['json', 'ndjson']),
  },
  responses: { '200': streamList },
  async handle({ params: p, req, res, app, signal }) {
    const format = negotiate(req, p.format, ['json', 'ndjson']);
    let found = await app.backend.lookupStreams({
      collection: p.collection,
      isPrefix: p.prefix,
      tags: filterOf(p.tag, p.hastag),
      annotations: filterOf(p.annotation, p.hasannotation),
    });
    if (p.q !== '') found = found.filter((d) => matches(d, p.q));
    const truncated = found.length > p.limit;
    found.sort(
      (a, b) => a.collection.localeCompare(b.collection) || (a.tags.name ?? '').localeCompare(b.tags.name ?? ''),
    );
    const rows = found.slice(0, p.limit);
    await streamTable(
      res,
      signal,
      chunked(rows, 1000),
      jsonRows<StreamDescriptor>('streams', (d) => streamJson(d)),
      {
        format,
        iso: false,
        meta: () => ({ truncated }),
        headers: () => ({ 'x-arbor-truncated': String(truncated) }),
      },
    );
  },
});

const listCollections = defineRoute({
  method: 'GET',
  path: '/api/collections',
  operationId: 'listCollections',
  summary: 'List collections',
  description: 'Distinct collections that start with `prefix` and hold at least one live stream, sorted.',
  tag: 'streams',
  params: { prefix: stringParam('collection prefix ("" = all)', '') },
  responses: {
    '200': {
      description: 'collections',
      content: {
        'application/json': {
          type: 'object',
          properties: { collections: { type: 'array', items: { type: 'string' } } },
        },
      },
    },
  },
  async handle({ params, res, app }) {
    sendJson(res, 200, { collections: await app.backend.listCollections(params.prefix) });
  },
});

const metadataUsage = defineRoute({
  method: 'GET',
  path: '/api/metadata-usage',
  operationId: 'metadataUsage',
  summary: 'Tag and annotation key usage',
  description: 'Per tag key and annotation key: how many live streams under `prefix` carry it.',
  tag: 'streams',
  params: { prefix: stringParam('collection prefix ("" = all)', '') },
  responses: {
    '200': {
      description: 'counts by key',
      content: {
        'application/json': {
          type: 'object',
          properties: {
            tags: { type: 'object', additionalProperties: { type: 'integer' } },
            annotations: { type: 'object', additionalProperties: { type: 'integer' } },
          },
        },
      },
    },
  },
  async handle({ params, res, app }) {
    sendJson(res, 200, await app.backend.metadataUsage(params.prefix));
  },
});

const createBody = object({
  uuid: optional(str({ maxLength: 64, description: 'the new stream’s uuid (default: a random one)' })),
  collection: str({ maxLength: 255 }),
  tags: optional(record(str({ maxLength: 255 }), { description: 'name, unit, ingress, distiller' })),
  annotations: optional(record(str({ maxLength: 255 }))),
  allowNonFinite: optional(bool('store NaN/±Inf instead of rejecting them (425)')),
});

const createStream = defineRoute({
  method: 'POST',
  path: '/api/streams',
  operationId: 'createStream',
  summary: 'Create a stream',
  tag: 'streams',
  params: {},
  body: jsonBody(createBody, 'the new stream'),
  responses: { '201': { description: 'the stream', content: { 'application/json': STREAM_SCHEMA } } },
  async handle({ body, res, app }) {
    const id = body.uuid === undefined ? newStreamId() : parseStreamId(body.uuid);
    const d = await app.backend.create({
      id,
      collection: body.collection,
      tags: body.tags ?? {},
      annotations: body.annotations ?? {},
      ...(body.allowNonFinite === undefined ? {} : { allowNonFinite: body.allowNonFinite }),
    });
    const info = await app.backend.streamInfo(d.id);
    sendJson(res, 201, streamJson(info.descriptor, info.version), { location: `/api/streams/${d.id}` });
  },
});

const streamInfo = defineRoute({
  method: 'GET',
  path: '/api/streams/{uuid}',
  operationId: 'streamInfo',
  summary: 'Stream metadata and data version',
  tag: 'streams',
  params: { uuid: uuidParam() },
  responses: { '200': { description: 'the stream', content: { 'application/json': STREAM_SCHEMA } } },
  async handle({ params, res, app }) {
    const info = await app.backend.streamInfo(params.uuid);
    sendJson(res, 200, streamJson(info.descriptor, info.version));
  },
});

const updateBody = object({
  expectedPropertyVersion: int({ min: 0, description: 'the property version the change is based on (else 409)' }),
  collection: optional(str({ maxLength: 255, description: 'move the stream to this collection' })),
  tags: optional(record(nullable(str({ maxLength: 255 })), { description: 'upsert (string) or remove (null) tags' })),
  annotations: optional(
    record(nullable(str({ maxLength: 255 })), { description: 'upsert (string) or remove (null) annotations' }),
  ),
});

type UpdateBody = ReturnType<typeof updateBody.check>;

async function update(backend: Backend, id: StreamId, body: UpdateBody): Promise<void> {
  let expected = body.expectedPropertyVersion;
  if (body.collection === undefined && body.tags === undefined && body.annotations === undefined) {
    throw new DbError(438, 'nothing to change: give collection, tags or annotations');
  }
  if (body.collection !== undefined || body.tags !== undefined) {
    await backend.setTags(id, expected, body.tags ?? {}, body.collection ?? '', []);
    // The tag change raised the property version; the annotation change builds on it.
    expected = (await backend.streamInfo(id)).descriptor.propertyVersion;
  }
  if (body.annotations !== undefined) await backend.setAnnotations(id, expected, body.annotations, []);
}

const updateStream = defineRoute({
  method: 'PATCH',
  path: '/api/streams/{uuid}',
  operationId: 'updateStream',
  summary: 'Change collection, tags or annotations',
  description:
    'Optimistic: `expectedPropertyVersion` must equal the stream’s current property version, else 409 ' +
    'AnnotationVersionMismatch. Tags (and collection) change first, then annotations; each step raises the version.',
  tag: 'streams',
  params: { uuid: uuidParam() },
  body: jsonBody(updateBody, 'the change'),
  responses: { '200': { description: 'the stream after the change', content: { 'application/json': STREAM_SCHEMA } } },
  async handle({ params, body, res, app }) {
    await update(app.backend, params.uuid, body);
    const info = await app.backend.streamInfo(params.uuid);
    sendJson(res, 200, streamJson(info.descriptor, info.version));
  },
});

const obliterate = defineRoute({
  method: 'DELETE',
  path: '/api/streams/{uuid}',
  operationId: 'obliterateStream',
  summary: 'Obliterate a stream',
  description: 'Erases data, versions and metadata for good; the uuid can never be created again (409 ReusedUUID).',
  tag: 'streams',
  params: { uuid: uuidParam() },
  responses: {
    '200': {
      description: 'obliterated',
      content: { 'application/json': { type: 'object', properties: { obliterated: { type: 'string' } } } },
    },
  },
  async handle({ params, res, app }) {
    await app.backend.obliterate(params.uuid);
    sendJson(res, 200, { obliterated: params.uuid });
  },
});

export const STREAM_ROUTES: readonly AnyRoute[] = [
  listStreams,
  createStream,
  listCollections,
  metadataUsage,
  streamInfo,
  updateStream,
  obliterate,
];

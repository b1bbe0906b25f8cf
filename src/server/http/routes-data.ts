/**
 * A stream's data: insert, raw values, aligned windows, windows, nearest, count, changes, delete,
 * flush. Reads stream their answers (tables.ts) with backpressure; ranges are half-open
 * [start, end) in ns; version 0 = latest.
 */
import { DbError } from '../../core/errors.ts';
import type { StatPoint } from '../../core/stat.ts';
import { alignDown, MAX_INSERT_TIME, MAX_TIME, MIN_TIME } from '../../core/time.ts';
import { MERGE_POLICIES, type PointBatch } from '../../core/types.ts';
import { chunked, coalesce, POINTS, WINDOWS } from './encoders.ts';
import { insertBody } from './insert-body.ts';
import {
  boolParam,
  enumParam,
  type Format,
  formatParam,
  intParam,
  positiveBigParam,
  timeParam,
  uuidParam,
  versionParam,
} from './params.ts';
import { type AnyRoute, type Call, defineRoute, type ResponseDoc } from './route.ts';
import type { JsonSchema } from './shapes.ts';
import { MEDIA_TYPES, negotiate, sendJson, streamTable, timeText } from './tables.ts';

const timefmt = () => enumParam('how times are written: ns (integer text) or iso (ISO-8601 UTC)', ['ns', 'iso'], 'ns');

const POINT_SCHEMA = {
  type: 'object',
  properties: {
    time: { type: 'string', description: 'ns (or ISO-8601 with timefmt=iso)' },
    value: { anyOf: [{ type: 'number' }, { type: 'string', enum: ['NaN', 'Infinity', '-Infinity'] }] },
    flags: { type: 'integer', description: 'quality flags, present when not 0' },
  },
  required: ['time', 'value'],
} as const;

const WINDOW_SCHEMA = {
  type: 'object',
  properties: {
    time: { type: 'string', description: 'window start (ns, or ISO-8601 with timefmt=iso)' },
    min: { type: 'number' },
    mean: { type: 'number' },
    max: { type: 'number' },
    count: { type: 'integer' },
    stddev: { type: 'number', description: 'population standard deviation' },
  },
  required: ['time', 'min', 'mean', 'max', 'count', 'stddev'],
} as const;

const VERSION_HEADER = {
  'X-Arbor-Version': { description: 'the data version the answer was read at', schema: { type: 'integer' } },
};

function tableDoc(key: string, row: JsonSchema, csv: string): ResponseDoc {
  return {
    description: `${key}, streamed`,
    headers: VERSION_HEADER,
    content: {
      [MEDIA_TYPES.json]: {
        type: 'object',
        properties: { version: { type: 'integer' }, [key]: { type: 'array', items: row } },
      },
      [MEDIA_TYPES.ndjson]: row,
      [MEDIA_TYPES.csv]: { type: 'string', description: csv },
      [MEDIA_TYPES.arrow]: { type: 'string', format: 'binary', description: 'Arrow IPC stream (BTrDB schema)' },
    },
  };
}

const versionDoc = (what: string) => ({
  description: what,
  content: { 'application/json': { type: 'object', properties: { version: { type: 'integer' } } } },
});

const insert = defineRoute({
  method: 'POST',
  path: '/api/streams/{uuid}/points',
  operationId: 'insert',
  summary: 'Insert points',
  description:
    'Points in any order. Resolves once durable; the answered version contains them. `policy` says what happens ' +
    'to a point whose time is already stored: never (keep both), equal (drop exact duplicates), retain (old wins), ' +
    'replace (new wins).',
  tag: 'data',
  params: { uuid: uuidParam(), policy: enumParam('merge policy', MERGE_POLICIES, 'never') },
  body: insertBody,
  responses: {
    '200': {
      description: 'inserted',
      content: {
        'application/json': {
          type: 'object',
          properties: { version: { type: 'integer' }, inserted: { type: 'integer' } },
        },
      },
    },
  },
  async handle({ params, body, res, app }) {
    const n = body.times.length;
    const version =
      n === 0
        ? (await app.backend.streamInfo(params.uuid)).version
        : await app.backend.insert(params.uuid, body, params.policy);
    app.metrics.pointsIngested += n;
    sendJson(res, 200, { version, inserted: n });
  },
});

const rawValues = defineRoute({
  method: 'GET',
  path: '/api/streams/{uuid}/points',
  operationId: 'rawValues',
  summary: 'Raw points in [start, end)',
  description: 'Ascending by time, streamed in the requested format.',
  tag: 'data',
  params: {
    uuid: uuidParam(),
    start: timeParam('inclusive start', MIN_TIME),
    end: timeParam('exclusive end', MAX_TIME),
    version: versionParam(),
    format: formatParam(),
    timefmt: timefmt(),
  },
  responses: { '200': tableDoc('points', POINT_SCHEMA, 'time,value,flags') },
  async handle({ params: p, req, res, app, signal }) {
    const format = negotiate(req, p.format, ['json', 'ndjson', 'csv', 'arrow']);
    let version = 0;
    async function* chunks(): AsyncGenerator<PointBatch> {
      for await (const v of app.backend.rawValues(p.uuid, p.start, p.end, p.version)) {
        version = v.version;
        yield v.value;
      }
    }
    await streamTable(res, signal, coalesce(chunks()), POINTS, {
      format,
      iso: p.timefmt === 'iso',
      meta: () => ({ version }),
      headers: () => ({ 'x-arbor-version': String(version) }),
      onRows: (n) => {
        app.metrics.pointsRead += n;
      },
      filename: `${p.uuid}-points`,
    });
  },
});

interface WindowParams {
  readonly uuid: string;
  readonly format: Format | undefined;
  readonly timefmt: 'ns' | 'iso';
}

async function sendWindows(
  { params: p, req, res, app, signal }: Call<WindowParams, undefined>,
  answer: Promise<{ value: StatPoint[]; version: number }>,
): Promise<void> {
  const format = negotiate(req, p.format, ['json', 'ndjson', 'csv', 'arrow']);
  let version = 0;
  async function* chunks(): AsyncGenerator<readonly StatPoint[]> {
    const r = await answer;
    version = r.version;
    yield* chunked(r.value, 5000);
  }
  await streamTable(res, signal, chunks(), WINDOWS, {
    format,
    iso: p.timefmt === 'iso',
    meta: () => ({ version }),
    headers: () => ({ 'x-arbor-version': String(version) }),
    onRows: (n) => {
      app.metrics.windowsRead += n;
    },
    filename: `${p.uuid}-windows`,
  });
}

/**
 * How many aligned windows of width 2^pw [start, end) can produce: the engine floors both ends to
 * multiples of 2^pw (tree-query.ts `alignedWindows`) and answers one window per non-empty slot in
 * between. The engine returns the windows as one array, so this bounds the memory of an answer
 * before the query runs (empty windows are omitted, so the real answer may be shorter).
 */
export function alignedWindowCount(start: bigint, end: bigint, pw: number): bigint {
  const s = alignDown(start, pw);
  const e = alignDown(end, pw);
  return e > s ? (e - s) >> BigInt(pw) : 0n;
}

/**
 * The refusal of a window query that could answer more than `max` windows (438 → HTTP 400): the
 * answer is built in memory whole, so the cap is checked before the backend is asked.
 */
function refuseTooManyWindows(n: bigint, max: number, narrow: string): void {
  if (n > BigInt(max)) throw new DbError(438, `${n} windows requested, at most ${max} per request: ${narrow}`);
}

const alignedWindows = defineRoute({
  method: 'GET',
  path: '/api/streams/{uuid}/aligned-windows',
  operationId: 'alignedWindows',
  summary: 'Statistics of aligned windows [w, w + 2^pw)',
  description:
    'start and end are floored to multiples of 2^pw; one row per window that holds points (empty windows are ' +
    'omitted). Costs O(windows), not O(points): the plotter asks for ≈ one window per pixel. A request whose ' +
    'range spans more windows than the server allows (default 1 000 000, empty ones included) is refused with ' +
    '400 InvalidParameter (438): raise pw or narrow the range.',
  tag: 'data',
  params: {
    uuid: uuidParam(),
    start: timeParam('inclusive start (floored to 2^pw)'),
    end: timeParam('exclusive end (floored to 2^pw)'),
    pw: intParam('point width: log2 of the window width in ns', { min: 0, max: 63, code: 415 }),
    version: versionParam(),
    format: formatParam(),
    timefmt: timefmt(),
  },
  responses: { '200': tableDoc('windows', WINDOW_SCHEMA, 'time,min,mean,max,count,stddev') },
  async handle(call) {
    const p = call.params;
    refuseTooManyWindows(
      alignedWindowCount(p.start, p.end, p.pw),
      call.app.maxWindows,
      `raise pw (each step halves the count; pw=${p.pw} now) or narrow [start, end)`,
    );
    await sendWindows(call, call.app.backend.alignedWindows(p.uuid, p.start, p.end, p.pw, p.version));
  },
});

const windows = defineRoute({
  method: 'GET',
  path: '/api/streams/{uuid}/windows',
  operationId: 'windows',
  summary: 'Statistics of windows [start + k·width, start + (k+1)·width)',
  description:
    'Windows up to the last one that ends at or before `end` (a window crossing `end` is dropped); empty ' +
    'windows are included with count 0.',
  tag: 'data',
  params: {
    uuid: uuidParam(),
    start: timeParam('inclusive start'),
    end: timeParam('exclusive end'),
    width: positiveBigParam('window width in ns', 415),
    depth: intParam('accepted imprecision 2^depth (answers are exact)', { min: 0, max: 63, fallback: 0, code: 415 }),
    version: versionParam(),
    format: formatParam(),
    timefmt: timefmt(),
  },
  responses: { '200': tableDoc('windows', WINDOW_SCHEMA, 'time,min,mean,max,count,stddev') },
  async handle(call) {
    const { params: p, app } = call;
    if (p.end > p.start) {
      refuseTooManyWindows((p.end - p.start) / p.width, app.maxWindows, 'widen the windows or narrow [start, end)');
    }
    await sendWindows(call, app.backend.windows(p.uuid, p.start, p.end, p.width, p.depth, p.version));
  },
});

const nearest = defineRoute({
  method: 'GET',
  path: '/api/streams/{uuid}/nearest',
  operationId: 'nearest',
  summary: 'The nearest point',
  description:
    'Forward: the first point at or after `time`; backward: the last point strictly before it. 404 NoSuchPoint when there is none.',
  tag: 'data',
  params: {
    uuid: uuidParam(),
    time: timeParam('where to look from'),
    backward: boolParam('look backward (strictly before `time`)'),
    version: versionParam(),
    timefmt: timefmt(),
  },
  responses: {
    '200': {
      description: 'the point',
      content: {
        'application/json': {
          type: 'object',
          properties: { time: { type: 'string' }, value: { type: 'number' }, version: { type: 'integer' } },
        },
      },
    },
  },
  async handle({ params: p, res, app }) {
    const r = await app.backend.nearest(p.uuid, p.time, p.backward, p.version);
    if (r === null) {
      throw new DbError(401, `no point ${p.backward ? 'before' : 'at or after'} ${p.time} in stream ${p.uuid}`);
    }
    const time = timeText(r.value.time, p.timefmt === 'iso');
    const value = Number.isFinite(r.value.value) ? r.value.value : String(r.value.value);
    sendJson(res, 200, { time, value, version: r.version });
  },
});

/** floor(log2(n)) for n ≥ 1. */
const floorLog2 = (n: bigint): number => n.toString(2).length - 1;

const count = defineRoute({
  method: 'GET',
  path: '/api/streams/{uuid}/count',
  operationId: 'count',
  summary: 'Number of points in [start, end)',
  description:
    'As the client libraries: sums aligned windows at pw = min(pw, ⌊log2(end − start)⌋ − 1), which floors the ' +
    'edges to that width (cheap, approximate at the edges); precise=true counts exactly with one window. A small ' +
    'pw over a long range that spans more windows than the server allows is refused as in aligned-windows.',
  tag: 'data',
  params: {
    uuid: uuidParam(),
    start: timeParam('inclusive start', MIN_TIME),
    end: timeParam('exclusive end', MAX_INSERT_TIME),
    version: versionParam(),
    precise: boolParam('count exactly'),
    pw: intParam('largest point width to count at', { min: 0, max: 62, fallback: 62, code: 415 }),
  },
  responses: {
    '200': {
      description: 'the count',
      content: {
        'application/json': {
          type: 'object',
          properties: { count: { type: 'integer' }, version: { type: 'integer' } },
        },
      },
    },
  },
  async handle({ params: p, res, app }) {
    let r: { value: StatPoint[]; version: number };
    if (p.precise) {
      if (p.end <= p.start) throw new DbError(413, `start ${p.start} must be before end ${p.end}`);
      r = await app.backend.windows(p.uuid, p.start, p.end, p.end - p.start, 0, p.version);
    } else {
      const span = floorLog2(p.end > p.start ? p.end - p.start : 1n);
      const pw = Math.max(0, Math.min(p.pw, span - 1));
      // The windows are summed here, but the backend still builds them all in memory first.
      refuseTooManyWindows(
        alignedWindowCount(p.start, p.end, pw),
        app.maxWindows,
        `raise pw (pw=${pw} now) or count with precise=true`,
      );
      r = await app.backend.alignedWindows(p.uuid, p.start, p.end, pw, p.version);
    }
    let n = 0;
    for (const w of r.value) n += w.count;
    sendJson(res, 200, { count: n, version: r.version });
  },
});

const changes = defineRoute({
  method: 'GET',
  path: '/api/streams/{uuid}/changes',
  operationId: 'changes',
  summary: 'Time ranges changed between two versions',
  description:
    'Ranges whose data differs between `from` (exclusive) and `to` (0 = latest), at 2^resolution granularity.',
  tag: 'data',
  params: {
    uuid: uuidParam(),
    from: intParam('from version (exclusive)', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 }),
    to: versionParam(),
    resolution: intParam('granularity: log2 ns', { min: 0, max: 63, fallback: 0, code: 415 }),
  },
  responses: {
    '200': {
      description: 'changed ranges',
      content: {
        'application/json': {
          type: 'object',
          properties: {
            version: { type: 'integer' },
            ranges: {
              type: 'array',
              items: { type: 'object', properties: { start: { type: 'string' }, end: { type: 'string' } } },
            },
          },
        },
      },
    },
  },
  async handle({ params: p, res, app }) {
    const r = await app.backend.changes(p.uuid, p.from, p.to, p.resolution);
    sendJson(res, 200, {
      version: r.version,
      ranges: r.value.map((x) => ({ start: x.start.toString(), end: x.end.toString() })),
    });
  },
});

const deleteRange = defineRoute({
  method: 'DELETE',
  path: '/api/streams/{uuid}/points',
  operationId: 'deleteRange',
  summary: 'Delete the points in [start, end)',
  description: 'Answers the new version; older versions keep the points.',
  tag: 'data',
  params: { uuid: uuidParam(), start: timeParam('inclusive start'), end: timeParam('exclusive end') },
  responses: { '200': versionDoc('the new version') },
  async handle({ params: p, res, app }) {
    sendJson(res, 200, { version: await app.backend.delete(p.uuid, p.start, p.end) });
  },
});

const flush = defineRoute({
  method: 'POST',
  path: '/api/streams/{uuid}/flush',
  operationId: 'flush',
  summary: 'Commit buffered points to the tree',
  tag: 'data',
  params: { uuid: uuidParam() },
  responses: { '200': versionDoc('the version after the flush') },
  async handle({ params, res, app }) {
    sendJson(res, 200, { version: await app.backend.flush(params.uuid) });
  },
});

export const DATA_ROUTES: readonly AnyRoute[] = [
  insert,
  rawValues,
  deleteRange,
  alignedWindows,
  windows,
  nearest,
  count,
  changes,
  flush,
];

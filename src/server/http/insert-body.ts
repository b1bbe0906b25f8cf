/**
 * The body of an insert, in one of three media types, as point columns:
 *
 * - `application/json`: `{"times": ["1704067200000000000", "2024-01-01T00:00:01Z", …], "values": [1.5, …],
 *   "flags": [0, …]}` — times as strings of ns (exact) or ISO-8601, or as numbers when they are safe
 *   integers; values numbers or "NaN" / "Infinity" / "-Infinity"; flags optional uint32s.
 * - `text/csv`: rows `time,value[,flags]`, an optional header naming the columns (`time`, `value`,
 *   `flags`, any order); times ns or ISO-8601.
 * - `application/vnd.apache.arrow.stream`: an Arrow IPC stream with `time` (timestamp or int64 ns)
 *   and `value` (float64/float32) columns, as BTrDB's ArrowInsert.
 *
 * Whether NaN/±Inf may be stored is the stream's business (425 from the engine); here only the
 * syntax is checked: 438 (with the row or index) for malformed input, 413 for a bad time.
 */
import type { IncomingMessage } from 'node:http';
import { DbError } from '../../core/errors.ts';
import type { PointBatch } from '../../core/types.ts';
import { CsvSplitter } from '../../ingest/csv/csv-splitter.ts';
import { PointBuilder } from '../../ingest/csv/point-builder.ts';
import { parseTimeCell } from '../../ingest/csv/time-cell.ts';
import { parseValueCell } from '../../ingest/csv/value-cell.ts';
import { decodeArrowPoints } from '../../wire/index.ts';
import { bodyChunks, mediaType, parseJsonText, readBody } from './body.ts';
import { HttpError } from './errors.ts';
import { parseTimeText, TIME_SCHEMA } from './params.ts';
import type { AppContext, BodySpec } from './route.ts';

export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

const NON_FINITE: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/** Points of a JSON insert body (already parsed). */
export function pointsFromJson(body: unknown): PointBatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DbError(438, 'body must be an object {"times": [...], "values": [...]}');
  }
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'times' && k !== 'values' && k !== 'flags')
      throw new DbError(438, `body.${k} is not a known key (times, values, flags)`);
  }
  const { times: ts, values: vs, flags: fs } = o;
  if (!Array.isArray(ts)) throw new DbError(438, 'body.times must be an array');
  if (!Array.isArray(vs)) throw new DbError(438, 'body.values must be an array');
  if (ts.length !== vs.length) throw new DbError(438, `body.times has ${ts.length} items but body.values ${vs.length}`);
  if (fs !== undefined && (!Array.isArray(fs) || fs.length !== ts.length)) {
    throw new DbError(438, 'body.flags must be an array as long as body.times');
  }
  const n = ts.length;
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = ts[i];
    if (typeof t === 'string') times[i] = parseTimeText(t, `body.times[${i}]`);
    else if (typeof t === 'number' && Number.isSafeInteger(t)) times[i] = BigInt(t);
    else
      throw new DbError(
        413,
        `body.times[${i}] must be a string of ns or ISO-8601 (or a safe integer), got ${JSON.stringify(t)}`,
      );
    const v = vs[i];
    if (typeof v === 'number') values[i] = v;
    else if (typeof v === 'string' && v in NON_FINITE) values[i] = NON_FINITE[v]!;
    else
      throw new DbError(
        438,
        `body.values[${i}] must be a number (or "NaN", "Infinity", "-Infinity"), got ${JSON.stringify(v)}`,
      );
  }
  if (fs === undefined) return { times, values };
  const flags = new Uint32Array(n);
  (fs as unknown[]).forEach((f, i) => {
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 0 || f > 0xffffffff) {
      throw new DbError(438, `body.flags[${i}] must be an integer in [0, 2^32), got ${JSON.stringify(f)}`);
    }
    flags[i] = f;
  });
  return { times, values, flags };
}

/** Parse a CSV insert body incrementally (text chunks in, columns out). */
export class CsvPoints {
  readonly #out = new PointBuilder();
  readonly #flags: number[] = [];
  readonly #splitter: CsvSplitter;
  #ti = 0;
  #vi = 1;
  #fi = -1;
  #width = -1;
  #anyFlags = false;

  constructor() {
    this.#splitter = new CsvSplitter(',', (fields, line) => this.#record(fields, line));
  }

  #record(fields: string[], line: number): void {
    const cells = fields.map((f) => f.trim());
    if (cells.length === 1 && cells[0] === '') return; // blank line
    if (this.#width < 0) {
      this.#width = cells.length;
      const lower = cells.map((c, i) => (i === 0 ? c.replace(/^\uFEFF/, '') : c).toLowerCase());
      if (lower.includes('time') || lower.includes('value')) {
        this.#ti = lower.indexOf('time');
        this.#vi = lower.indexOf('value');
        this.#fi = lower.indexOf('flags');
        if (this.#ti < 0 || this.#vi < 0) throw new DbError(438, 'CSV header must name the columns "time" and "value"');
        return;
      }
      if (cells.length < 2 || cells.length > 3) {
        throw new DbError(438, `CSV line ${line}: expected time,value[,flags] (${cells.length} fields)`);
      }
      if (cells.length === 3) this.#fi = 2;
    }
    if (cells.length !== this.#width) {
      throw new DbError(438, `CSV line ${line}: ${cells.length} fields, expected ${this.#width}`);
    }
    const t = parseTimeCell(cells[this.#ti]!, 'auto');
    if (!t.ok) throw new DbError(413, `CSV line ${line}: ${t.reason}`);
    const v = parseValueCell(cells[this.#vi]!, true);
    if (!v.ok) throw new DbError(438, `CSV line ${line}: ${v.reason}`);
    this.#out.push(t.ns, v.value);
    if (this.#fi >= 0) {
      const text = cells[this.#fi]!;
      const f = text === '' ? 0 : Number(text);
      if (!Number.isInteger(f) || f < 0 || f > 0xffffffff || !/^\d*$/.test(text)) {
        throw new DbError(438, `CSV line ${line}: flags ${JSON.stringify(text)} is not an integer in [0, 2^32)`);
      }
      if (f !== 0) this.#anyFlags = true;
      this.#flags.push(f);
    }
  }

  push(text: string): void {
    this.#splitter.push(text);
  }

  end(): PointBatch {
    this.#splitter.end();
    const times = this.#out.times();
    const values = this.#out.values();
    return this.#anyFlags ? { times, values, flags: Uint32Array.from(this.#flags) } : { times, values };
  }
}

async function csvBody(req: IncomingMessage, limit: number): Promise<PointBatch> {
  const parser = new CsvPoints();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const b of bodyChunks(req, limit)) parser.push(decoder.decode(b, { stream: true }));
    parser.push(decoder.decode());
  } catch (e) {
    if (e instanceof TypeError) throw new DbError(438, 'CSV body is not valid UTF-8');
    throw e;
  }
  return parser.end();
}

/**
 * The published schema of a JSON body. It says everything {@link pointsFromJson} checks that JSON
 * Schema can say; the two rules it cannot (equal array lengths, and a time string that is an
 * int64 of ns or an ISO-8601 time) are in the descriptions. http-api.test.ts evaluates this schema
 * as published in /openapi.json against pointsFromJson over valid and invalid bodies.
 */
const JSON_POINTS_SCHEMA = {
  type: 'object',
  description: 'times, values and (when given) flags must have the same length; point i is (times[i], values[i])',
  properties: {
    times: {
      type: 'array',
      items: {
        anyOf: [TIME_SCHEMA, { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }],
      },
    },
    values: {
      type: 'array',
      items: { anyOf: [{ type: 'number' }, { type: 'string', enum: ['NaN', 'Infinity', '-Infinity'] }] },
    },
    flags: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 4294967295 } },
  },
  required: ['times', 'values'],
  additionalProperties: false,
} as const;

export const insertBody: BodySpec<PointBatch> = {
  required: true,
  description: 'points in any order: JSON columns, CSV rows or an Arrow IPC stream',
  content: {
    'application/json': JSON_POINTS_SCHEMA,
    'text/csv': { type: 'string', description: 'time,value[,flags] rows; optional header' },
    [ARROW_STREAM]: { type: 'string', format: 'binary', description: 'Arrow IPC stream with time and value columns' },
  },
  async read(req: IncomingMessage, app: AppContext): Promise<PointBatch> {
    const mt = mediaType(req);
    if (mt === 'application/json' || mt === '') {
      return pointsFromJson(parseJsonText((await readBody(req, app.maxBodyBytes)).toString('utf8')));
    }
    if (mt === 'text/csv') return csvBody(req, app.maxBodyBytes);
    if (mt === ARROW_STREAM || mt === 'application/vnd.apache.arrow.file') {
      return decodeArrowPoints(await readBody(req, app.maxBodyBytes), 'body');
    }
    throw new HttpError(
      415,
      'UnsupportedMediaType',
      `cannot insert ${mt}; send application/json, text/csv or ${ARROW_STREAM}`,
    );
  },
};

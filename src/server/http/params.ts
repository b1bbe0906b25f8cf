/**
 * Path and query parameters, each declared once as a small `Param` object that both parses the
 * request's text and emits its OpenAPI description, so the published spec cannot drift from what
 * the handlers accept. A route's params are a record of Params; `ParamValues` gives the handler
 * the parsed, typed values.
 *
 * Every parse error is a DbError: 413 for times, 415 for point widths, 450 for versions, 438 for
 * anything else, naming the parameter and the value.
 */
import { DbError, type ErrorCode } from '../../core/errors.ts';
import { parseIso } from '../../core/time.ts';
import type { StreamId } from '../../core/types.ts';
import { parseStreamId } from '../../core/uuid.ts';
import type { JsonSchema } from './shapes.ts';

export type ParamLocation = 'path' | 'query';

/** Raw text of one parameter: a path segment, or every value of a query key (repeatable keys). */
export interface RawParam {
  readonly values: readonly string[];
  /** deepObject entries `name[key]=value` (only for map params). */
  readonly entries: readonly (readonly [string, string])[];
}

export interface Param<T> {
  readonly in: ParamLocation;
  readonly required: boolean;
  readonly description: string;
  readonly schema: JsonSchema;
  /** OpenAPI style for maps ("deepObject") and lists ("form", explode). */
  readonly style?: 'deepObject' | 'form';
  parse(raw: RawParam, name: string): T;
}

export type ParamsSpec = Readonly<Record<string, Param<unknown>>>;
export type ParamValues<S extends ParamsSpec> = { readonly [K in keyof S]: S[K] extends Param<infer T> ? T : never };

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const MAX_TEXT = 4096;

function single(raw: RawParam, name: string): string | undefined {
  if (raw.values.length > 1)
    throw new DbError(438, `parameter ${name} is given ${raw.values.length} times; give it once`);
  const v = raw.values[0];
  if (v !== undefined && v.length > MAX_TEXT)
    throw new DbError(438, `parameter ${name} is longer than ${MAX_TEXT} characters`);
  return v;
}

interface Common {
  readonly description: string;
  readonly in?: ParamLocation;
}

function scalar<T>(
  opts: Common & { readonly required?: boolean },
  schema: JsonSchema,
  convert: (text: string, name: string) => T,
  fallback: T | undefined,
): Param<T> {
  const required = opts.required ?? fallback === undefined;
  return {
    in: opts.in ?? 'query',
    required,
    description: opts.description,
    schema,
    parse(raw, name) {
      const text = single(raw, name);
      if (text === undefined || text === '') {
        if (fallback !== undefined) return fallback;
        throw new DbError(438, `parameter ${name} is required`);
      }
      return convert(text, name);
    },
  };
}

/** A stream uuid (any case, with or without hyphens); 438 when malformed. Path parameter by default. */
export function uuidParam(
  description = 'the stream (RFC 4122 uuid)',
  location: ParamLocation = 'path',
): Param<StreamId> {
  return scalar(
    { description, in: location, required: true },
    { type: 'string', format: 'uuid' },
    (t) => parseStreamId(t),
    undefined,
  );
}

/**
 * Parse a time: a decimal integer of ns since 1970-01-01 UTC (as text, so no precision is lost)
 * or ISO-8601 (no zone = UTC, up to nine fraction digits). 413 for anything else or beyond int64.
 */
export function parseTimeText(text: string, name: string): bigint {
  const t = text.trim();
  if (/^[+-]?\d+$/.test(t)) {
    const v = BigInt(t);
    if (v < I64_MIN || v > I64_MAX) throw new DbError(413, `${name} ${t} is outside int64 nanoseconds`);
    return v;
  }
  try {
    return parseIso(t);
  } catch {
    throw new DbError(413, `${name} ${JSON.stringify(text)} is neither an integer of ns nor an ISO-8601 time`);
  }
}

export const TIME_SCHEMA: JsonSchema = {
  type: 'string',
  description: 'ns since 1970-01-01T00:00:00Z as a decimal integer string, or ISO-8601 (UTC unless a zone is given)',
  examples: ['1704067200000000000', '2024-01-01T00:00:00.000000001Z'],
};

export function timeParam(description: string, fallback?: bigint): Param<bigint> {
  const schema: JsonSchema = fallback === undefined ? TIME_SCHEMA : { ...TIME_SCHEMA, default: fallback.toString() };
  return scalar({ description }, schema, parseTimeText, fallback);
}

/** An integer in [min, max]; out of range or not an integer → `code` (438 unless given). */
export function intParam(
  description: string,
  bounds: { readonly min: number; readonly max: number; readonly fallback?: number; readonly code?: ErrorCode },
): Param<number> {
  const code = bounds.code ?? 438;
  const schema: JsonSchema = {
    type: 'integer',
    minimum: bounds.min,
    maximum: bounds.max,
    ...(bounds.fallback === undefined ? {} : { default: bounds.fallback }),
  };
  return scalar(
    { description },
    schema,
    (t, name) => {
      if (!/^[+-]?\d+$/.test(t.trim())) throw new DbError(code, `${name} ${JSON.stringify(t)} is not an integer`);
      const v = Number(t);
      if (!Number.isSafeInteger(v) || v < bounds.min || v > bounds.max) {
        throw new DbError(code, `${name} ${t} is outside [${bounds.min}, ${bounds.max}]`);
      }
      return v;
    },
    bounds.fallback,
  );
}

/** A positive uint64 (e.g. a window width in ns); 0, negative or > 2^63 → `code`. */
export function positiveBigParam(description: string, code: ErrorCode): Param<bigint> {
  return scalar(
    { description },
    { type: 'string', pattern: '^[0-9]+$', description: 'a positive integer (as text)' },
    (t, name) => {
      if (!/^\d+$/.test(t.trim())) throw new DbError(code, `${name} ${JSON.stringify(t)} is not a positive integer`);
      const v = BigInt(t.trim());
      if (v === 0n || v > 1n << 63n) throw new DbError(code, `${name} ${t} must be in [1, 2^63]`);
      return v;
    },
    undefined,
  );
}

/** A data version: 0 (default) = latest; above 2^53 cannot exist (450). */
export function versionParam(): Param<number> {
  return scalar(
    { description: 'data version to read; 0 = latest (acknowledged, unflushed points included)' },
    { type: 'integer', minimum: 0, default: 0 },
    (t, name) => {
      if (!/^\d+$/.test(t.trim())) throw new DbError(438, `${name} ${JSON.stringify(t)} is not a version number`);
      const v = BigInt(t.trim());
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DbError(450, `version ${v} is not available`);
      return Number(v);
    },
    0,
  );
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function boolParam(description: string, fallback = false): Param<boolean> {
  return scalar(
    { description },
    { type: 'boolean', default: fallback },
    (t, name) => {
      const v = t.trim().toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw new DbError(438, `${name} ${JSON.stringify(t)} is not a boolean (true/false)`);
    },
    fallback,
  );
}

export function enumParam<const V extends string>(description: string, values: readonly V[], fallback?: V): Param<V> {
  const schema: JsonSchema = {
    type: 'string',
    enum: [...values],
    ...(fallback === undefined ? {} : { default: fallback }),
  };
  return scalar(
    { description },
    schema,
    (t, name) => {
      const v = t.trim().toLowerCase();
      const hit = values.find((x) => x === v);
      if (hit === undefined) throw new DbError(438, `${name} ${JSON.stringify(t)} is not one of ${values.join(', ')}`);
      return hit;
    },
    fallback,
  );
}

export function stringParam(
  description: string,
  fallback?: string,
  maxLength = 1024,
  location: ParamLocation = 'query',
): Param<string> {
  const schema: JsonSchema = { type: 'string', maxLength, ...(fallback === undefined ? {} : { default: fallback }) };
  return scalar(
    location === 'path' ? { description, in: location, required: true } : { description },
    schema,
    (t, name) => {
      if (t.length > maxLength) throw new DbError(438, `${name} is longer than ${maxLength} characters`);
      return t;
    },
    fallback,
  );
}

/** A repeatable query key (`uuid=a&uuid=b`); each value parsed by `item`. */
export function listParam<T>(
  description: string,
  itemSchema: JsonSchema,
  item: (text: string, name: string) => T,
  bounds: { readonly min?: number; readonly max?: number } = {},
): Param<T[]> {
  const min = bounds.min ?? 0;
  const max = bounds.max ?? 1000;
  return {
    in: 'query',
    required: min > 0,
    description,
    schema: { type: 'array', items: itemSchema, minItems: min, maxItems: max },
    style: 'form',
    parse(raw, name) {
      const values = raw.values.flatMap((v) => v.split(',')).filter((v) => v.trim() !== '');
      if (values.length < min) throw new DbError(438, `parameter ${name} is required (at least ${min})`);
      if (values.length > max) throw new DbError(438, `parameter ${name}: at most ${max} values, got ${values.length}`);
      return values.map((v) => item(v.trim(), name));
    },
  };
}

/** `name[key]=value` entries as a record (OpenAPI deepObject), e.g. `tag[unit]=Hz`. */
export function mapParam(description: string, maxEntries = 64): Param<Record<string, string>> {
  return {
    in: 'query',
    required: false,
    description,
    schema: { type: 'object', additionalProperties: { type: 'string' } },
    style: 'deepObject',
    parse(raw, name) {
      if (raw.values.length > 0) throw new DbError(438, `parameter ${name} needs a key: ${name}[KEY]=VALUE`);
      if (raw.entries.length > maxEntries) throw new DbError(438, `parameter ${name}: at most ${maxEntries} entries`);
      const out: Record<string, string> = {};
      for (const [k, v] of raw.entries) {
        if (k in out) throw new DbError(438, `parameter ${name}[${k}] is given twice`);
        out[k] = v;
      }
      return out;
    },
  };
}

/** The `format` parameter of answers that can be streamed in several formats. */
export const FORMATS = ['json', 'ndjson', 'csv', 'arrow'] as const;
export type Format = (typeof FORMATS)[number];

export function formatParam(allowed: readonly Format[] = FORMATS): Param<Format | undefined> {
  return {
    in: 'query',
    required: false,
    description: `answer format; overrides the Accept header (${allowed.join(', ')})`,
    schema: { type: 'string', enum: [...allowed] },
    parse(raw, name) {
      const t = single(raw, name);
      if (t === undefined || t === '') return undefined;
      const hit = allowed.find((f) => f === t.toLowerCase());
      if (hit === undefined) throw new DbError(438, `${name} ${JSON.stringify(t)} is not one of ${allowed.join(', ')}`);
      return hit;
    },
  };
}

/** Parse the text parameters of a request against a spec: unknown query keys are 438 (they are usually typos). */
export function parseParams<S extends ParamsSpec>(
  spec: S,
  pathValues: Readonly<Record<string, string>>,
  query: URLSearchParams,
): ParamValues<S> {
  const out: Record<string, unknown> = {};
  const known = new Set(Object.keys(spec));
  for (const key of new Set(query.keys())) {
    const base = key.includes('[') ? key.slice(0, key.indexOf('[')) : key;
    const p = spec[base];
    if (!known.has(base) || p === undefined || p.in !== 'query') {
      const names = Object.entries(spec)
        .filter(([, q]) => q.in === 'query')
        .map(([n]) => n);
      throw new DbError(438, `unknown query parameter ${JSON.stringify(key)}; known: ${names.join(', ') || 'none'}`);
    }
  }
  for (const [name, p] of Object.entries(spec)) {
    let raw: RawParam;
    if (p.in === 'path') {
      const v = pathValues[name];
      raw = { values: v === undefined ? [] : [v], entries: [] };
    } else {
      const entries: [string, string][] = [];
      for (const [k, v] of query) {
        const m = /^([^[]+)\[([^\]]*)\]$/.exec(k);
        if (m && m[1] === name) entries.push([m[2]!, v]);
      }
      raw = { values: query.getAll(name), entries };
    }
    out[name] = p.parse(raw, name);
  }
  return out as ParamValues<S>;
}

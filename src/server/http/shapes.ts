/**
 * JSON body shapes: each is a JSON Schema (for OpenAPI) and a checker that narrows `unknown` to a
 * typed value, built from the same object so the spec and the validation cannot disagree. A
 * failed check is DbError 438 naming the JSON path (`body.tags.unit`), or the shape's own code
 * (413 for times).
 */
import { DbError } from '../../core/errors.ts';

/** The subset of JSON Schema (2020-12, as used by OpenAPI 3.1) these shapes emit. */
export type JsonSchema = { readonly [key: string]: unknown };

export interface Shape<T> {
  readonly schema: JsonSchema;
  /** True for shapes made with {@link optional}: the key may be absent. */
  readonly optional?: boolean;
  check(v: unknown, path: string): T;
}

const bad = (path: string, what: string): DbError => new DbError(438, `${path} ${what}`);

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : JSON.stringify(v);

export function str(opts: { readonly maxLength?: number; readonly description?: string } = {}): Shape<string> {
  const maxLength = opts.maxLength ?? 4096;
  return {
    schema: { type: 'string', maxLength, ...(opts.description ? { description: opts.description } : {}) },
    check(v, path) {
      if (typeof v !== 'string') throw bad(path, `must be a string, got ${describe(v)}`);
      if (v.length > maxLength) throw bad(path, `is longer than ${maxLength} characters`);
      return v;
    },
  };
}

export function int(
  opts: { readonly min?: number; readonly max?: number; readonly description?: string } = {},
): Shape<number> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  return {
    schema: {
      type: 'integer',
      minimum: min,
      maximum: max,
      ...(opts.description ? { description: opts.description } : {}),
    },
    check(v, path) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(path, `must be an integer, got ${describe(v)}`);
      if (v < min || v > max) throw bad(path, `${v} is outside [${min}, ${max}]`);
      return v;
    },
  };
}

export function bool(description?: string): Shape<boolean> {
  return {
    schema: { type: 'boolean', ...(description ? { description } : {}) },
    check(v, path) {
      if (typeof v !== 'boolean') throw bad(path, `must be true or false, got ${describe(v)}`);
      return v;
    },
  };
}

export function nullable<T>(inner: Shape<T>): Shape<T | null> {
  return {
    schema: { anyOf: [inner.schema, { type: 'null' }] },
    check: (v, path) => (v === null ? null : inner.check(v, path)),
  };
}

/** A key that may be absent (its value is then `undefined`). */
export function optional<T>(inner: Shape<T>): Shape<T | undefined> {
  return {
    schema: inner.schema,
    optional: true,
    check: (v, path) => (v === undefined ? undefined : inner.check(v, path)),
  };
}

export function array<T>(
  item: Shape<T>,
  opts: { readonly maxItems?: number; readonly description?: string } = {},
): Shape<T[]> {
  const maxItems = opts.maxItems ?? 4096;
  return {
    schema: {
      type: 'array',
      items: item.schema,
      maxItems,
      ...(opts.description ? { description: opts.description } : {}),
    },
    check(v, path) {
      if (!Array.isArray(v)) throw bad(path, `must be an array, got ${describe(v)}`);
      if (v.length > maxItems) throw bad(path, `has ${v.length} items, at most ${maxItems} allowed`);
      return v.map((x, i) => item.check(x, `${path}[${i}]`));
    },
  };
}

/** An object with string keys and values of one shape. */
export function record<T>(
  value: Shape<T>,
  opts: { readonly maxEntries?: number; readonly description?: string } = {},
): Shape<Record<string, T>> {
  const maxEntries = opts.maxEntries ?? 4096;
  return {
    schema: {
      type: 'object',
      additionalProperties: value.schema,
      maxProperties: maxEntries,
      ...(opts.description ? { description: opts.description } : {}),
    },
    check(v, path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw bad(path, `must be an object, got ${describe(v)}`);
      const entries = Object.entries(v);
      if (entries.length > maxEntries) throw bad(path, `has ${entries.length} keys, at most ${maxEntries} allowed`);
      const out: Record<string, T> = {};
      for (const [k, x] of entries) out[k] = value.check(x, `${path}.${k}`);
      return out;
    },
  };
}

type ObjectValue<P extends Readonly<Record<string, Shape<unknown>>>> = {
  readonly [K in keyof P]: P[K] extends Shape<infer T> ? T : never;
};

/** An object with known keys; unknown keys are rejected (they are usually typos). */
export function object<P extends Readonly<Record<string, Shape<unknown>>>>(
  props: P,
  description?: string,
): Shape<ObjectValue<P>> {
  const required = Object.entries(props)
    .filter(([, s]) => s.optional !== true)
    .map(([k]) => k);
  const properties: Record<string, JsonSchema> = {};
  for (const [k, s] of Object.entries(props)) properties[k] = s.schema;
  return {
    schema: {
      type: 'object',
      properties,
      required,
      additionalProperties: false,
      ...(description ? { description } : {}),
    },
    check(v, path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw bad(path, `must be an object, got ${describe(v)}`);
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (!(k in props)) throw bad(`${path}.${k}`, `is not a known key (known: ${Object.keys(props).join(', ')})`);
      }
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(props)) {
        if (!(k in o) && s.optional !== true) throw bad(`${path}.${k}`, 'is required');
        out[k] = s.check(o[k], `${path}.${k}`);
      }
      return out as ObjectValue<P>;
    },
  };
}

/** A value of any JSON type (documented loosely). */
export function anyJson(description: string): Shape<unknown> {
  return { schema: { description }, check: (v) => v };
}

/**
 * Input rules for collections, tags and annotations (guide §4.11), as pure functions that throw
 * DbError with the BTrDB code and the offending value in the message.
 *
 * - collection: 1–255 UTF-8 bytes, no NUL, well-formed UTF-16 (no lone surrogate) → else 407;
 * - tag key: one of name, unit, ingress, distiller → else 408;
 * - tag / annotation value: ≤ 255 characters (code points), no NUL, well-formed → else 409;
 * - annotation key: 1–255 UTF-8 bytes, no NUL, well-formed → else 408 (our choice: v4's
 *   `^[a-z][a-z0-9_.]*$` would reject keys the Python client happily sends);
 * - at most 1024 annotations per stream → else 438.
 */
import { DbError } from '../core/errors.ts';
import { TAG_KEYS, type TagKey } from './types.ts';

export const MAX_COLLECTION_BYTES = 255;
export const MAX_KEY_BYTES = 255;
export const MAX_VALUE_CHARS = 255;
/**
 * Most annotations one stream may carry (so ≤ ~1.3 MB of annotation text per stream: keys ≤ 255
 * bytes, values ≤ 255 characters). Past it: 438, nothing changed.
 */
export const MAX_ANNOTATIONS_PER_STREAM = 1024;

/** 438 when a stream would carry more than {@link MAX_ANNOTATIONS_PER_STREAM} annotations. */
export function checkAnnotationCount(count: number): void {
  if (count > MAX_ANNOTATIONS_PER_STREAM) {
    throw new DbError(
      438,
      `a stream may carry at most ${MAX_ANNOTATIONS_PER_STREAM} annotations; this change would give it ${count}`,
    );
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A short, quoted rendering of a user value for error messages. */
export function show(value: string): string {
  const q = JSON.stringify(value);
  return q.length > 80 ? `${q.slice(0, 77)}..."` : q;
}

function problem(text: string): string | undefined {
  if (text.includes('\0')) return 'contains NUL';
  if (LONE_SURROGATE.test(text)) return 'is not valid UTF-8 (lone surrogate)';
  return undefined;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export function validateCollection(collection: string): void {
  if (typeof collection !== 'string' || collection.length === 0) {
    throw new DbError(407, 'invalid collection "": must be 1–255 bytes');
  }
  const bytes = Buffer.byteLength(collection, 'utf8');
  if (bytes > MAX_COLLECTION_BYTES) {
    throw new DbError(407, `invalid collection ${show(collection)}: ${bytes} bytes, at most 255 allowed`);
  }
  const p = problem(collection);
  if (p) throw new DbError(407, `invalid collection ${show(collection)}: ${p}`);
}

export function isTagKey(key: string): key is TagKey {
  return (TAG_KEYS as readonly string[]).includes(key);
}

export function validateTagKey(key: string): TagKey {
  if (!isTagKey(key)) {
    throw new DbError(408, `invalid tag key ${show(key)}: tag keys are ${TAG_KEYS.join(', ')}`);
  }
  return key;
}

function validateValue(kind: 'tag' | 'annotation', key: string, value: string): void {
  if (typeof value !== 'string') throw new DbError(409, `invalid ${kind} value for ${show(key)}: not a string`);
  const n = codePoints(value);
  if (n > MAX_VALUE_CHARS) {
    throw new DbError(409, `invalid ${kind} value for ${show(key)}: ${n} characters, at most 255 allowed`);
  }
  const p = problem(value);
  if (p) throw new DbError(409, `invalid ${kind} value ${show(value)} for ${show(key)}: ${p}`);
}

export function validateTagValue(key: string, value: string): void {
  validateValue('tag', key, value);
}

export function validateAnnotationKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new DbError(408, 'invalid annotation key "": empty');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new DbError(408, `invalid annotation key ${show(key)}: ${bytes} bytes, at most 255 allowed`);
  }
  const p = problem(key);
  if (p) throw new DbError(408, `invalid annotation key ${show(key)}: ${p}`);
}

export function validateAnnotationValue(key: string, value: string): void {
  validateValue('annotation', key, value);
}

/** The four tag columns: name/unit/ingress are '' when unset, distiller null when unset. */
export interface TagColumns {
  name: string;
  unit: string;
  ingress: string;
  distiller: string | null;
}

/** Validate a create's tags and spread them over the four tag columns. */
export function tagColumns(tags: Readonly<Record<string, string>>): TagColumns {
  const cols: TagColumns = { name: '', unit: '', ingress: '', distiller: null };
  for (const [k, v] of Object.entries(tags)) {
    const key = validateTagKey(k);
    validateTagValue(key, v);
    cols[key] = v;
  }
  return cols;
}

/** Validate a create's annotations; returns them as a plain object. */
export function annotationMap(annotations: Readonly<Record<string, string>>): Record<string, string> {
  checkAnnotationCount(Object.keys(annotations).length);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations)) {
    validateAnnotationKey(k);
    validateAnnotationValue(k, v);
    out[k] = v;
  }
  return out;
}

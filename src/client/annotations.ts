/**
 * Annotation values the way btrdb-python stores them: the server keeps strings; the client
 * JSON-encodes every non-string value on the way in (`5` → "5", `true` → "true", `{a: 1}` →
 * '{"a":1}', `null` → "null") and stores strings verbatim; on the way out `decodeAnnotation`
 * JSON-decodes and falls back to the raw string. The round trip is therefore lossy for strings
 * that look like JSON ("5" reads back decoded as the number 5) — exactly as in Python.
 */
import { DbError } from '../core/errors.ts';

/** A value accepted for an annotation: a string (stored as is) or anything JSON can encode. */
export type AnnotationValue = string | number | boolean | bigint | null | readonly unknown[] | object;

/** Encode one annotation value (see the module comment). bigints become their decimal digits. */
export function encodeAnnotation(key: string, value: AnnotationValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch (e) {
    throw new DbError(409, `annotation ${JSON.stringify(key)}: value cannot be JSON-encoded`, { cause: e });
  }
  if (text === undefined) throw new DbError(409, `annotation ${JSON.stringify(key)}: value cannot be JSON-encoded`);
  return text;
}

/** Encode a whole map of annotations; with `encode` false every value must already be a string. */
export function encodeAnnotations(
  annotations: Readonly<Record<string, AnnotationValue>>,
  encode = true,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations)) {
    if (!encode && typeof v !== 'string') {
      throw new DbError(409, `annotation ${JSON.stringify(k)}: value must be a string when encoding is off`);
    }
    out[k] = encodeAnnotation(k, v);
  }
  return out;
}

/** btrdb-python's read side: JSON-decode the stored string, or return it unchanged if it is not JSON. */
export function decodeAnnotation(stored: string): unknown {
  try {
    return JSON.parse(stored) as unknown;
  } catch {
    return stored;
  }
}

/**
 * Member selection for `StreamSet.filter` (btrdb-python semantics): `collection`, `name` and
 * `unit` given as a string match case-insensitively and exactly, given as a RegExp match when
 * `regexp.test()` finds them anywhere; `tags` and `annotations` must all be present with exactly
 * the given values (annotation values encoded as by `update`, then compared as stored strings).
 */
import type { StreamDescriptor } from '../core/types.ts';
import { type AnnotationValue, encodeAnnotations } from './annotations.ts';

export type TextMatch = string | RegExp;

export interface MemberFilter {
  readonly collection?: TextMatch;
  readonly name?: TextMatch;
  readonly unit?: TextMatch;
  readonly tags?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, AnnotationValue>>;
}

function matchText(value: string, m: TextMatch | undefined): boolean {
  if (m === undefined) return true;
  if (typeof m === 'string') return value.toLowerCase() === m.toLowerCase();
  m.lastIndex = 0; // a /g or /y RegExp keeps state between calls
  return m.test(value);
}

function hasAll(have: Readonly<Record<string, string>>, want: Readonly<Record<string, string>> | undefined): boolean {
  if (want === undefined) return true;
  return Object.entries(want).every(([k, v]) => Object.hasOwn(have, k) && have[k] === v);
}

/** A predicate over descriptors for the given filter. */
export function memberMatcher(f: MemberFilter): (d: StreamDescriptor) => boolean {
  const annotations = f.annotations === undefined ? undefined : encodeAnnotations(f.annotations);
  return (d) =>
    matchText(d.collection, f.collection) &&
    matchText(d.tags.name ?? '', f.name) &&
    matchText(d.tags.unit ?? '', f.unit) &&
    hasAll(d.tags, f.tags) &&
    hasAll(d.annotations, annotations);
}

/** True when the filter selects members at all (so descriptors must be loaded). */
export const selectsMembers = (f: MemberFilter): boolean =>
  f.collection !== undefined ||
  f.name !== undefined ||
  f.unit !== undefined ||
  f.tags !== undefined ||
  f.annotations !== undefined;

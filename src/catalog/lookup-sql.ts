/**
 * WHERE clauses for LookupStreams, ListCollections and GetMetadataUsage over `catalog_stream`.
 * Only parameters carry user text; column names come from the closed tag-key list.
 *
 * - prefix: `collection ^@ $n` (starts_with). With `COLLATE "C"` the planner turns it into a
 *   range scan of the btree index whose first column is `collection`; '' adds no condition.
 * - tag = value: the tag's column; tag present (null): always true for name/unit/ingress (they
 *   always exist), `distiller is not null` for distiller.
 * - annotations: `annotations @> hstore` for key = value and `annotations ?& keys` for presence,
 *   both served by the GIN index on annotations.
 */
import { DbError } from '../core/errors.ts';
import type { LookupQuery } from './types.ts';
import { show, validateAnnotationKey, validateAnnotationValue, validateTagKey, validateTagValue } from './validate.ts';

export interface Where {
  /** '' or `where …`. */
  readonly sql: string;
  readonly params: unknown[];
}

/** A collection (prefix) used as a filter must at least be representable in Postgres text. */
export function checkCollectionFilter(collection: string): void {
  if (typeof collection !== 'string') throw new DbError(407, 'invalid collection: not a string');
  if (collection.includes('\0')) throw new DbError(407, `invalid collection ${show(collection)}: contains NUL`);
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(collection)) {
    throw new DbError(407, `invalid collection ${show(collection)}: is not valid UTF-8 (lone surrogate)`);
  }
}

class Builder {
  readonly conds: string[] = [];
  readonly params: unknown[] = [];
  param(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }
  where(): Where {
    return { sql: this.conds.length ? `where ${this.conds.join(' and ')}` : '', params: this.params };
  }
}

function addPrefix(b: Builder, prefix: string): void {
  checkCollectionFilter(prefix);
  if (prefix !== '') b.conds.push(`collection ^@ ${b.param(prefix)}`);
}

/** Streams under a collection prefix ('' = all). */
export function prefixWhere(prefix: string): Where {
  const b = new Builder();
  addPrefix(b, prefix);
  return b.where();
}

/** The filters of a LookupStreams query (408/409 on keys/values that can never be stored). */
export function lookupWhere(q: LookupQuery): Where {
  const b = new Builder();
  if (q.isPrefix) addPrefix(b, q.collection);
  else {
    checkCollectionFilter(q.collection);
    b.conds.push(`collection = ${b.param(q.collection)}`);
  }
  for (const [k, v] of Object.entries(q.tags ?? {})) {
    const key = validateTagKey(k);
    if (v === null) {
      if (key === 'distiller') b.conds.push('distiller is not null');
    } else {
      validateTagValue(key, v);
      b.conds.push(`${key} = ${b.param(v)}`);
    }
  }
  const equal: Record<string, string> = {};
  const present: string[] = [];
  for (const [k, v] of Object.entries(q.annotations ?? {})) {
    validateAnnotationKey(k);
    if (v === null) present.push(k);
    else {
      validateAnnotationValue(k, v);
      equal[k] = v;
    }
  }
  if (Object.keys(equal).length > 0)
    b.conds.push(`annotations @> catalog_hstore(${b.param(JSON.stringify(equal))}::jsonb)`);
  if (present.length > 0) b.conds.push(`annotations ?& ${b.param(present)}::text[]`);
  return b.where();
}

/**
 * Reading streams back from `catalog_stream`. Every query that returns streams selects them as one
 * JSON array per stream (see {@link META_JSON}); for many rows they are aggregated into a single
 * JSON text, which PGlite hands over ~3× faster than 100 000 separate rows.
 */
import { DbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import type { StreamMeta } from './types.ts';

/** `[uuid, collection, name, unit, ingress, distiller|null, property_version, annotations{}|null]` */
export const META_JSON =
  'json_build_array(uuid, collection, name, unit, ingress, distiller, property_version, hstore_to_json(annotations))';

/** Sort order of lookups: byte order of collection, then name, then uuid. */
export const META_ORDER = 'collection, name, uuid';

/** A query returning one JSON text `j`: the array of every stream matching `where`, sorted. */
export function aggregateQuery(where: string): string {
  return `select coalesce(json_agg(${META_JSON} order by ${META_ORDER}), '[]')::text as j from catalog_stream ${where}`;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new DbError(500, `catalog row has a malformed ${what}: ${JSON.stringify(v)}`);
  return v;
}

/** One stream's JSON array → StreamMeta. */
export function metaFromJson(value: unknown): StreamMeta {
  if (!Array.isArray(value) || value.length !== 8) {
    throw new DbError(500, `catalog row is malformed: ${JSON.stringify(value)}`);
  }
  const [uuid, collection, name, unit, ingress, distiller, pv, ann] = value as unknown[];
  const tags: Record<string, string> = {
    name: str(name, 'name'),
    unit: str(unit, 'unit'),
    ingress: str(ingress, 'ingress'),
  };
  if (distiller !== null) tags.distiller = str(distiller, 'distiller');
  const annotations: Record<string, string> = {};
  if (ann !== null) {
    if (typeof ann !== 'object' || Array.isArray(ann)) throw new DbError(500, 'catalog row has malformed annotations');
    for (const [k, v] of Object.entries(ann as Record<string, unknown>)) annotations[k] = str(v, 'annotation');
  }
  return {
    id: str(uuid, 'uuid') as StreamId,
    collection: str(collection, 'collection'),
    tags,
    annotations,
    propertyVersion: Number(pv),
  };
}

/** The JSON text of {@link aggregateQuery} → StreamMeta[]. */
export function metasFromJsonText(text: string): StreamMeta[] {
  const arr: unknown = JSON.parse(text);
  if (!Array.isArray(arr)) throw new DbError(500, 'catalog query returned malformed JSON');
  return arr.map(metaFromJson);
}

/**
 * The statements of the PGlite catalog, and the mapping of Postgres failures to DbError codes.
 * User text only ever travels as bind parameters, except stream ids in COPY (see checkedId).
 */
import { DbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { isStreamId } from '../core/uuid.ts';
import { pgErrorInfo, UNIQUE_VIOLATION } from './pg-error.ts';
import { META_JSON } from './stream-row.ts';
import { show, type TagColumns } from './validate.ts';

/** Streams per INSERT statement in createMany. */
export const BULK_CHUNK = 5000;

/**
 * PGlite runs Postgres in single-user mode: there is no autovacuum. So the catalog vacuums and
 * re-analyzes its table itself, at open and after this many changed streams (dead row versions
 * from updates/deletes would pile up, and stale statistics make the planner pick bad indexes).
 */
export const MAINTENANCE_EVERY = 5000;
export const MAINTENANCE = 'vacuum (analyze) catalog_stream, catalog_obliterated';

export const INSERT_ONE = `
insert into catalog_stream (uuid, collection, name, unit, ingress, distiller, property_version, annotations)
select $1::uuid, $2, $3, $4, $5, $6, 1, catalog_hstore($7::jsonb)
 where not exists (select 1 from catalog_obliterated where uuid = $1::uuid)
returning ${META_JSON} as m`;

export const INSERT_MANY = `
insert into catalog_stream (uuid, collection, name, unit, ingress, distiller, property_version, annotations)
select (r->>0)::uuid, r->>1, r->>2, r->>3, r->>4, r->>5, 1, catalog_hstore(r->6)
  from jsonb_array_elements($1::jsonb) r
 where not exists (select 1 from catalog_obliterated o where o.uuid = (r->>0)::uuid)`;

export const OBLITERATE = `
with gone as (delete from catalog_stream where uuid = $1::uuid returning uuid)
insert into catalog_obliterated (uuid) select uuid from gone
returning uuid::text as uuid`;

/**
 * `id` itself, after proving it is a canonical uuid (hex digits and hyphens only), so it can be
 * written into a COPY statement as a literal.
 */
export function checkedId(id: StreamId): StreamId {
  if (!isStreamId(id)) throw new DbError(500, `refusing to inline a malformed stream id ${JSON.stringify(id)}`);
  return id;
}

export function checkId(id: StreamId): void {
  if (typeof id !== 'string' || !isStreamId(id)) {
    throw new DbError(438, `not a stream id (lower-case hyphenated uuid): ${JSON.stringify(id)}`);
  }
}

/** Map a failed statement to the DbError the caller should see. */
export function failure(e: unknown, what: string, collection: string, tags?: TagColumns): DbError {
  if (e instanceof DbError) return e;
  const info = pgErrorInfo(e);
  if (info.sqlstate === UNIQUE_VIOLATION && info.constraint === 'catalog_stream_pkey') {
    return new DbError(417, `stream already exists: ${info.detail ?? what}`);
  }
  if (info.sqlstate === UNIQUE_VIOLATION && info.constraint === 'catalog_stream_tagset') {
    if (tags !== undefined) {
      return new DbError(
        418,
        `another live stream has collection ${show(collection)} and tags ${JSON.stringify(tags)}`,
      );
    }
    return new DbError(418, `another live stream has the same collection and tags: ${info.detail ?? collection}`);
  }
  return new DbError(500, `catalog ${what} failed: ${info.message}`, { cause: e });
}

/**
 * The catalog's SQL schema (docs/format/catalog.md is the prose version; keep them in step).
 *
 * - `catalog_stream`: one row per LIVE stream. Tags are columns (the key set is closed), annotations
 *   an hstore (NULL when empty). Text is `COLLATE "C"`: byte order for sorting, and plain btree
 *   indexes then serve prefix matches (`^@`, `LIKE 'p%'`) without `text_pattern_ops`.
 * - `catalog_obliterated`: tombstones; a uuid there can never be created again (429).
 * - `streams`: the documented SQL view (guide §4.12) over `catalog_stream`.
 *
 * 418 (AmbiguousStream) is enforced by the unique index `catalog_stream_tagset`; 417 by the primary
 * key. Postgres checks unique indexes in creation order, so the primary key (created first) wins
 * when both would fire — a re-create of a live uuid is 417, not 418.
 */
import { DbError } from '../core/errors.ts';
import type { SqlClient } from './sql-client.ts';

export const SCHEMA_VERSION = 1;

const DDL = `
create extension if not exists hstore;

create table if not exists catalog_info (
  key text primary key,
  value text not null
);

create table if not exists catalog_stream (
  uuid uuid primary key,
  collection text collate "C" not null check (octet_length(collection) between 1 and 255),
  name text collate "C" not null check (char_length(name) <= 255),
  unit text collate "C" not null check (char_length(unit) <= 255),
  ingress text collate "C" not null check (char_length(ingress) <= 255),
  distiller text collate "C" check (char_length(distiller) <= 255),
  property_version bigint not null check (property_version >= 1),
  annotations hstore check (annotations <> ''::hstore)
);

create unique index if not exists catalog_stream_tagset on catalog_stream
  (collection, name, unit, ingress, coalesce(distiller, ''), (distiller is null));
create index if not exists catalog_stream_name on catalog_stream (name);
create index if not exists catalog_stream_annotations on catalog_stream using gin (annotations);

create table if not exists catalog_obliterated (
  uuid uuid primary key,
  obliterated_at timestamptz not null default now()
);

-- jsonb object {key: value} -> hstore, NULL for {} (annotations are NULL when empty).
create or replace function catalog_hstore(j jsonb) returns hstore
  language sql immutable parallel safe
  as $$ select hstore(array_agg(key), array_agg(value)) from jsonb_each_text(j) $$;

create or replace view streams as
  select uuid,
         collection::varchar(256) as collection,
         name::varchar(256) as name,
         unit::varchar(256) as unit,
         ingress::varchar(256) as ingress,
         distiller::varchar(256) as distiller,
         property_version,
         annotations
    from catalog_stream;
`;

/** Advisory lock id held while the schema is created (several nodes may start at once). */
export const SCHEMA_LOCK = 0x4172_6361; // "Arca"

/**
 * Create the schema if missing and check its version; 500 if the database holds a newer one.
 * One transaction under an advisory lock, so several processes opening the same PostgreSQL
 * server at once neither collide on `create … if not exists` nor see half a schema. `extraDdl`
 * runs inside the same transaction (the server catalog's role and grants).
 */
export async function ensureSchema(db: SqlClient, extraDdl = ''): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    const info = await tx.query<{ present: boolean }>(`select to_regclass('catalog_info') is not null as present`);
    if (info.rows[0]?.present) {
      const r = await tx.query<{ value: string }>(`select value from catalog_info where key = 'schema_version'`);
      const found = r.rows[0]?.value;
      if (found !== undefined && Number(found) !== SCHEMA_VERSION) {
        throw new DbError(500, `catalog schema version ${found} is not supported (this build reads ${SCHEMA_VERSION})`);
      }
    }
    await tx.exec(DDL);
    if (extraDdl !== '') await tx.exec(extraDdl);
    await tx.query(`insert into catalog_info (key, value) values ('schema_version', $1) on conflict (key) do nothing`, [
      String(SCHEMA_VERSION),
    ]);
  });
}

/**
 * The SQL sandbox replica's schema and its hardening. The replica is a separate, in-memory PGlite
 * cluster in a worker thread; it holds nothing but the `streams` table (guide §4.12), so even a
 * query that escaped every restriction below could only read what `streams` already shows.
 *
 * User SQL runs as `arbor_sql`, a role that can log in nowhere, owns nothing and may only SELECT
 * `streams`. On top of Postgres' defaults it loses:
 * - SELECT on every pg_catalog table/view and all of information_schema (it sees only `streams`);
 * - EXECUTE on every VOLATILE pg_catalog function (set_config, nextval, lo_import, pg_read_file,
 *   pg_terminate_backend, pg_advisory_lock, pg_notify, ts_stat, query_to_xml, …) except a few
 *   harmless ones, and on the *_to_xml* family (they run SQL given as text).
 * pg_sleep stays callable on purpose: the time limit, not a privilege, is what stops slow queries.
 */
import { REPLICA_COLUMNS } from './sql-sandbox-protocol.ts';

/** Volatile functions that stay callable by user SQL. */
export const SAFE_VOLATILE_FUNCTIONS = [
  'pg_sleep',
  'pg_sleep_for',
  'pg_sleep_until',
  'random',
  'random_normal',
  'clock_timestamp',
  'timeofday',
  'gen_random_uuid',
  'uuidv4',
  'uuidv7',
] as const;

export const SANDBOX_ROLE = 'arbor_sql';

export const SANDBOX_DDL = `
create extension if not exists hstore;

create table streams (
  uuid uuid primary key,
  collection varchar(256) collate "C" not null,
  name varchar(256) collate "C" not null,
  unit varchar(256) collate "C" not null,
  ingress varchar(256) collate "C" not null,
  distiller varchar(256) collate "C",
  property_version bigint not null,
  annotations hstore
);

create role ${SANDBOX_ROLE} nologin noinherit;
revoke all on schema public from public;
grant usage on schema public to ${SANDBOX_ROLE};
grant select on streams to ${SANDBOX_ROLE};

revoke select on all tables in schema pg_catalog from public;
revoke all on all tables in schema information_schema from public;
revoke all on schema information_schema from public;

do $$
declare f regprocedure;
begin
  for f in
    select p.oid::regprocedure
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'pg_catalog'
       and (p.provolatile = 'v' or p.proname like '%to_xml%')
       and p.proname not in (${SAFE_VOLATILE_FUNCTIONS.map((f) => `'${f}'`).join(', ')})
  loop
    execute format('revoke execute on function %s from public', f);
  end loop;
end $$;
`;

/** Session settings of the replica (set as superuser; the sandbox role cannot change them). */
export const SANDBOX_SESSION = `
set work_mem = '16MB';
set temp_file_limit = '64MB';
`;

export const APPLY_DELETE = `delete from streams where uuid = any($1::uuid[])`;

export const APPLY_COPY = `copy streams (${REPLICA_COLUMNS}) from '/dev/blob' with (format csv)`;

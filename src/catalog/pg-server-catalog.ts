/**
 * The catalog on a PostgreSQL server: `Catalog` over a `pg` Pool (pg-pool-client.ts), for cluster
 * mode, where several `arbor serve` processes share one catalog. The statements and rules are
 * the embedded catalog's (sql-catalog.ts); the prose is in docs/format/catalog.md §6.
 *
 * - Schema: `ensureSchema` in one transaction under an advisory lock, so nodes that start at once
 *   create it exactly once; plus the role `arbor_sql` that user SQL runs as.
 * - Races between nodes are decided by the database (unique indexes, conditional UPDATEs, the
 *   tombstone re-check after create), exactly as between the connections of one node.
 * - Durability: the server fsyncs its WAL; every session runs with `synchronous_commit = on`, and
 *   the open refuses a server with `fsync = off`. No WAL fsync of our own is needed.
 * - User SQL (`sql`): no sandbox replica. The statement (checked and wrapped by sql-guard.ts) runs
 *   on the catalog server itself in a READ ONLY transaction, with `statement_timeout` = the query's
 *   time limit, as `arbor_sql`, a role that may SELECT the `streams` view and owns nothing, so it
 *   can neither write nor read the other tables. Afterwards the transaction is rolled back and
 *   session-level advisory locks the query may have taken are released before the connection goes
 *   back to the pool.
 */
import type pg from 'pg';
import { DbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { ensureSchema } from './catalog-schema.ts';
import { connectionProblem, PgPoolClient, type PgPoolOptions } from './pg-pool-client.ts';
import { SqlCatalog } from './sql-catalog.ts';
import { prepareUserSql, userSqlRejection, wrapUserSql } from './sql-guard.ts';
import { checkSqlOptions } from './sql-sandbox.ts';
import type { SqlOptions, SqlRow } from './types.ts';

export interface PgServerCatalogOptions extends PgPoolOptions {
  /** Refuse a server running with `fsync = off` (default true). */
  readonly requireFsync?: boolean;
}

/** The role user SQL runs as (cluster-wide in PostgreSQL; one per server, shared by its databases). */
export const USER_SQL_ROLE = 'arbor_sql';

/**
 * The role and its grants, run inside ensureSchema's transaction. The role can log in nowhere and
 * gets only SELECT on `streams` (a view: it reads `catalog_stream` with the view owner's rights,
 * without any right on the table itself). The connecting user must be able to SET ROLE to it.
 *
 * `set_config` loses EXECUTE for PUBLIC in this database: PostgreSQL checks SET ROLE against the
 * SESSION user, so `select set_config('role', 'postgres', false)` inside a query running as
 * arbor_sql would otherwise switch back to the (superuser) connecting user mid-query. Every
 * other way to change role is a statement, which the sub-select wrapper refuses. Revoking needs a
 * superuser (the function's owner); when it did not take effect, user SQL is refused instead.
 */
const USER_SQL_DDL = `
do $$
begin
  if not exists (select 1 from pg_roles where rolname = '${USER_SQL_ROLE}') then
    begin
      create role ${USER_SQL_ROLE} nologin noinherit;
    exception when duplicate_object or unique_violation then
      null; -- another database on this server created it at the same moment
    end;
  end if;
  if not pg_has_role(current_user, '${USER_SQL_ROLE}', 'MEMBER') then
    execute format('grant ${USER_SQL_ROLE} to %I', current_user);
  end if;
end $$;
grant select on streams to ${USER_SQL_ROLE};
revoke execute on function pg_catalog.set_config(text, text, boolean) from public;
grant execute on function pg_catalog.set_config(text, text, boolean) to current_user;
`;

/** True when user SQL could call set_config (see USER_SQL_DDL): then user SQL is refused. */
const SET_CONFIG_OPEN = `select has_function_privilege('${USER_SQL_ROLE}', 'pg_catalog.set_config(text, text, boolean)', 'execute') as open`;

/** Result rows beyond this many characters of JSON are refused. */
const MAX_RESULT_CHARS = 256 * 1024 * 1024;

/** Extra time the client waits beyond a user query's limit before it gives up on the server. */
const USER_SQL_GRACE_MS = 2000;

export class PgServerCatalog extends SqlCatalog {
  readonly #client: PgPoolClient;
  readonly #userSqlRefusal: string | undefined;

  /** `userSqlRefusal`: why user SQL cannot be run safely on this server, if it cannot. */
  constructor(client: PgPoolClient, userSqlRefusal?: string) {
    super(client, true);
    this.#client = client;
    this.#userSqlRefusal = userSqlRefusal;
  }

  /** The server's URL without password. */
  get where(): string {
    return this.#client.where;
  }

  /** The pool (for tests and metrics). */
  get pool(): pg.Pool {
    return this.#client.pool;
  }

  async sql(query: string, params: readonly string[], opts?: SqlOptions): Promise<SqlRow[]> {
    this.assertOpen();
    if (this.#userSqlRefusal !== undefined) throw new DbError(441, `SQL rejected: ${this.#userSqlRefusal}`);
    const { timeoutMs, maxRows } = checkSqlOptions(opts);
    const body = prepareUserSql(query, params);
    const text = wrapUserSql(body, maxRows);
    return this.#client.withConnection(async (c, markBroken) => {
      let unanswered = false;
      const giveUp = (): void => {
        unanswered = true;
        markBroken();
      };
      // One round trip: BEGIN READ ONLY, the limits, then the role (SET LOCAL: all undone by ROLLBACK).
      try {
        await c.query(
          `begin read only; set local statement_timeout = ${timeoutMs}; set local work_mem = '16MB'; set local role ${USER_SQL_ROLE}`,
        );
      } catch (e) {
        if (connectionProblem(e, this.#client.connectTimeoutMs, this.#client.queryTimeoutMs) !== undefined) throw e;
        markBroken();
        const why = e instanceof Error ? e.message : String(e);
        throw new DbError(500, `catalog server ${this.#client.where}: cannot start a user SQL transaction: ${why}`);
      }
      let rows: { j: string }[];
      try {
        // queryMode 'extended' ALWAYS: without params pg would use the simple protocol, which runs
        // several statements — a text like `1) as q; commit; reset role; …` would escape.
        // Its own client-side limit (the pool's would cut a long user query short); ours below fires first.
        const extended: pg.QueryConfig & { queryMode: 'extended'; query_timeout: number } = {
          text,
          values: [...params],
          queryMode: 'extended',
          query_timeout: timeoutMs + 2 * USER_SQL_GRACE_MS,
        };
        rows = await this.#withDeadline(c.query<{ j: string }>(extended), timeoutMs + USER_SQL_GRACE_MS, giveUp);
      } catch (e) {
        if (e instanceof DbError) throw e;
        const code: unknown = typeof e === 'object' && e !== null ? Reflect.get(e, 'code') : undefined;
        const sqlstate = typeof code === 'string' ? code : undefined;
        if (sqlstate === '57014') {
          throw new DbError(
            441,
            `SQL rejected: the query ran longer than the time limit of ${timeoutMs} ms and was stopped`,
          );
        }
        if (sqlstate !== undefined && /^[0-9A-Z]{5}$/.test(sqlstate) && !sqlstate.startsWith('08')) {
          throw userSqlRejection(e instanceof Error ? e.message : String(e), sqlstate);
        }
        throw e;
      } finally {
        // Undo everything the query could have left behind on this connection before it is reused.
        // (A connection the server did not answer on is destroyed instead: nothing to undo.)
        if (!unanswered) await c.query('rollback; select pg_advisory_unlock_all()').catch(markBroken);
      }
      if (rows.length > maxRows) throw new DbError(441, `SQL rejected: the query returned more than ${maxRows} rows`);
      let chars = 0;
      return rows.map((row) => {
        chars += row.j.length;
        if (chars > MAX_RESULT_CHARS) {
          throw new DbError(441, `SQL rejected: the result is larger than ${MAX_RESULT_CHARS} characters`);
        }
        return JSON.parse(row.j) as SqlRow;
      });
    });
  }

  /** Nothing to do: the server made the commit durable (synchronous_commit, fsync). */
  protected async afterCommit(_ids: readonly StreamId[]): Promise<void> {}

  protected async shutdown(): Promise<void> {
    await this.#client.end();
  }

  /** `p`'s rows, or a DbError naming the server when it does not answer within `ms`. */
  async #withDeadline<R>(p: Promise<pg.QueryResult<R & pg.QueryResultRow>>, ms: number, markBroken: () => void) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        markBroken();
        reject(new DbError(500, `catalog server ${this.#client.where}: no answer within ${ms} ms`));
      }, ms);
    });
    p.catch(() => undefined); // settles after the deadline when the server wakes up again
    try {
      return (await Promise.race([p, late])).rows;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Connect to the catalog on the PostgreSQL server at `url` (`postgres://user[:password]@host:port/db`),
 * creating the schema if it is missing. Several processes may open the same database at once.
 * DbError 500 naming the server (never its password) when it cannot be reached or refuses.
 */
export async function openPgServerCatalog(url: string, opts: PgServerCatalogOptions = {}): Promise<PgServerCatalog> {
  const client = new PgPoolClient(url, opts);
  try {
    if (opts.requireFsync ?? true) {
      const r = await client.query<{ fsync: string }>('show fsync');
      if (r.rows[0]?.fsync !== 'on') {
        throw new DbError(
          500,
          `catalog server ${client.where}: fsync is off, so acknowledged changes would not survive a power loss`,
        );
      }
    }
    try {
      await ensureSchema(client, USER_SQL_DDL);
    } catch (e) {
      const f = client.failure(e, 'creating the catalog schema: ');
      if (f instanceof DbError) throw f;
      throw new DbError(500, `catalog server ${client.where}: creating the catalog schema failed: ${String(e)}`, {
        cause: e,
      });
    }
    const open = await client.query<{ open: boolean }>(SET_CONFIG_OPEN);
    const refusal = open.rows[0]?.open
      ? `user SQL is disabled on catalog server ${client.where}: set_config is still executable by every role ` +
        '(connect as a superuser once so that the catalog can revoke it; see docs/format/catalog.md)'
      : undefined;
    return new PgServerCatalog(client, refusal);
  } catch (e) {
    await client.end();
    throw e;
  }
}

/**
 * The seam between the catalog's SQL and the database that runs it: PGlite in-process
 * (`pgliteSqlClient`) or a PostgreSQL server through a `pg` Pool (pg-pool-client.ts). The catalog's
 * statements (catalog-sql.ts, lookup-sql.ts, stream-row.ts) are written once against this.
 *
 * Contract for both adapters:
 * - `query` runs ONE statement with `$1…` bound to `params` (extended protocol: a second
 *   statement in the text is an error). `exec` runs a script of several statements, no params.
 * - `transaction(fn)` runs `fn` in BEGIN … COMMIT on one connection and rolls back when `fn`
 *   throws; its result is `fn`'s.
 * - Errors the database raised keep Postgres' fields (`code` = SQLSTATE, `constraint`, `detail`;
 *   see pg-error.ts), so catalog-sql.ts `failure` can map them. Errors of the connection itself
 *   (refused, timed out, cut) are DbErrors already.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';

export interface SqlResult<R> {
  readonly rows: R[];
  /** Rows inserted/updated/deleted by an INSERT/UPDATE/DELETE; 0 otherwise. */
  readonly rowCount: number;
}

export interface SqlQueryOptions {
  /** Rows as arrays in select-list order instead of objects keyed by column name. */
  readonly rowMode?: 'array';
}

export interface SqlQueryable {
  query<R>(sql: string, params?: readonly unknown[], opts?: SqlQueryOptions): Promise<SqlResult<R>>;
  exec(script: string): Promise<void>;
}

export interface SqlClient extends SqlQueryable {
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

function pgliteQueryable(pg: PGlite | Transaction): SqlQueryable {
  return {
    async query<R>(sql: string, params: readonly unknown[] = [], opts?: SqlQueryOptions): Promise<SqlResult<R>> {
      const r = await pg.query<R>(sql, [...params], opts?.rowMode === 'array' ? { rowMode: 'array' } : undefined);
      return { rows: r.rows, rowCount: r.affectedRows ?? 0 };
    },
    async exec(script: string): Promise<void> {
      await pg.exec(script);
    },
  };
}

/** `SqlClient` over a PGlite instance (which runs one statement at a time). */
export function pgliteSqlClient(pg: PGlite): SqlClient {
  return {
    ...pgliteQueryable(pg),
    transaction: <T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> =>
      pg.transaction((tx) => fn(pgliteQueryable(tx))),
  };
}

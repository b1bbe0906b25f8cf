/**
 * `SqlClient` over a `pg` Pool: the catalog's connection to a PostgreSQL server.
 *
 * Nothing waits forever. The pool is bounded (`maxConnections`); getting a connection — a free one
 * from the pool or a new one, including the server's start-up handshake — has `connectTimeoutMs`;
 * every query has `queryTimeoutMs`, enforced twice: by the server (`statement_timeout`, so it
 * stops the work and frees its locks) and by the client (`query_timeout`, for a server that does
 * not answer at all, e.g. stopped with SIGSTOP). A connection whose query timed out or failed at
 * the connection level is destroyed, never handed out again; dead idle connections (a restarted
 * server) are dropped by the pool, so the next call simply connects again.
 *
 * Failures of the connection itself become DbError 500 with a message that names the server by its
 * URL without the password (`catalog server postgres://u@h:5432/db: connection refused`). Errors
 * the database raised for a statement keep their SQLSTATE fields for catalog-sql.ts `failure`.
 */
import pg from 'pg';
import { DbError } from '../core/errors.ts';
import type { SqlClient, SqlQueryable, SqlQueryOptions, SqlResult } from './sql-client.ts';

export interface PgPoolOptions {
  /** Connections at most (default 10). */
  readonly maxConnections?: number;
  /** Limit for getting a connection, ms (default 5 000). */
  readonly connectTimeoutMs?: number;
  /** Limit for each statement, ms (default 10 000). */
  readonly queryTimeoutMs?: number;
  /** `application_name` the server shows in pg_stat_activity (default 'arbordb'). */
  readonly applicationName?: string;
}

/** `url` with any password removed, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '';
    u.search = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable URL)';
  }
}

/** SQLSTATEs that mean the connection or the server, not the statement, failed. */
function connectionSqlstate(code: string): string | undefined {
  if (code.startsWith('08')) return 'connection failure';
  if (code === '57P01') return 'the server is shutting down';
  if (code === '57P02' || code === '57P03') return 'the server is restarting or not yet accepting connections';
  if (code === '53300') return 'too many connections';
  if (code === '57014') return 'the statement was cancelled (statement_timeout)';
  return undefined;
}

const NODE_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
};

function errorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code: unknown = Reflect.get(e, 'code');
  if (typeof code === 'string') return code;
  // net's happy-eyeballs connect rejects with an AggregateError of per-address errors
  const errors: unknown = Reflect.get(e, 'errors');
  return Array.isArray(errors) ? errorCode(errors[0]) : undefined;
}

/**
 * The reason, when `e` is a failure of the connection rather than of a statement; undefined for an
 * error the database raised for the statement.
 */
export function connectionProblem(e: unknown, connectTimeoutMs: number, queryTimeoutMs: number): string | undefined {
  if (e instanceof DbError) return undefined;
  const code = errorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  // Node's codes first: some (EPIPE) look like a SQLSTATE.
  if (code !== undefined && NODE_CODES[code] !== undefined) return NODE_CODES[code];
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) return connectionSqlstate(code);
  if (/timeout exceeded when trying to connect|connection timeout|timeout expired/i.test(message)) {
    return `no connection within ${connectTimeoutMs} ms`;
  }
  if (/Query read timeout/i.test(message)) {
    return `no answer within ${queryTimeoutMs} ms (a change in flight may or may not have been applied)`;
  }
  if (/Connection terminated|Client has encountered a connection error|not queryable/i.test(message)) {
    return 'the connection was lost (a change in flight may or may not have been applied)';
  }
  return undefined;
}

/** What `run` needs of a Pool or a checked-out connection. */
interface Queryable {
  query(config: pg.QueryArrayConfig): Promise<pg.QueryArrayResult>;
  query(config: pg.QueryConfig): Promise<pg.QueryResult>;
}

async function run<R>(
  q: Queryable,
  sql: string,
  params: readonly unknown[],
  opts: SqlQueryOptions | undefined,
): Promise<SqlResult<R>> {
  const config = { text: sql, values: [...params] };
  const r = opts?.rowMode === 'array' ? await q.query({ ...config, rowMode: 'array' }) : await q.query(config);
  return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
}

export class PgPoolClient implements SqlClient {
  readonly pool: pg.Pool;
  /** The server's URL without password, for messages. */
  readonly where: string;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;

  constructor(url: string, opts: PgPoolOptions = {}) {
    this.where = redactUrl(url);
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 10_000;
    const max = opts.maxConnections ?? 10;
    for (const [what, v] of [
      ['maxConnections', max],
      ['connectTimeoutMs', this.connectTimeoutMs],
      ['queryTimeoutMs', this.queryTimeoutMs],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new DbError(438, `catalog server: ${what} must be ≥ 1, got ${v}`);
    }
    this.pool = new pg.Pool({
      connectionString: url,
      max,
      connectionTimeoutMillis: this.connectTimeoutMs,
      query_timeout: this.queryTimeoutMs,
      statement_timeout: this.queryTimeoutMs,
      // a client that stalls inside a transaction must not hold row locks for long
      idle_in_transaction_session_timeout: Math.max(this.queryTimeoutMs * 2, 10_000),
      keepAlive: true,
      idleTimeoutMillis: 30_000,
      application_name: opts.applicationName ?? 'arbordb',
      // commits are durable when they return, whatever the server's default says
      options: '-c synchronous_commit=on',
    });
    // An idle connection that dies (server killed or restarted) is removed by the pool and
    // reported here; the next call connects again. Without a listener it would crash the process.
    this.pool.on('error', () => undefined);
  }

  /** DbError for a connection-level failure; other errors are returned unchanged. */
  failure(e: unknown, what = ''): unknown {
    const problem = connectionProblem(e, this.connectTimeoutMs, this.queryTimeoutMs);
    if (problem === undefined) return e;
    return new DbError(500, `catalog server ${this.where}: ${what}${problem}`, { cause: e });
  }

  async query<R>(sql: string, params: readonly unknown[] = [], opts?: SqlQueryOptions): Promise<SqlResult<R>> {
    try {
      return await run<R>(this.pool, sql, params, opts);
    } catch (e) {
      throw this.failure(e);
    }
  }

  async exec(script: string): Promise<void> {
    try {
      await this.pool.query(script);
    } catch (e) {
      throw this.failure(e);
    }
  }

  /**
   * Run `fn` with one connection of its own. The connection is destroyed instead of reused when
   * anything failed at the connection level or `fn` asks for it by returning `destroy`.
   */
  async withConnection<T>(fn: (c: pg.PoolClient, broken: () => void) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw this.failure(e);
    }
    let broken = false;
    const markBroken = (): void => {
      broken = true;
    };
    // While checked out, the pool does not listen for errors of this connection: we must.
    c.on('error', markBroken);
    try {
      return await fn(c, markBroken);
    } catch (e) {
      if (connectionProblem(e, this.connectTimeoutMs, this.queryTimeoutMs) !== undefined) broken = true;
      throw this.failure(e);
    } finally {
      c.removeListener('error', markBroken);
      c.release(broken);
    }
  }

  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.withConnection(async (c, markBroken) => {
      const tx: SqlQueryable = {
        query: <R>(sql: string, params: readonly unknown[] = [], opts?: SqlQueryOptions) =>
          run<R>(c, sql, params, opts),
        exec: async (script: string) => {
          await c.query(script);
        },
      };
      await c.query('begin');
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        if (connectionProblem(e, this.connectTimeoutMs, this.queryTimeoutMs) !== undefined) markBroken();
        else await c.query('rollback').catch(markBroken);
        throw e;
      }
      await c.query('commit');
      return result;
    });
  }

  /** Close every connection; bounded by `connectTimeoutMs` (a stopped server never says goodbye). */
  async end(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(r, this.connectTimeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([this.pool.end().catch(() => undefined), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The SQL sandbox, main-thread side: runs user SQL (SQLQuery, guide §4.12) on a disposable replica
 * of the `streams` table inside a worker thread, and kills that thread when a query runs past its
 * time limit. PGlite is Postgres compiled to WASM running synchronously on its thread: a slow query
 * would block that thread completely, and `statement_timeout` cannot fire (no signals in WASM; we
 * measured `pg_sleep(2)` run its full 2 s with `statement_timeout = 300`). Terminating the worker
 * is the only reliable stop, and it can never hurt the real catalog, which lives on another
 * PGlite instance that user SQL never reaches.
 *
 * Freshness: the catalog calls `markDirty(id)` after every committed change. Before each query the
 * sandbox re-reads the dirty streams from the catalog and applies them to the replica (a full
 * reload after a restart or a bulk change), so a query sees every change whose promise resolved
 * before `query` was called. Rows are re-read at sync time, so a late sync can never bring old data.
 *
 * Queries run one at a time, in call order; the time limit counts from when the query is handed to
 * a started, synced worker.
 */
import { Worker } from 'node:worker_threads';
import { DbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { prepareUserSql, wrapUserSql } from './sql-guard.ts';
import type { FromSandbox, SandboxWorkerData, ToSandbox } from './sql-sandbox-protocol.ts';
import { DEFAULT_SQL_MAX_ROWS, DEFAULT_SQL_TIMEOUT_MS, type SqlOptions, type SqlRow } from './types.ts';

/** Where the sandbox reads the rows it mirrors (the catalog). Both return replica-row JSON text. */
export interface SandboxSource {
  /** Every live stream. */
  snapshotRows(): Promise<string>;
  /** Those of `ids` that are live (the others are deleted from the replica). */
  rowsFor(ids: readonly string[]): Promise<string>;
}

export interface SqlSandboxOptions {
  /** Limit for starting the worker and for applying a sync, ms (default 120 000). */
  readonly startTimeoutMs?: number;
  /** Queries waiting beyond this many are refused with 426 (default 64). */
  readonly maxQueued?: number;
  /** More dirty streams than this trigger a full reload instead (default 5 000). */
  readonly fullSyncThreshold?: number;
}

export const MAX_SQL_TIMEOUT_MS = 10 * 60 * 1000;

/** The hardened, empty replica cluster, kept after the first worker built it: restarts take ~1 s. */
let replicaTemplate: Uint8Array | undefined;

function workerUrl(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith('.ts') ? './sql-sandbox-worker.ts' : './sql-sandbox-worker.js', here);
}

/** The loader flags of this process (e.g. `--import tsx` under tests), which the worker needs too. */
function loaderExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (/^--(import|loader|experimental-loader|require)=/.test(a)) out.push(a);
    else if (/^(--import|--loader|--experimental-loader|--require|-r)$/.test(a) && i + 1 < args.length) {
      out.push(a, args[i + 1] ?? '');
      i++;
    }
  }
  return out;
}

function checkOptions(opts: SqlOptions | undefined): { timeoutMs: number; maxRows: number } {
  const timeoutMs = opts?.timeoutMs ?? DEFAULT_SQL_TIMEOUT_MS;
  const maxRows = opts?.maxRows ?? DEFAULT_SQL_MAX_ROWS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_SQL_TIMEOUT_MS) {
    throw new DbError(438, `invalid SQL timeout ${timeoutMs} ms: must be an integer in 1..${MAX_SQL_TIMEOUT_MS}`);
  }
  if (!Number.isSafeInteger(maxRows) || maxRows < 1) {
    throw new DbError(438, `invalid SQL row limit ${maxRows}: must be a positive integer`);
  }
  return { timeoutMs, maxRows };
}

interface Pending {
  resolve(msg: FromSandbox): void;
  reject(e: DbError): void;
}

export class SqlSandbox {
  readonly #source: SandboxSource;
  readonly #startTimeoutMs: number;
  readonly #maxQueued: number;
  readonly #fullSyncThreshold: number;
  #worker: Worker | undefined;
  #pending: Pending | undefined;
  #needFull = true;
  readonly #dirty = new Set<string>();
  #queue: Promise<unknown> = Promise.resolve();
  #queued = 0;
  #closed = false;
  #restarts = 0;

  constructor(source: SandboxSource, options: SqlSandboxOptions = {}) {
    this.#source = source;
    this.#startTimeoutMs = options.startTimeoutMs ?? 120_000;
    this.#maxQueued = options.maxQueued ?? 64;
    this.#fullSyncThreshold = options.fullSyncThreshold ?? 5000;
  }

  /** How many times a worker was killed (time limit, crash) since this sandbox was made. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Whether a worker is currently running (it starts on the first query). */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** The stream changed (created, updated, obliterated): re-read it before the next query. */
  markDirty(id: StreamId): void {
    if (this.#worker === undefined || this.#needFull) return; // the next start reloads everything
    this.#dirty.add(id);
    if (this.#dirty.size > this.#fullSyncThreshold) this.markAllDirty();
  }

  /** Many streams changed: reload everything before the next query. */
  markAllDirty(): void {
    this.#needFull = true;
    this.#dirty.clear();
  }

  /**
   * Run one user query; see Catalog.sql. 441 when the statement is not a single read-only SELECT
   * over `streams`, when Postgres rejects it, when it runs past `timeoutMs`, returns more than
   * `maxRows` rows, or the sandbox fails. 426 when too many queries are waiting.
   */
  query(sql: string, params: readonly string[], opts?: SqlOptions): Promise<SqlRow[]> {
    if (this.#closed) return Promise.reject(new DbError(500, 'the catalog is closed'));
    let body: string;
    let limits: { timeoutMs: number; maxRows: number };
    try {
      limits = checkOptions(opts);
      body = prepareUserSql(sql, params);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#queued >= this.#maxQueued) {
      return Promise.reject(new DbError(426, `too many SQL queries waiting (${this.#queued}); try again later`));
    }
    this.#queued++;
    const run = this.#queue.then(() => this.#run(body, params, limits.timeoutMs, limits.maxRows));
    this.#queue = run.catch(() => undefined);
    return run.finally(() => {
      this.#queued--;
    });
  }

  /** Stop the worker; queries still waiting are rejected. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#kill(new DbError(500, 'the catalog is closed'), false);
  }

  async #run(body: string, params: readonly string[], timeoutMs: number, maxRows: number): Promise<SqlRow[]> {
    if (this.#closed) throw new DbError(500, 'the catalog is closed');
    await this.#ensureWorker();
    await this.#sync();
    const msg: ToSandbox = { type: 'query', sql: wrapUserSql(body, maxRows), params, maxRows };
    const reply = await this.#request(
      msg,
      timeoutMs,
      `SQL rejected: the query ran longer than the time limit of ${timeoutMs} ms and was stopped`,
    );
    if (reply.type === 'rows') return reply.rows.map((text) => JSON.parse(text) as SqlRow);
    if (reply.type === 'error') {
      const hint =
        reply.sqlstate === '42601'
          ? ' (only a single read-only SELECT over the streams table is allowed)'
          : reply.sqlstate === '42501'
            ? ' (user SQL may only read the streams table)'
            : '';
      throw new DbError(441, `SQL rejected: ${reply.message}${hint}`);
    }
    throw new DbError(500, `SQL sandbox sent an unexpected ${reply.type} reply`);
  }

  async #ensureWorker(): Promise<void> {
    if (this.#worker !== undefined) return;
    const data: SandboxWorkerData = { template: replicaTemplate ?? null };
    const worker = new Worker(workerUrl(), {
      workerData: data,
      execArgv: loaderExecArgv(),
      resourceLimits: { maxOldGenerationSizeMb: 512 },
      stdout: false,
      stderr: false,
    });
    worker.unref(); // a pending request's timer keeps the process alive, an idle sandbox does not
    this.#worker = worker;
    this.markAllDirty();
    worker.on('message', (msg: FromSandbox) => {
      if (msg.type === 'template') {
        replicaTemplate = msg.bytes;
        return;
      }
      const p = this.#pending;
      this.#pending = undefined;
      p?.resolve(msg);
    });
    worker.on('error', (e: Error) => {
      if (this.#worker !== worker) return;
      const oom = (e as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      const what = oom ? 'the SQL sandbox ran out of memory' : `the SQL sandbox failed: ${e.message}`;
      void this.#kill(new DbError(441, `SQL rejected: ${what}`), true);
    });
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      void this.#kill(new DbError(441, `SQL rejected: the SQL sandbox exited unexpectedly (code ${code})`), true);
    });
    const ready = await this.#request(undefined, this.#startTimeoutMs, 'SQL rejected: the SQL sandbox did not start');
    if (ready.type !== 'ready') throw new DbError(441, `SQL rejected: the SQL sandbox failed to start (${ready.type})`);
  }

  /** Bring the replica up to date with the catalog (see the file comment). */
  async #sync(): Promise<void> {
    let msg: ToSandbox;
    if (this.#needFull) {
      this.#needFull = false;
      this.#dirty.clear();
      msg = { type: 'apply', full: true, deleteIds: [], rows: await this.#source.snapshotRows() };
    } else if (this.#dirty.size > 0) {
      const ids = [...this.#dirty];
      this.#dirty.clear();
      msg = { type: 'apply', full: false, deleteIds: ids, rows: await this.#source.rowsFor(ids) };
    } else return;
    const reply = await this.#request(msg, this.#startTimeoutMs, 'SQL rejected: the SQL sandbox could not sync');
    if (reply.type === 'error') {
      this.markAllDirty();
      throw new DbError(441, `SQL rejected: the SQL sandbox could not sync: ${reply.message}`);
    }
  }

  /** Send `msg` (or nothing: wait for the start-up reply) and await the one reply, or kill at `timeoutMs`. */
  #request(msg: ToSandbox | undefined, timeoutMs: number, timeoutMessage: string): Promise<FromSandbox> {
    const worker = this.#worker;
    if (worker === undefined) return Promise.reject(new DbError(441, 'SQL rejected: the SQL sandbox is not running'));
    return new Promise<FromSandbox>((resolve, reject) => {
      const timer = setTimeout(() => void this.#kill(new DbError(441, timeoutMessage), true), timeoutMs);
      this.#pending = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      if (msg !== undefined) worker.postMessage(msg);
    });
  }

  /** Terminate the worker (if any) and fail the request in flight with `error`. */
  async #kill(error: DbError, countRestart: boolean): Promise<void> {
    const worker = this.#worker;
    const pending = this.#pending;
    this.#worker = undefined;
    this.#pending = undefined;
    this.markAllDirty();
    if (worker !== undefined && countRestart) this.#restarts++;
    pending?.reject(error);
    if (worker !== undefined) await worker.terminate();
  }
}

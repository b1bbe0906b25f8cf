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
import { peekBaseTemplate } from './pglite-open.ts';
import { prepareUserSql, userSqlRejection, wrapUserSql } from './sql-guard.ts';
import type { FromSandbox, SandboxWorkerData, ToSandbox } from './sql-sandbox-protocol.ts';
import { DEFAULT_SQL_MAX_ROWS, DEFAULT_SQL_TIMEOUT_MS, type SqlOptions, type SqlRow } from './types.ts';

/** Where the sandbox reads the rows it mirrors (the catalog), as replica CSV (sql-sandbox-protocol.ts). */
export interface SandboxSource {
  /** Every live stream. */
  snapshotCsv(): Promise<Uint8Array>;
  /** Those of `ids` that are live (the others are deleted from the replica). */
  csvFor(ids: readonly StreamId[]): Promise<Uint8Array>;
}

/** What the sandbox has been doing, for benchmarks and tests. */
export interface SqlSandboxStats {
  /** Workers started. */
  readonly starts: number;
  /** Workers killed (time limit, crash, out of memory). */
  readonly restarts: number;
  /** Wall time of the last worker start, until it was ready, ms. */
  readonly lastStartMs: number;
  /** Wall time of the last full reload of the replica (read + transfer + apply), ms. */
  readonly lastFullSyncMs: number;
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

/**
 * Start the worker script. Built code (`.js`) runs it directly. Under tsx (tests, `node --import
 * tsx`), loader flags are not honoured in worker threads (privatenumber/tsx#354), so a tiny eval'd
 * bootstrap registers tsx in the worker first and then imports the `.ts` file.
 */
function spawnWorker(workerData: SandboxWorkerData): Worker {
  const here = import.meta.url;
  const common = { workerData, resourceLimits: { maxOldGenerationSizeMb: 512 }, stdout: false, stderr: false };
  if (!here.endsWith('.ts')) return new Worker(new URL('./sql-sandbox-worker.js', here), common);
  const script = new URL('./sql-sandbox-worker.ts', here).href;
  const tsx = import.meta.resolve('tsx/esm/api'); // resolved here, not from the worker's cwd
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(script)}); })`;
  return new Worker(boot, { ...common, eval: true });
}

/** The time and row limits of one user query, checked (438 when out of range). */
export function checkSqlOptions(opts: SqlOptions | undefined): { timeoutMs: number; maxRows: number } {
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
  readonly #dirty = new Set<StreamId>();
  #queue: Promise<unknown> = Promise.resolve();
  #queued = 0;
  #closed = false;
  #restarts = 0;
  #starts = 0;
  #lastStartMs = 0;
  #lastFullSyncMs = 0;

  constructor(source: SandboxSource, options: SqlSandboxOptions = {}) {
    this.#source = source;
    this.#startTimeoutMs = options.startTimeoutMs ?? 120_000;
    this.#maxQueued = options.maxQueued ?? 64;
    this.#fullSyncThreshold = options.fullSyncThreshold ?? 5000;
  }

  get stats(): SqlSandboxStats {
    return {
      starts: this.#starts,
      restarts: this.#restarts,
      lastStartMs: this.#lastStartMs,
      lastFullSyncMs: this.#lastFullSyncMs,
    };
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
      limits = checkSqlOptions(opts);
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
    if (reply.type === 'error') throw userSqlRejection(reply.message, reply.sqlstate);
    throw new DbError(500, `SQL sandbox sent an unexpected ${reply.type} reply`);
  }

  async #ensureWorker(): Promise<void> {
    if (this.#worker !== undefined) return;
    const data: SandboxWorkerData =
      replicaTemplate !== undefined
        ? { template: replicaTemplate, hardened: true }
        : { template: peekBaseTemplate() ?? null, hardened: false };
    const worker = spawnWorker(data);
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
    const t0 = performance.now();
    this.#starts++;
    const ready = await this.#request(undefined, this.#startTimeoutMs, 'SQL rejected: the SQL sandbox did not start');
    if (ready.type !== 'ready') throw new DbError(441, `SQL rejected: the SQL sandbox failed to start (${ready.type})`);
    this.#lastStartMs = performance.now() - t0;
  }

  /** Bring the replica up to date with the catalog (see the file comment). */
  async #sync(): Promise<void> {
    const t0 = performance.now();
    const full = this.#needFull;
    if (!full && this.#dirty.size === 0) return;
    const ids = [...this.#dirty];
    this.#needFull = false;
    this.#dirty.clear();
    try {
      const msg: ToSandbox = full
        ? { type: 'apply', full: true, deleteIds: [], csv: await this.#source.snapshotCsv() }
        : { type: 'apply', full: false, deleteIds: ids, csv: await this.#source.csvFor(ids) };
      const reply = await this.#request(msg, this.#startTimeoutMs, 'SQL rejected: the SQL sandbox could not sync', [
        msg.csv.buffer as ArrayBuffer,
      ]);
      if (reply.type === 'error')
        throw new DbError(441, `SQL rejected: the SQL sandbox could not sync: ${reply.message}`);
    } catch (e) {
      this.markAllDirty(); // whatever the replica holds now, the next query reloads it all
      throw e;
    }
    if (full) this.#lastFullSyncMs = performance.now() - t0;
  }

  /** Send `msg` (or nothing: wait for the start-up reply) and await the one reply, or kill at `timeoutMs`. */
  #request(
    msg: ToSandbox | undefined,
    timeoutMs: number,
    timeoutMessage: string,
    transfer: ArrayBuffer[] = [],
  ): Promise<FromSandbox> {
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
      if (msg !== undefined) worker.postMessage(msg, transfer);
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

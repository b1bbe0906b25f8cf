/**
 * The SQL sandbox worker (a worker_thread, started by sql-sandbox.ts): an in-memory PGlite replica
 * of the `streams` table that runs user SQL. PGlite runs Postgres synchronously on this thread, so
 * nothing inside Postgres can interrupt a slow query (statement_timeout never fires: there are no
 * signals in WASM); the main thread enforces the time limit by terminating this whole thread.
 *
 * Requests are handled strictly one after another, in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PGlite } from '@electric-sql/pglite';
import { pgErrorInfo } from './pg-error.ts';
import { openPglite } from './pglite-open.ts';
import { APPLY_COPY, APPLY_DELETE, SANDBOX_DDL, SANDBOX_ROLE, SANDBOX_SESSION } from './sandbox-schema.ts';
import type { FromSandbox, SandboxWorkerData, ToSandbox } from './sql-sandbox-protocol.ts';

/** Result rows beyond this many bytes of JSON are refused (the worker would run out of memory). */
const MAX_RESULT_CHARS = 256 * 1024 * 1024;

const port = parentPort;
if (port === null) throw new Error('sql-sandbox-worker must run in a worker thread');

function send(msg: FromSandbox, transfer?: ArrayBuffer[]): void {
  port?.postMessage(msg, transfer);
}

async function start(data: SandboxWorkerData): Promise<PGlite> {
  if (data.template !== null && data.hardened) return openPglite(undefined, data.template);
  const pg = await openPglite(undefined, data.template ?? undefined);
  await pg.exec(SANDBOX_DDL);
  const tar = new Uint8Array(await (await pg.dumpDataDir('gzip')).arrayBuffer());
  send({ type: 'template', bytes: tar }, [tar.buffer]);
  return pg;
}

async function apply(pg: PGlite, msg: Extract<ToSandbox, { type: 'apply' }>): Promise<void> {
  await pg.transaction(async (tx) => {
    if (msg.full) await tx.exec('truncate streams');
    else if (msg.deleteIds.length > 0) await tx.query(APPLY_DELETE, [msg.deleteIds]);
    if (msg.csv.length > 0) await tx.query(APPLY_COPY, [], { blob: new Blob([msg.csv]) });
  });
}

async function query(pg: PGlite, msg: Extract<ToSandbox, { type: 'query' }>): Promise<readonly string[]> {
  // BEGIN READ ONLY + SET LOCAL ROLE: both end with the ROLLBACK below, whatever the query did.
  await pg.exec(`begin read only; set local role ${SANDBOX_ROLE};`);
  try {
    const r = await pg.query<{ j: string }>(msg.sql, [...msg.params]);
    if (r.rows.length > msg.maxRows) {
      throw Object.assign(new Error(`the query returned more than ${msg.maxRows} rows`), { code: '54000' });
    }
    let chars = 0;
    const rows = r.rows.map((row) => {
      chars += row.j.length;
      if (chars > MAX_RESULT_CHARS) {
        throw Object.assign(new Error(`the result is larger than ${MAX_RESULT_CHARS} characters`), { code: '54000' });
      }
      return row.j;
    });
    return rows;
  } finally {
    await pg.exec('rollback');
  }
}

const data = workerData as SandboxWorkerData;
const pg = await start(data);
await pg.exec(SANDBOX_SESSION);
send({ type: 'ready' });

let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: ToSandbox) => {
  chain = chain.then(async () => {
    try {
      if (msg.type === 'apply') {
        await apply(pg, msg);
        send({ type: 'applied' });
      } else {
        send({ type: 'rows', rows: await query(pg, msg) });
      }
    } catch (e) {
      const info = pgErrorInfo(e);
      send({ type: 'error', message: info.message, sqlstate: info.sqlstate });
    }
  });
});

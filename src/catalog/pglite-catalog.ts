/**
 * The embedded catalog: `Catalog` on PGlite (PostgreSQL 18 compiled to WASM, in-process). Schema in
 * catalog-schema.ts, user SQL in sql-sandbox.ts, on-disk layout in catalog-dir.ts; the prose is in
 * docs/format/catalog.md.
 *
 * The catalog's statements and rules are shared with the PostgreSQL-server catalog (sql-catalog.ts);
 * this class adds what is PGlite's own: the SQL sandbox, the WAL fsync after each change, and
 * vacuuming (PGlite has no autovacuum).
 */

import type { PGlite } from '@electric-sql/pglite';
import { DbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { type CatalogDir, openCatalogDir } from './catalog-dir.ts';
import { type CatalogTables, exportCatalogTables } from './catalog-export.ts';
import { ensureSchema } from './catalog-schema.ts';
import { checkedId, MAINTENANCE, MAINTENANCE_EVERY } from './catalog-sql.ts';
import { fsyncPgWal } from './fsync-wal.ts';
import { openPglite, pgliteBaseTemplate } from './pglite-open.ts';
import { SqlCatalog } from './sql-catalog.ts';
import { pgliteSqlClient } from './sql-client.ts';
import { SqlSandbox, type SqlSandboxOptions } from './sql-sandbox.ts';
import { REPLICA_COLUMNS } from './sql-sandbox-protocol.ts';
import type { SqlOptions, SqlRow } from './types.ts';

export interface PgliteCatalogOptions {
  readonly sandbox?: SqlSandboxOptions;
}

export class PgliteCatalog extends SqlCatalog {
  readonly #pg: PGlite;
  readonly #dir: CatalogDir | undefined;
  readonly #sandbox: SqlSandbox;
  #changes = 0;

  constructor(pg: PGlite, dir: CatalogDir | undefined, options: PgliteCatalogOptions = {}) {
    super(pgliteSqlClient(pg), false);
    this.#pg = pg;
    this.#dir = dir;
    this.#sandbox = new SqlSandbox(
      {
        snapshotCsv: () => this.#replicaCsv(''),
        csvFor: (ids) => this.#replicaCsv(`where uuid in (${ids.map((id) => `'${checkedId(id)}'`).join(', ')})`),
      },
      options.sandbox,
    );
  }

  /** The SQL sandbox (its `stats` show starts, restarts and sync times). */
  get sandbox(): SqlSandbox {
    return this.#sandbox;
  }

  sql(query: string, params: readonly string[], opts?: SqlOptions): Promise<SqlRow[]> {
    if (this.closed) return Promise.reject(new DbError(500, 'the catalog is closed'));
    return this.#sandbox.query(query, params, opts);
  }

  /** Both catalog tables as CSV, read in one transaction (for backups: catalog-export.ts). */
  exportTables(): Promise<CatalogTables> {
    this.assertOpen();
    return exportCatalogTables(this.#pg);
  }

  protected async shutdown(): Promise<void> {
    try {
      await this.#sandbox.close();
      await this.#pg.close();
    } finally {
      this.#dir?.release();
    }
  }

  /** Live streams as replica CSV (sql-sandbox-protocol.ts). COPY takes no parameters: see checkedId. */
  async #replicaCsv(where: string): Promise<Uint8Array> {
    const r = await this.#pg.query(
      `copy (select ${REPLICA_COLUMNS} from catalog_stream ${where}) to '/dev/blob' with (format csv)`,
    );
    return r.blob === undefined ? new Uint8Array(0) : new Uint8Array(await r.blob.arrayBuffer());
  }

  /**
   * After a committed change: tell the SQL sandbox, vacuum now and then (see MAINTENANCE_EVERY),
   * and make the commit survive power loss, not only a process crash (fsync-wal.ts).
   */
  protected async afterCommit(ids: readonly StreamId[]): Promise<void> {
    for (const id of ids) this.#sandbox.markDirty(id);
    this.#changes += ids.length;
    if (this.#changes >= MAINTENANCE_EVERY) {
      this.#changes = 0;
      // queued behind the caller's statement; later calls wait for it (PGlite runs one at a time)
      this.#pg.exec(MAINTENANCE).catch(() => undefined);
    }
    if (this.#dir) await fsyncPgWal(this.#dir.pgdata);
  }
}

/**
 * Open (or create) the catalog stored under `dir` (see catalog-dir.ts for the layout), or an
 * in-memory one when `dir` is null. 453 when another process has `dir` open.
 */
export async function openPgliteCatalog(
  dir: string | null,
  options: PgliteCatalogOptions = {},
): Promise<PgliteCatalog> {
  if (dir === null) {
    const pg = await openPglite(undefined, await pgliteBaseTemplate());
    try {
      await ensureSchema(pgliteSqlClient(pg));
      await pg.exec(MAINTENANCE);
    } catch (e) {
      await pg.close();
      throw e;
    }
    return new PgliteCatalog(pg, undefined, options);
  }
  const d = openCatalogDir(dir);
  let pg: PGlite | undefined;
  try {
    pg = d.initialised ? await openPglite(d.pgdata) : await openPglite(d.pgdata, await pgliteBaseTemplate());
    await ensureSchema(pgliteSqlClient(pg));
    await pg.exec(MAINTENANCE);
    if (!d.initialised) d.markInitialised();
    return new PgliteCatalog(pg, d, options);
  } catch (e) {
    await pg?.close().catch(() => undefined);
    d.release();
    throw e;
  }
}

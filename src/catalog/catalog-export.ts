/**
 * The catalog's tables as CSV, for backups (docs/format/backup.md): `catalog_stream` (live streams
 * with their tags, annotations and property versions) and `catalog_obliterated` (tombstones, so
 * 429 survives a restore). PostgreSQL's own COPY writes and reads them, so every value round-trips
 * exactly (NULL distiller vs '', hstore annotations, timestamps with their zone).
 */
import type { PGlite } from '@electric-sql/pglite';
import { DbError } from '../core/errors.ts';
import { openCatalogDir } from './catalog-dir.ts';
import { ensureSchema } from './catalog-schema.ts';
import { openPglite, pgliteBaseTemplate } from './pglite-open.ts';
import { pgliteSqlClient } from './sql-client.ts';

/** The two tables, each as CSV with a header line. */
export interface CatalogTables {
  readonly streams: Uint8Array;
  readonly obliterated: Uint8Array;
}

export const STREAM_COLUMNS = 'uuid, collection, name, unit, ingress, distiller, property_version, annotations';
export const OBLITERATED_COLUMNS = 'uuid, obliterated_at';

async function copyOut(pg: Pick<PGlite, 'query'>, sql: string): Promise<Uint8Array> {
  const r = await pg.query(`copy (${sql}) to '/dev/blob' with (format csv, header true)`);
  return r.blob === undefined ? new Uint8Array(0) : new Uint8Array(await r.blob.arrayBuffer());
}

/**
 * Both tables, read in ONE transaction (so they agree with each other). PGlite runs one statement
 * at a time, so catalog calls made meanwhile simply wait (~0.3 s per 100 000 streams).
 */
export async function exportCatalogTables(pg: PGlite): Promise<CatalogTables> {
  return pg.transaction(async (tx) => ({
    streams: await copyOut(tx, `select ${STREAM_COLUMNS} from catalog_stream order by uuid`),
    obliterated: await copyOut(tx, `select ${OBLITERATED_COLUMNS} from catalog_obliterated order by uuid`),
  }));
}

/**
 * Load exported tables into an EMPTY catalog (schema already made by `ensureSchema`), in one
 * transaction. A malformed CSV or a constraint violation is DbError 500 naming the table.
 */
export async function importCatalogTables(pg: PGlite, tables: CatalogTables): Promise<void> {
  await pg.transaction(async (tx) => {
    const load = async (table: string, columns: string, csv: Uint8Array): Promise<void> => {
      const n = await tx.query<{ n: number }>(`select count(*)::int as n from ${table}`);
      if ((n.rows[0]?.n ?? 0) !== 0) throw new DbError(500, `catalog table ${table} is not empty`);
      if (csv.length === 0) return;
      try {
        await tx.query(`copy ${table} (${columns}) from '/dev/blob' with (format csv, header true)`, [], {
          blob: new Blob([csv]),
        });
      } catch (e) {
        throw new DbError(500, `cannot load catalog table ${table}: ${e instanceof Error ? e.message : String(e)}`, {
          cause: e,
        });
      }
    };
    await load('catalog_stream', STREAM_COLUMNS, tables.streams);
    await load('catalog_obliterated', OBLITERATED_COLUMNS, tables.obliterated);
  });
}

/**
 * Make a new catalog directory `dir` (layout: catalog-dir.ts) holding exactly `tables`: a fresh
 * cluster from the base template, the schema, the rows, then the CATALOG marker. REQUIRES: `dir`
 * holds no catalog yet (a half-made one without marker is wiped by `openCatalogDir`).
 */
export async function createCatalogFromTables(dir: string, tables: CatalogTables): Promise<void> {
  const d = openCatalogDir(dir);
  try {
    if (d.initialised) throw new DbError(438, `${dir} already holds a catalog`);
    const pg = await openPglite(d.pgdata, await pgliteBaseTemplate());
    try {
      await ensureSchema(pgliteSqlClient(pg));
      await importCatalogTables(pg, tables);
      await pg.exec('checkpoint');
    } finally {
      await pg.close();
    }
    d.markInitialised();
  } finally {
    d.release();
  }
}

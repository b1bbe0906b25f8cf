/**
 * The embedded catalog: `Catalog` on PGlite (PostgreSQL 18 compiled to WASM, in-process). Schema in
 * catalog-schema.ts, user SQL in sql-sandbox.ts, on-disk layout in catalog-dir.ts; the prose is in
 * docs/format/catalog.md.
 *
 * Every mutation is ONE SQL statement or transaction, and every rule that two concurrent callers
 * could race on is decided by the database, not by a read-then-write in JS:
 * - 417 / 418 by unique indexes (primary key, `catalog_stream_tagset`), 429 by a NOT EXISTS on the
 *   tombstones in the same INSERT;
 * - 423 by `UPDATE … WHERE uuid = $1 AND property_version = $expected` (zero rows → re-read to tell
 *   404 from 423), so of two writers holding the same version exactly one wins — also on a
 *   PostgreSQL server with many connections.
 */

import type { PGlite } from '@electric-sql/pglite';
import { DbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { isStreamId } from '../core/uuid.ts';
import { type CatalogDir, openCatalogDir } from './catalog-dir.ts';
import { type CatalogTables, exportCatalogTables } from './catalog-export.ts';
import { ensureSchema } from './catalog-schema.ts';
import {
  BULK_CHUNK,
  checkedId,
  checkId,
  failure,
  INSERT_MANY,
  INSERT_ONE,
  MAINTENANCE,
  MAINTENANCE_EVERY,
  OBLITERATE,
} from './catalog-sql.ts';
import { fsyncPgWal } from './fsync-wal.ts';
import { lookupWhere, prefixWhere } from './lookup-sql.ts';
import { openPglite, pgliteBaseTemplate } from './pglite-open.ts';
import { SqlSandbox, type SqlSandboxOptions } from './sql-sandbox.ts';
import { REPLICA_COLUMNS } from './sql-sandbox-protocol.ts';
import { aggregateQuery, META_JSON, metaFromJson, metasFromJsonText } from './stream-row.ts';
import {
  type Catalog,
  type LookupQuery,
  type MetadataUsage,
  type NewStream,
  type SqlOptions,
  type SqlRow,
  type StreamMeta,
  TAG_KEYS,
  type TagKey,
} from './types.ts';
import {
  annotationMap,
  checkAnnotationCount,
  tagColumns,
  validateAnnotationKey,
  validateAnnotationValue,
  validateCollection,
  validateTagKey,
  validateTagValue,
} from './validate.ts';

export interface PgliteCatalogOptions {
  readonly sandbox?: SqlSandboxOptions;
}

export class PgliteCatalog implements Catalog {
  readonly #pg: PGlite;
  readonly #dir: CatalogDir | undefined;
  readonly #sandbox: SqlSandbox;
  #closed = false;
  #changes = 0;

  constructor(pg: PGlite, dir: CatalogDir | undefined, options: PgliteCatalogOptions = {}) {
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

  async create(meta: NewStream): Promise<StreamMeta> {
    this.#open();
    checkId(meta.id);
    validateCollection(meta.collection);
    const cols = tagColumns(meta.tags);
    const ann = annotationMap(meta.annotations);
    let m: StreamMeta | undefined;
    try {
      const r = await this.#pg.query<{ m: unknown }>(INSERT_ONE, [
        meta.id,
        meta.collection,
        cols.name,
        cols.unit,
        cols.ingress,
        cols.distiller,
        JSON.stringify(ann),
      ]);
      m = r.rows[0] === undefined ? undefined : metaFromJson(r.rows[0].m);
    } catch (e) {
      throw failure(e, `create of ${meta.id}`, meta.collection, cols);
    }
    if (m === undefined) throw new DbError(429, `stream ${meta.id} was obliterated; its uuid cannot be reused`);
    this.#changed(meta.id);
    await this.#durable();
    return m;
  }

  async createMany(metas: readonly NewStream[]): Promise<number> {
    this.#open();
    const rows = metas.map((meta) => {
      checkId(meta.id);
      validateCollection(meta.collection);
      const c = tagColumns(meta.tags);
      return [meta.id, meta.collection, c.name, c.unit, c.ingress, c.distiller, annotationMap(meta.annotations)];
    });
    try {
      await this.#pg.transaction(async (tx) => {
        for (let i = 0; i < rows.length; i += BULK_CHUNK) {
          const chunk = rows.slice(i, i + BULK_CHUNK);
          const r = await tx.query(INSERT_MANY, [JSON.stringify(chunk)]);
          if ((r.affectedRows ?? 0) !== chunk.length) {
            const ids = chunk.map((row) => row[0]);
            const o = await tx.query<{ uuid: string }>(
              'select uuid::text as uuid from catalog_obliterated where uuid = any($1::uuid[]) limit 1',
              [ids],
            );
            throw new DbError(429, `stream ${o.rows[0]?.uuid ?? '?'} was obliterated; its uuid cannot be reused`);
          }
        }
      });
    } catch (e) {
      throw failure(e, 'bulk create', '(batch)');
    }
    this.#changed(...metas.map((meta) => meta.id));
    await this.#durable();
    return metas.length;
  }

  async get(id: StreamId): Promise<StreamMeta | undefined> {
    this.#open();
    if (typeof id !== 'string' || !isStreamId(id)) return undefined;
    const r = await this.#pg.query<{ m: unknown }>(`select ${META_JSON} as m from catalog_stream where uuid = $1`, [
      id,
    ]);
    return r.rows[0] === undefined ? undefined : metaFromJson(r.rows[0].m);
  }

  async isObliterated(id: StreamId): Promise<boolean> {
    this.#open();
    if (typeof id !== 'string' || !isStreamId(id)) return false;
    const r = await this.#pg.query('select 1 from catalog_obliterated where uuid = $1', [id]);
    return r.rows.length > 0;
  }

  async setAnnotations(
    id: StreamId,
    expectedPropertyVersion: number,
    changes: Readonly<Record<string, string | null>>,
    removals: readonly string[],
  ): Promise<StreamMeta> {
    this.#open();
    checkId(id);
    const upsert: Record<string, string> = {};
    const remove: string[] = [];
    for (const [k, v] of Object.entries(changes)) {
      validateAnnotationKey(k);
      if (v === null) remove.push(k);
      else {
        validateAnnotationValue(k, v);
        upsert[k] = v;
      }
    }
    for (const k of removals) {
      validateAnnotationKey(k);
      remove.push(k);
    }
    if (Object.keys(upsert).length > 0) {
      // The per-stream count limit, against the version the change is based on (if another
      // change lands in between, the update below fails 423 anyway).
      const current = await this.get(id);
      if (current !== undefined && current.propertyVersion === expectedPropertyVersion) {
        const keys = new Set([...Object.keys(current.annotations), ...Object.keys(upsert)]);
        for (const k of remove) keys.delete(k);
        checkAnnotationCount(keys.size);
      }
    }
    const sql = `
      update catalog_stream
         set annotations = nullif((coalesce(annotations, ''::hstore) || coalesce(catalog_hstore($3::jsonb), ''::hstore))
                                  - $4::text[], ''::hstore),
             property_version = property_version + 1
       where uuid = $1 and property_version = $2
      returning ${META_JSON} as m`;
    return this.#conditionalUpdate(id, expectedPropertyVersion, sql, [JSON.stringify(upsert), remove], '');
  }

  async setTags(
    id: StreamId,
    expectedPropertyVersion: number,
    tags: Readonly<Record<string, string | null>>,
    collection: string,
    remove: readonly string[],
  ): Promise<StreamMeta> {
    this.#open();
    checkId(id);
    if (collection !== '') validateCollection(collection);
    const plan = new Map<TagKey, string | null>();
    for (const [k, v] of Object.entries(tags)) {
      const key = validateTagKey(k);
      if (v !== null) validateTagValue(key, v);
      plan.set(key, v);
    }
    for (const k of remove) plan.set(validateTagKey(k), null);
    const params: unknown[] = [];
    const sets = ['property_version = property_version + 1'];
    const param = (v: unknown): string => {
      params.push(v);
      return `$${params.length + 2}`;
    };
    if (collection !== '') sets.push(`collection = ${param(collection)}`);
    for (const key of TAG_KEYS) {
      if (!plan.has(key)) continue;
      const v = plan.get(key) ?? null;
      if (v !== null) sets.push(`${key} = ${param(v)}`);
      else sets.push(key === 'distiller' ? 'distiller = null' : `${key} = ''`);
    }
    const sql = `
      update catalog_stream set ${sets.join(', ')}
       where uuid = $1 and property_version = $2
      returning ${META_JSON} as m`;
    return this.#conditionalUpdate(id, expectedPropertyVersion, sql, params, collection);
  }

  async obliterate(id: StreamId): Promise<void> {
    this.#open();
    checkId(id);
    let r: { rows: unknown[] };
    try {
      r = await this.#pg.query(OBLITERATE, [id]);
    } catch (e) {
      throw failure(e, `obliterate of ${id}`, '');
    }
    if (r.rows.length === 0) throw new DbError(404, `stream ${id} not found`);
    this.#changed(id);
    await this.#durable();
  }

  async lookup(query: LookupQuery): Promise<StreamMeta[]> {
    this.#open();
    const where = lookupWhere(query);
    return metasFromJsonText(await this.#jsonText(aggregateQuery(where.sql), where.params));
  }

  async listCollections(prefix: string): Promise<string[]> {
    this.#open();
    const where = prefixWhere(prefix);
    const r = await this.#pg.query<[string]>(
      `select distinct collection from catalog_stream ${where.sql} order by collection`,
      where.params,
      { rowMode: 'array' },
    );
    return r.rows.map((row) => row[0]);
  }

  async metadataUsage(prefix: string): Promise<MetadataUsage> {
    this.#open();
    const where = prefixWhere(prefix);
    const t = await this.#pg.query<{ n: number; d: number }>(
      `select count(*)::int as n, count(distiller)::int as d from catalog_stream ${where.sql}`,
      where.params,
    );
    const a = await this.#pg.query<[string, number]>(
      `select k, count(*)::int from catalog_stream, skeys(annotations) as k ${where.sql} group by k order by k`,
      where.params,
      { rowMode: 'array' },
    );
    const n = t.rows[0]?.n ?? 0;
    const d = t.rows[0]?.d ?? 0;
    const tags: Record<string, number> = {};
    if (n > 0) Object.assign(tags, { name: n, unit: n, ingress: n });
    if (d > 0) tags.distiller = d;
    const annotations: Record<string, number> = {};
    for (const [k, c] of a.rows) annotations[k] = c;
    return { tags, annotations };
  }

  sql(query: string, params: readonly string[], opts?: SqlOptions): Promise<SqlRow[]> {
    if (this.#closed) return Promise.reject(new DbError(500, 'the catalog is closed'));
    return this.#sandbox.query(query, params, opts);
  }

  async count(): Promise<number> {
    this.#open();
    const r = await this.#pg.query<{ n: number }>('select count(*)::int as n from catalog_stream');
    return r.rows[0]?.n ?? 0;
  }

  async liveIds(): Promise<StreamId[]> {
    this.#open();
    const r = await this.#pg.query<[StreamId]>('select uuid::text from catalog_stream', [], { rowMode: 'array' });
    return r.rows.map((row) => row[0]);
  }

  /** Both catalog tables as CSV, read in one transaction (for backups: catalog-export.ts). */
  exportTables(): Promise<CatalogTables> {
    this.#open();
    return exportCatalogTables(this.#pg);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#sandbox.close();
      await this.#pg.close();
    } finally {
      this.#dir?.release();
    }
  }

  #open(): void {
    if (this.#closed) throw new DbError(500, 'the catalog is closed');
  }

  /** Live streams as replica CSV (sql-sandbox-protocol.ts). COPY takes no parameters: see checkedId. */
  async #replicaCsv(where: string): Promise<Uint8Array> {
    const r = await this.#pg.query(
      `copy (select ${REPLICA_COLUMNS} from catalog_stream ${where}) to '/dev/blob' with (format csv)`,
    );
    return r.blob === undefined ? new Uint8Array(0) : new Uint8Array(await r.blob.arrayBuffer());
  }

  async #jsonText(sql: string, params: unknown[]): Promise<string> {
    const r = await this.#pg.query<{ j: string }>(sql, params);
    return r.rows[0]?.j ?? '[]';
  }

  /**
   * Run an `UPDATE … WHERE uuid = $1 AND property_version = $2 RETURNING m` (extra params from $3)
   * and turn "no row" into 404 or 423.
   */
  async #conditionalUpdate(
    id: StreamId,
    expected: number,
    sql: string,
    params: unknown[],
    collection: string,
  ): Promise<StreamMeta> {
    let m: StreamMeta | undefined;
    if (Number.isSafeInteger(expected) && expected >= 0) {
      try {
        const r = await this.#pg.query<{ m: unknown }>(sql, [id, expected, ...params]);
        m = r.rows[0] === undefined ? undefined : metaFromJson(r.rows[0].m);
      } catch (e) {
        throw failure(e, `update of ${id}`, collection);
      }
    }
    if (m === undefined) {
      const cur = await this.#pg.query<{ v: number }>(
        'select property_version as v from catalog_stream where uuid = $1',
        [id],
      );
      const current = cur.rows[0]?.v;
      if (current === undefined) throw new DbError(404, `stream ${id} not found`);
      throw new DbError(
        423,
        `stream ${id}: expected property version ${expected}, but the current property version is ${current}`,
      );
    }
    this.#changed(id);
    await this.#durable();
    return m;
  }

  /** After a committed change: tell the SQL sandbox, and vacuum now and then (see MAINTENANCE_EVERY). */
  /** Make the last commit survive power loss, not only a process crash (fsync-wal.ts). */
  async #durable(): Promise<void> {
    if (this.#dir) await fsyncPgWal(this.#dir.pgdata);
  }

  #changed(...ids: StreamId[]): void {
    for (const id of ids) this.#sandbox.markDirty(id);
    this.#changes += ids.length;
    if (this.#changes >= MAINTENANCE_EVERY) {
      this.#changes = 0;
      // queued behind the caller's statement; later calls wait for it (PGlite runs one at a time)
      this.#pg.exec(MAINTENANCE).catch(() => undefined);
    }
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
      await ensureSchema(pg);
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
    await ensureSchema(pg);
    await pg.exec(MAINTENANCE);
    if (!d.initialised) d.markInitialised();
    return new PgliteCatalog(pg, d, options);
  } catch (e) {
    await pg?.close().catch(() => undefined);
    d.release();
    throw e;
  }
}

/**
 * The catalog's behaviour, written once over a `SqlClient` (sql-client.ts): `PgliteCatalog`
 * (embedded, pglite-catalog.ts) and `PgServerCatalog` (a PostgreSQL server, pg-server-catalog.ts)
 * are thin subclasses that add what differs — user SQL, durability, maintenance, closing.
 *
 * Every mutation is ONE SQL statement or transaction, and every rule that two concurrent callers
 * could race on is decided by the database, not by a read-then-write in JS:
 * - 417 / 418 by unique indexes (primary key, `catalog_stream_tagset`), 429 by a NOT EXISTS on the
 *   tombstones in the same INSERT — and, where several connections write at once
 *   (`concurrentWriters`), by a re-check in the same transaction after the INSERT (see `create`);
 * - 423 by `UPDATE … WHERE uuid = $1 AND property_version = $expected` (zero rows → re-read to tell
 *   404 from 423), so of two writers holding the same version exactly one wins — also on a
 *   PostgreSQL server with many connections (the row lock plus READ COMMITTED's re-evaluation of the
 *   WHERE clause on the newest row version).
 */
import { DbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { isStreamId } from '../core/uuid.ts';
import { BULK_CHUNK, checkId, failure, INSERT_MANY, INSERT_ONE, OBLITERATE } from './catalog-sql.ts';
import { lookupWhere, prefixWhere } from './lookup-sql.ts';
import type { SqlClient, SqlQueryable } from './sql-client.ts';
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

const TOMBSTONE_OF = 'select uuid::text as uuid from catalog_obliterated where uuid = any($1::uuid[]) limit 1';

function reused(id: string): DbError {
  return new DbError(429, `stream ${id} was obliterated; its uuid cannot be reused`);
}

export abstract class SqlCatalog implements Catalog {
  protected readonly db: SqlClient;
  /**
   * True when other connections may write at the same time (a server). Then create re-checks the
   * tombstones after its INSERT: under READ COMMITTED an INSERT that waited on the primary key for
   * a concurrent obliterate of the same uuid goes ahead once that obliterate commits, although
   * its NOT EXISTS was evaluated on the older snapshot; the re-check is a new statement with a new
   * snapshot, so it sees the tombstone and the create rolls back with 429. PGlite runs one
   * statement at a time, so there the single statement is enough.
   */
  protected readonly concurrentWriters: boolean;
  #closed = false;

  constructor(db: SqlClient, concurrentWriters: boolean) {
    this.db = db;
    this.concurrentWriters = concurrentWriters;
  }

  /** Called after every committed change, before the call resolves (durability, sandbox freshness). */
  protected abstract afterCommit(ids: readonly StreamId[]): Promise<void>;
  /** Release what the subclass holds; called once by `close`. */
  protected abstract shutdown(): Promise<void>;
  abstract sql(query: string, params: readonly string[], opts?: SqlOptions): Promise<SqlRow[]>;

  protected get closed(): boolean {
    return this.#closed;
  }

  protected assertOpen(): void {
    if (this.#closed) throw new DbError(500, 'the catalog is closed');
  }

  async create(meta: NewStream): Promise<StreamMeta> {
    this.assertOpen();
    checkId(meta.id);
    validateCollection(meta.collection);
    const cols = tagColumns(meta.tags);
    const params = [
      meta.id,
      meta.collection,
      cols.name,
      cols.unit,
      cols.ingress,
      cols.distiller,
      JSON.stringify(annotationMap(meta.annotations)),
    ];
    const insert = async (q: SqlQueryable): Promise<StreamMeta> => {
      const r = await q.query<{ m: unknown }>(INSERT_ONE, params);
      if (r.rows[0] === undefined) throw reused(meta.id);
      if (this.concurrentWriters && (await q.query(TOMBSTONE_OF, [[meta.id]])).rows.length > 0) throw reused(meta.id);
      return metaFromJson(r.rows[0].m);
    };
    let m: StreamMeta;
    try {
      m = this.concurrentWriters ? await this.db.transaction(insert) : await insert(this.db);
    } catch (e) {
      throw failure(e, `create of ${meta.id}`, meta.collection, cols);
    }
    await this.afterCommit([meta.id]);
    return m;
  }

  async createMany(metas: readonly NewStream[]): Promise<number> {
    this.assertOpen();
    const rows = metas.map((meta) => {
      checkId(meta.id);
      validateCollection(meta.collection);
      const c = tagColumns(meta.tags);
      return [meta.id, meta.collection, c.name, c.unit, c.ingress, c.distiller, annotationMap(meta.annotations)];
    });
    try {
      await this.db.transaction(async (tx) => {
        for (let i = 0; i < rows.length; i += BULK_CHUNK) {
          const chunk = rows.slice(i, i + BULK_CHUNK);
          const r = await tx.query(INSERT_MANY, [JSON.stringify(chunk)]);
          if (r.rowCount !== chunk.length || this.concurrentWriters) {
            const o = await tx.query<{ uuid: string }>(TOMBSTONE_OF, [chunk.map((row) => row[0])]);
            if (o.rows[0] !== undefined || r.rowCount !== chunk.length) throw reused(o.rows[0]?.uuid ?? '?');
          }
        }
      });
    } catch (e) {
      throw failure(e, 'bulk create', '(batch)');
    }
    await this.afterCommit(metas.map((meta) => meta.id));
    return metas.length;
  }

  async get(id: StreamId): Promise<StreamMeta | undefined> {
    this.assertOpen();
    if (typeof id !== 'string' || !isStreamId(id)) return undefined;
    const r = await this.db.query<{ m: unknown }>(`select ${META_JSON} as m from catalog_stream where uuid = $1`, [id]);
    return r.rows[0] === undefined ? undefined : metaFromJson(r.rows[0].m);
  }

  async isObliterated(id: StreamId): Promise<boolean> {
    this.assertOpen();
    if (typeof id !== 'string' || !isStreamId(id)) return false;
    const r = await this.db.query('select 1 from catalog_obliterated where uuid = $1', [id]);
    return r.rows.length > 0;
  }

  async setAnnotations(
    id: StreamId,
    expectedPropertyVersion: number,
    changes: Readonly<Record<string, string | null>>,
    removals: readonly string[],
  ): Promise<StreamMeta> {
    this.assertOpen();
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
    this.assertOpen();
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
    this.assertOpen();
    checkId(id);
    let r: { rows: unknown[] };
    try {
      r = await this.db.query(OBLITERATE, [id]);
    } catch (e) {
      throw failure(e, `obliterate of ${id}`, '');
    }
    if (r.rows.length === 0) throw new DbError(404, `stream ${id} not found`);
    await this.afterCommit([id]);
  }

  async lookup(query: LookupQuery): Promise<StreamMeta[]> {
    this.assertOpen();
    const where = lookupWhere(query);
    const r = await this.db.query<{ j: string }>(aggregateQuery(where.sql), where.params);
    return metasFromJsonText(r.rows[0]?.j ?? '[]');
  }

  async listCollections(prefix: string): Promise<string[]> {
    this.assertOpen();
    const where = prefixWhere(prefix);
    const r = await this.db.query<[string]>(
      `select distinct collection from catalog_stream ${where.sql} order by collection`,
      where.params,
      { rowMode: 'array' },
    );
    return r.rows.map((row) => row[0]);
  }

  async metadataUsage(prefix: string): Promise<MetadataUsage> {
    this.assertOpen();
    const where = prefixWhere(prefix);
    const t = await this.db.query<{ n: number; d: number }>(
      `select count(*)::int as n, count(distiller)::int as d from catalog_stream ${where.sql}`,
      where.params,
    );
    const a = await this.db.query<[string, number]>(
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

  async count(): Promise<number> {
    this.assertOpen();
    const r = await this.db.query<{ n: number }>('select count(*)::int as n from catalog_stream');
    return r.rows[0]?.n ?? 0;
  }

  async liveIds(): Promise<StreamId[]> {
    this.assertOpen();
    const r = await this.db.query<[StreamId]>('select uuid::text from catalog_stream', [], { rowMode: 'array' });
    return r.rows.map((row) => row[0]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.shutdown();
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
        const r = await this.db.query<{ m: unknown }>(sql, [id, expected, ...params]);
        m = r.rows[0] === undefined ? undefined : metaFromJson(r.rows[0].m);
      } catch (e) {
        throw failure(e, `update of ${id}`, collection);
      }
    }
    if (m === undefined) {
      const cur = await this.db.query<{ v: number | string }>(
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
    await this.afterCommit([id]);
    return m;
  }
}

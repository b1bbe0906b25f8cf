/**
 * The shard state of cluster mode in PostgreSQL (docs/cluster.md, docs/format/cluster-postgres.md):
 *
 * - `arbor_shard`: one row per shard — its epoch (bumped by every new owner), the owner's node id and
 *   the next free block-segment id. Taking a shard = bumping its epoch.
 * - `arbor_manifest`: each shard's version manifest (the engine's commit records: stream heads and
 *   version history) as a RecordLog, `PgRecordLog`. Every write is a transaction that first reads
 *   the shard's epoch `FOR SHARE` and aborts when it is no longer ours, so a stale owner can never
 *   commit a tree: the epoch bump (an UPDATE of the same row) waits for running commits and every
 *   later commit of the old owner sees the new epoch.
 * - `arbor_garbage`: object keys that no version references any more (compacted block segments,
 *   truncated WAL objects), deleted from the object store by the elected collector after a grace
 *   period so that reads which resolved an older root can finish.
 */
import type pg from 'pg';
import { DbError } from '../core/errors.ts';
import type { LogSyncStats, Lsn, RecordLog } from '../storage/types.ts';

export type Pool = pg.Pool;

/** Schema version of the cluster tables (checked, never silently migrated). */
const SCHEMA = `
create table if not exists arbor_shard (
  shard integer primary key,
  epoch bigint not null default 0,
  owner text not null default '',
  next_segment bigint not null default 1,
  taken_at timestamptz not null default now()
);
create table if not exists arbor_manifest (
  shard integer not null,
  lsn bigint not null,
  payload bytea not null,
  primary key (shard, lsn)
);
create table if not exists arbor_config (
  key text primary key,
  value text not null
);
create table if not exists arbor_garbage (
  key text primary key,
  shard integer not null,
  retired_at timestamptz not null default now()
);`;

/** Lock id for the schema's creation (several nodes start at once). */
const SCHEMA_LOCK = 0x4172_626f;

/** The largest segment id a block address can carry (src/storage/types.ts: id · 2^32 + offset). */
const MAX_SEGMENT_ID = 2 ** 21 - 1;

/** Framing counted per record so that LSNs are distinct byte offsets (as in the file log). */
const RECORD_OVERHEAD = 8;

export async function ensureClusterSchema(pool: Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    await c.query('select pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await c.query(SCHEMA);
    await c.query('commit');
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw pgFailure(e, 'creating the cluster tables');
  } finally {
    c.release();
  }
}

/**
 * The cluster's shard count: recorded by the first node, checked by every later one (a node with
 * another count would place streams in the wrong shards).
 */
export async function checkShardCount(pool: Pool, shards: number): Promise<void> {
  let recorded: number;
  try {
    await pool.query(`insert into arbor_config (key, value) values ('shards', $1) on conflict (key) do nothing`, [
      String(shards),
    ]);
    const r = await pool.query<{ value: string }>(`select value from arbor_config where key = 'shards'`);
    recorded = Number(r.rows[0]?.value);
  } catch (e) {
    throw pgFailure(e, 'reading the shard count');
  }
  if (recorded !== shards) {
    throw new DbError(438, `this cluster has ${recorded} shards; the node was started with --shards ${shards}`);
  }
}

/** Make `nodeId` the owner of `shard`: bump its epoch (creating the row at epoch 1). */
export async function takeShard(pool: Pool, shard: number, nodeId: string): Promise<number> {
  try {
    const r = await pool.query<{ epoch: string }>(
      `insert into arbor_shard (shard, epoch, owner) values ($1, 1, $2)
       on conflict (shard) do update set epoch = arbor_shard.epoch + 1, owner = $2, taken_at = now()
       returning epoch::text as epoch`,
      [shard, nodeId],
    );
    return Number(r.rows[0]?.epoch);
  } catch (e) {
    throw pgFailure(e, `taking shard ${shard}`);
  }
}

/** The fencing error: this node's epoch of the shard is stale. */
export function fenced(shard: number, epoch: number, what: string): DbError {
  return new DbError(453, `shard ${shard}: ${what} refused: epoch ${epoch} is stale (another node owns the shard now)`);
}

/** `n` fresh block-segment ids for the shard, refused (453) when `epoch` is no longer current. */
export async function allocateSegmentIds(pool: Pool, shard: number, epoch: number, n: number): Promise<number[]> {
  let first: number;
  try {
    const r = await pool.query<{ first: string }>(
      `update arbor_shard set next_segment = next_segment + $3
       where shard = $1 and epoch = $2 returning (next_segment - $3)::text as first`,
      [shard, epoch, n],
    );
    if (r.rows[0] === undefined) throw fenced(shard, epoch, 'segment allocation');
    first = Number(r.rows[0].first);
  } catch (e) {
    throw pgFailure(e, `allocating segment ids for shard ${shard}`);
  }
  if (first + n - 1 > MAX_SEGMENT_ID) {
    throw new DbError(426, `shard ${shard} has used all ${MAX_SEGMENT_ID} block segment ids`);
  }
  return Array.from({ length: n }, (_, i) => first + i);
}

/** Hand object keys to the collector (idempotent). */
export async function retireKeys(pool: Pool, shard: number, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  try {
    await pool.query(
      `insert into arbor_garbage (key, shard) select unnest($1::text[]), $2 on conflict (key) do nothing`,
      [keys, shard],
    );
  } catch (e) {
    throw pgFailure(e, `retiring ${keys.length} objects of shard ${shard}`);
  }
}

/** Keys retired at least `graceMs` ago (at most `limit`), for the collector. */
export async function dueGarbage(pool: Pool, graceMs: number, limit = 1000): Promise<string[]> {
  const r = await pool.query<{ key: string }>(
    `select key from arbor_garbage where retired_at < now() - make_interval(secs => $1) order by key limit $2`,
    [graceMs / 1000, limit],
  );
  return r.rows.map((row) => row.key);
}

/** Forget keys the collector has deleted from the object store. */
export async function forgetGarbage(pool: Pool, keys: readonly string[]): Promise<void> {
  if (keys.length > 0) await pool.query('delete from arbor_garbage where key = any($1::text[])', [keys]);
}

/** A DbError for a failed PostgreSQL call; DbErrors (fencing) pass through. */
export function pgFailure(e: unknown, what: string): Error {
  if (e instanceof DbError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new DbError(434, `PostgreSQL: ${what} failed: ${msg}`);
}

interface Staged {
  readonly lsn: Lsn;
  readonly payload: Uint8Array;
}

/**
 * A shard's version manifest as a RecordLog in `arbor_manifest`. LSNs are byte offsets (payload +
 * 8 per record) that continue across owners. Group commit: concurrent `sync()` calls share one
 * transaction. A write refused for a stale epoch fails with 453, permanently (`resume()` does not
 * clear it); any other failure discards the staged records like the file log does. A retry after
 * an ambiguous failure (the COMMIT may have landed) that finds its LSN taken is also 453: the
 * shard must be re-opened, and its replay decides.
 */
export class PgRecordLog implements RecordLog {
  #staged: Staged[] = [];
  #next: Lsn;
  #durable: Lsn;
  #bytes: number;
  #failure: Error | undefined;
  #fenced = false;
  #flushing: Promise<void> | null = null;
  /** Committed transactions that appended records, and those records (syncStats). */
  #syncs = 0;
  #syncedRecords = 0;

  private constructor(
    private readonly pool: Pool,
    readonly shard: number,
    readonly epoch: number,
    end: Lsn,
    bytes: number,
  ) {
    this.#next = end;
    this.#durable = end;
    this.#bytes = bytes;
  }

  static async open(pool: Pool, shard: number, epoch: number): Promise<PgRecordLog> {
    try {
      const r = await pool.query<{ end: string | null; bytes: string | null }>(
        `select (select lsn + length(payload) + ${RECORD_OVERHEAD} from arbor_manifest
                  where shard = $1 order by lsn desc limit 1)::text as end,
                (select sum(length(payload)) from arbor_manifest where shard = $1)::text as bytes`,
        [shard],
      );
      const row = r.rows[0];
      return new PgRecordLog(pool, shard, epoch, Number(row?.end ?? 0), Number(row?.bytes ?? 0));
    } catch (e) {
      throw pgFailure(e, `opening the manifest of shard ${shard}`);
    }
  }

  get durableLsn(): Lsn {
    return this.#durable;
  }

  get nextLsn(): Lsn {
    return this.#next;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  append(payload: Uint8Array): Lsn {
    if (this.#failure) throw this.#failure;
    const lsn = this.#next;
    this.#staged.push({ lsn, payload: payload.slice() });
    this.#next += payload.length + RECORD_OVERHEAD;
    return lsn;
  }

  async sync(): Promise<void> {
    const target = this.#next;
    while (this.#durable < target) {
      if (this.#failure) throw this.#failure;
      if (this.#flushing) {
        await this.#flushing.catch(() => undefined);
        continue;
      }
      this.#flushing = this.#flush();
      try {
        await this.#flushing;
      } finally {
        this.#flushing = null;
      }
    }
    if (this.#failure && this.#durable < target) throw this.#failure;
  }

  async #flush(): Promise<void> {
    const batch = this.#staged;
    this.#staged = [];
    if (batch.length === 0) return;
    const end = this.#next;
    try {
      await this.#fencedTx('manifest commit', (c) =>
        c.query(
          'insert into arbor_manifest (shard, lsn, payload) select $1, unnest($2::bigint[]), unnest($3::bytea[])',
          [this.shard, batch.map((s) => String(s.lsn)), batch.map((s) => Buffer.from(s.payload))],
        ),
      );
      this.#durable = end;
      for (const s of batch) this.#bytes += s.payload.length;
      this.#syncs++;
      this.#syncedRecords += batch.length;
    } catch (e) {
      // Everything staged is discarded (never acknowledged); the LSNs from durableLsn on are reused.
      this.#staged = [];
      this.#next = this.#durable;
      this.#failure = e instanceof Error ? e : new Error(String(e));
      if (e instanceof DbError && e.code === 453) this.#fenced = true;
      throw this.#failure;
    }
  }

  /** Run `body` in a transaction that first checks (and share-locks) the shard's epoch. */
  async #fencedTx(what: string, body: (c: pg.PoolClient) => Promise<unknown>): Promise<void> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw pgFailure(e, `shard ${this.shard} ${what}`);
    }
    let broken = false;
    try {
      await c.query('begin');
      const r = await c.query<{ epoch: string }>(
        'select epoch::text as epoch from arbor_shard where shard = $1 for share',
        [this.shard],
      );
      if (Number(r.rows[0]?.epoch) !== this.epoch) throw fenced(this.shard, this.epoch, what);
      await body(c);
      await c.query('commit');
    } catch (e) {
      await c.query('rollback').catch(() => {
        broken = true;
      });
      // 23505: our LSN is taken — an earlier COMMIT we saw fail did land. Only a re-open can tell.
      if ((e as { code?: string }).code === '23505') throw fenced(this.shard, this.epoch, `${what} (ambiguous retry)`);
      throw pgFailure(e, `shard ${this.shard} ${what}`);
    } finally {
      c.release(broken);
    }
  }

  resume(): void {
    if (!this.#fenced) this.#failure = undefined;
  }

  async *replay(from: Lsn = 0): AsyncIterable<{ readonly lsn: Lsn; readonly payload: Uint8Array }> {
    let at = from;
    for (;;) {
      let rows: { lsn: string; payload: Buffer }[];
      try {
        const r = await this.pool.query<{ lsn: string; payload: Buffer }>(
          `select lsn::text as lsn, payload from arbor_manifest
           where shard = $1 and lsn >= $2 and lsn < $3 order by arbor_manifest.lsn limit 4096`,
          [this.shard, String(at), String(this.#durable)],
        );
        rows = r.rows;
      } catch (e) {
        throw pgFailure(e, `reading the manifest of shard ${this.shard}`);
      }
      for (const row of rows) {
        const payload = new Uint8Array(row.payload.buffer, row.payload.byteOffset, row.payload.byteLength);
        yield { lsn: Number(row.lsn), payload };
      }
      const last = rows.at(-1);
      if (last === undefined || rows.length < 4096) return;
      at = Number(last.lsn) + 1;
    }
  }

  locate(lsn: Lsn): { readonly file: string; readonly offset: number } {
    return { file: `postgres arbor_manifest shard ${this.shard}`, offset: lsn };
  }

  async truncateBefore(before: Lsn): Promise<void> {
    if (this.#failure) throw this.#failure;
    await this.#fencedTx('manifest truncation', async (c) => {
      const r = await c.query<{ n: string | null }>(
        `with gone as (delete from arbor_manifest where shard = $1 and lsn < $2 returning length(payload) as n)
         select sum(n)::text as n from gone`,
        [this.shard, String(before)],
      );
      this.#bytes -= Number(r.rows[0]?.n ?? 0);
    });
  }

  async roll(): Promise<void> {
    // Rows, not files: nothing to roll.
  }

  syncStats(): LogSyncStats {
    return { syncs: this.#syncs, records: this.#syncedRecords };
  }

  bytes(): number {
    return this.#bytes;
  }

  async close(): Promise<void> {
    await this.#flushing?.catch(() => undefined);
  }
}

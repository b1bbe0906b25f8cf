/**
 * Pinned-version reads on any node (docs/cluster.md): a read-only view of a shard built from what
 * is shared — the manifest in PostgreSQL (every committed version and its root) and the immutable
 * blocks in the object store — without the owner's WAL or buffers. A version that was committed
 * never changes, so any node can answer reads of it; only "latest" (version 0), which must include
 * acknowledged but uncommitted points, needs the owner.
 *
 * A view is refreshed (re-read from PostgreSQL) when it is older than `maxAgeMs` or when it does
 * not know the stream or version asked for; a view that still cannot answer leaves the request to
 * the owner. Old views are closed a while after being replaced, so reads that started on them
 * finish.
 */
import type { Catalog } from '../catalog/types.ts';
import { DbError, isDbError } from '../core/errors.ts';
import { Database } from '../db/database.ts';
import { Engine } from '../engine/engine.ts';
import { ObjectBlockStore } from '../storage/object-block-store.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { LogSyncStats, Lsn, RecordLog } from '../storage/types.ts';
import { PgRecordLog, type Pool } from './pg-shards.ts';
import { shardOf } from './placement.ts';

/** The WAL of a view: empty, and past every LSN the manifest can name. Writes are refused. */
class NoWal implements RecordLog {
  readonly durableLsn = Number.MAX_SAFE_INTEGER;
  readonly nextLsn = Number.MAX_SAFE_INTEGER;
  readonly failure = undefined;
  append(): Lsn {
    throw readOnly();
  }
  async sync(): Promise<void> {}
  resume(): void {}
  async *replay(): AsyncIterable<{ readonly lsn: Lsn; readonly payload: Uint8Array }> {}
  locate(lsn: Lsn): { readonly file: string; readonly offset: number } {
    return { file: '(read-only view: no WAL)', offset: lsn };
  }
  async truncateBefore(): Promise<void> {}
  async roll(): Promise<void> {}
  syncStats(): LogSyncStats {
    return { syncs: 0, records: 0 };
  }
  bytes(): number {
    return 0;
  }
  async close(): Promise<void> {}
}

const readOnly = (): DbError => new DbError(453, 'a read-only shard view cannot write (the request goes to the owner)');

export interface ShardViewsOptions {
  readonly pool: Pool;
  readonly objects: ObjectStore;
  readonly catalog: Catalog;
  readonly shards: number;
  /** Re-read a view older than this before using it (ms, default 1000). */
  readonly maxAgeMs?: number;
  /** Close a replaced view after this long (ms, default 60 000). */
  readonly retireMs?: number;
}

interface View {
  readonly db: Promise<Database>;
  readonly at: number;
}

export class ShardViews {
  readonly #views = new Map<number, View>();
  readonly #retiring = new Map<NodeJS.Timeout, View>();
  #closed = false;
  /** Reads started on a view: `read` calls that it answered, and `view` hand-outs (streaming raw reads). */
  served = 0;
  /** Views opened (first open and refreshes). */
  opened = 0;

  constructor(private readonly opts: ShardViewsOptions) {}

  #open(shard: number): View {
    this.opened++;
    const { pool, objects, catalog, shards } = this.opts;
    const db = (async () => {
      // Opened first so that no version the manifest names can miss its blocks' part listing;
      // parts written later are found by the store's re-list on a miss.
      const blocks = await ObjectBlockStore.open(objects, { prefix: `blocks/${shard}` });
      const manifest = await PgRecordLog.open(pool, shard, 0);
      const engine = await Engine.open(
        { blocks, wal: new NoWal(), manifest, dir: `shard ${shard} (read-only view)` },
        { background: false },
      );
      return Database.over(engine, catalog, (id) => shardOf(id, shards) === shard, { reconcile: false });
    })();
    const view = { db, at: Date.now() };
    db.catch(() => {
      if (this.#views.get(shard) === view) this.#views.delete(shard);
    });
    return view;
  }

  #replace(shard: number, old: View | undefined): View {
    const view = this.#open(shard);
    this.#views.set(shard, view);
    if (old) {
      const t = setTimeout(() => {
        this.#retiring.delete(t);
        void old.db.then((d) => d.close()).catch(() => undefined);
      }, this.opts.retireMs ?? 60_000);
      t.unref();
      this.#retiring.set(t, old);
    }
    return view;
  }

  #current(shard: number): View {
    const v = this.#views.get(shard);
    if (v && Date.now() - v.at <= (this.opts.maxAgeMs ?? 1000)) return v;
    return this.#replace(shard, v);
  }

  /** The current view of `shard` (re-read when older than `maxAgeMs`), for a streaming read. */
  view(shard: number): Promise<Database> {
    if (this.#closed) return Promise.reject(readOnly());
    this.served++;
    return this.#current(shard).db;
  }

  /**
   * Run a pinned-version read on a view of `shard`. A view that does not know the stream or the
   * version (404, 450) is refreshed once; what it still cannot answer throws, and the caller asks
   * the owner.
   */
  async read<T>(shard: number, op: (db: Database) => Promise<T>): Promise<T> {
    if (this.#closed) throw readOnly();
    let view = this.#current(shard);
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await op(await view.db);
        this.served++;
        return r;
      } catch (e) {
        const unknown = isDbError(e, 404) || isDbError(e, 450);
        if (!unknown || attempt > 0) throw e;
        view = this.#replace(shard, view);
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#retiring.keys()) clearTimeout(t);
    const all = [...this.#views.values(), ...this.#retiring.values()];
    this.#retiring.clear();
    this.#views.clear();
    await Promise.all(all.map((v) => v.db.then((d) => d.close()).catch(() => undefined)));
  }
}

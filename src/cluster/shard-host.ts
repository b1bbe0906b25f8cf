/**
 * The shards a node owns, each an ordinary `Engine` over remote storage (docs/cluster.md):
 * blocks in the object store (`blocks/<shard>/…`), the WAL in the object store (`wal/<shard>/…`),
 * the manifest in PostgreSQL (`arbor_manifest`), wrapped in a `Database` with the shared catalog.
 *
 * Taking a shard, in this order: bump its epoch in PostgreSQL (from now on the old owner's commits
 * and segment allocations are refused), open the WAL — which seals every older epoch's WAL before
 * reading it, so the old owner can no longer acknowledge anything — then the blocks and the
 * manifest, and replay. What the old owner acknowledged is in its sealed WAL or in the manifest.
 */
import type { Catalog } from '../catalog/types.ts';
import { DbError, isDbError } from '../core/errors.ts';
import { Database } from '../db/database.ts';
import { Engine, type EngineOptions } from '../engine/engine.ts';
import { ObjectBlockStore } from '../storage/object-block-store.ts';
import { ObjectRecordLog } from '../storage/object-record-log.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { RecordLog } from '../storage/types.ts';
import { allocateSegmentIds, PgRecordLog, type Pool, retireKeys, takeShard } from './pg-shards.ts';
import { shardOf } from './placement.ts';

export interface ShardHostOptions {
  readonly nodeId: string;
  readonly shards: number;
  readonly pool: Pool;
  readonly objects: ObjectStore;
  readonly catalog: Catalog;
  readonly engine?: EngineOptions;
  readonly log?: (line: string) => void;
}

interface Held {
  readonly opening: Promise<Database>;
  db: Database | null;
  epoch: number;
  /** The shard's logs once open: a fencing failure on either means another node took the shard. */
  logs: readonly RecordLog[];
}

export class ShardHost {
  readonly #held = new Map<number, Held>();
  readonly #log: (line: string) => void;

  constructor(private readonly opts: ShardHostOptions) {
    this.#log = opts.log ?? (() => undefined);
  }

  /** The shards held (open or opening). */
  held(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  /** The epoch this node holds `shard` at (0 when not held). */
  epochOf(shard: number): number {
    return this.#held.get(shard)?.epoch ?? 0;
  }

  /** The shard's database, opening the shard (a takeover) if it is not held yet. */
  acquire(shard: number): Promise<Database> {
    const h = this.#held.get(shard);
    if (h) return h.opening;
    const held: Held = { opening: this.#open(shard), db: null, epoch: 0, logs: [] };
    this.#held.set(shard, held);
    held.opening.then(
      (db) => {
        held.db = db;
      },
      () => {
        if (this.#held.get(shard) === held) this.#held.delete(shard);
      },
    );
    return held.opening;
  }

  async #open(shard: number): Promise<Database> {
    const { pool, objects, catalog, nodeId } = this.opts;
    const started = Date.now();
    const epoch = await takeShard(pool, shard, nodeId);
    const h = this.#held.get(shard);
    if (h) h.epoch = epoch;
    const retire = (keys: readonly string[]) => retireKeys(pool, shard, keys);
    const wal = await ObjectRecordLog.open(objects, { prefix: `wal/${shard}`, epoch, retire });
    const blocks = await ObjectBlockStore.open(objects, {
      prefix: `blocks/${shard}`,
      allocateSegmentIds: (n: number) => allocateSegmentIds(pool, shard, epoch, n),
      retire,
    });
    const manifest = await PgRecordLog.open(pool, shard, epoch);
    if (h) h.logs = [wal, manifest];
    const engine = await Engine.open(
      { blocks, wal, manifest, dir: `shard ${shard} (epoch ${epoch})` },
      // Old segments are handed to the collector, which waits its grace period before deleting.
      { ...this.opts.engine, retireSegmentsMs: 0 },
    );
    const db = await Database.over(engine, catalog, (id) => shardOf(id, this.opts.shards) === shard);
    this.#log(`took shard ${shard} at epoch ${epoch} in ${Date.now() - started} ms`);
    return db;
  }

  /**
   * Stop serving `shard`: commit what can still be committed (a fenced engine commits nothing)
   * and close its engine. The next owner replays the WAL either way.
   */
  async release(shard: number, why: string): Promise<void> {
    const h = this.#held.get(shard);
    if (!h) return;
    this.#held.delete(shard);
    try {
      const db = await h.opening;
      await db.close();
      this.#log(`released shard ${shard} (epoch ${h.epoch}): ${why}`);
    } catch (e) {
      this.#log(`released shard ${shard} (epoch ${h.epoch}): ${why}; close: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** The database of a held, open shard; 453 while it is not held here. */
  async local(shard: number): Promise<Database> {
    const h = this.#held.get(shard);
    if (!h) throw new DbError(453, `shard ${shard} is not owned by node ${this.opts.nodeId}`);
    try {
      return await h.opening;
    } catch (e) {
      if (isDbError(e, 453)) throw e;
      throw new DbError(453, `shard ${shard} failed to open on node ${this.opts.nodeId}: ${errorText(e)}`);
    }
  }

  /** Held shards whose WAL or manifest was fenced (453): another node has taken them. */
  fenced(): number[] {
    return [...this.#held].filter(([, h]) => h.logs.some((l) => isDbError(l.failure, 453))).map(([shard]) => shard);
  }

  async closeAll(why: string): Promise<void> {
    await Promise.all(this.held().map((s) => this.release(s, why)));
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

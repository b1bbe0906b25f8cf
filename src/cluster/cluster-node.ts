/**
 * One node of a cluster (docs/cluster.md): it registers in etcd, follows the live member set,
 * holds the shards rendezvous hashing gives it (`ShardHost`), routes every stream request to the
 * shard's owner (`ClusterBackend` via `route`), and — when elected — deletes retired objects.
 *
 * Safety never depends on the membership view: a node holding a shard it no longer owns is fenced
 * by the epoch in PostgreSQL and by the sealed WAL. The view decides only who *tries* to serve a
 * shard. A node whose own lease lapsed (it was paused, or cut off from etcd) drops every shard at
 * once and re-joins.
 */
import type { Catalog } from '../catalog/types.ts';
import { DbError, isDbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import type { Backend } from '../db/backend.ts';
import type { EngineOptions } from '../engine/engine.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { ClusterBackend, type ShardRouter, unowned } from './cluster-backend.ts';
import { checkShardCount, dueGarbage, ensureClusterSchema, forgetGarbage, type Pool } from './pg-shards.ts';
import { ownerOf, shardOf } from './placement.ts';
import { ShardViews } from './replica.ts';
import { ShardHost } from './shard-host.ts';

/** What a node publishes about itself in etcd. */
export interface MemberInfo {
  /** host:port of the node's internal gRPC endpoint (forwarded requests). */
  readonly internal: string;
  /** host:port of its public gRPC endpoint, and its HTTP address, for operators. */
  readonly grpc?: string;
  readonly http?: string;
}

/** The membership service as the node uses it (etcd leases: membership.ts). */
export interface MemberSource {
  /** Live members: node id → what it published. */
  members(): ReadonlyMap<string, MemberInfo>;
  /** False once this node's own lease may have expired (no keepalive for a whole TTL). */
  isLive(): boolean;
  /** Called on every change of the member set (and of our own liveness). */
  onChange(listener: () => void): void;
  leave(): Promise<void>;
}

/** Leader election for the one garbage collector (election.ts). */
export interface Leadership {
  isLeader(): boolean;
  resign(): Promise<void>;
}

export interface ClusterNodeOptions {
  readonly nodeId: string;
  readonly shards: number;
  readonly pool: Pool;
  readonly catalog: Catalog;
  readonly objects: ObjectStore;
  readonly membership: MemberSource;
  readonly leadership?: Leadership;
  /** Opens a Backend to another node's internal endpoint. */
  readonly connect: (internal: string) => Promise<Backend & { close(): Promise<void> }>;
  readonly engine?: EngineOptions;
  /** How long retired objects stay before the collector deletes them (ms, default 10 min). */
  readonly gcGraceMs?: number;
  /** How long a user request keeps retrying while its shard changes owner (ms, default 20 000). */
  readonly routeTimeoutMs?: number;
  /** Compact every held shard this often (ms; 0 = never, the default), as `--compact-every`. */
  readonly compactEveryMs?: number;
  /** Placement check period (ms, default 250); membership changes also trigger one. */
  readonly tickMs?: number;
  readonly log?: (line: string) => void;
}

/** How long a node waits before re-taking a shard that another node fenced it out of. */
const FENCED_COOLDOWN_MS = 2000;

export class ClusterNode implements ShardRouter {
  readonly shards: number;
  readonly host: ShardHost;
  /** The Backend users talk to (any node, any request). */
  readonly backend: ClusterBackend;
  /** The Backend of the internal port: this node's own shards only (453 for any other). */
  readonly internal: ClusterBackend;
  /** Read-only views of other nodes' shards, for pinned-version reads (replica.ts). */
  readonly views: ShardViews;
  readonly #remotes = new Map<string, Promise<Backend & { close(): Promise<void> }>>();
  readonly #log: (line: string) => void;
  #timer: NodeJS.Timeout | null = null;
  #gcTimer: NodeJS.Timeout | null = null;
  #compactTimer: NodeJS.Timeout | null = null;
  #compacting: Promise<void> | null = null;
  #ticking: Promise<void> | null = null;
  #again = false;
  #closed = false;
  #wasLive = true;
  /** Shards not to take again before this time (ms): they were fenced while we held them. */
  readonly #cooldown = new Map<number, number>();

  private constructor(private readonly opts: ClusterNodeOptions) {
    this.shards = opts.shards;
    this.#log = opts.log ?? (() => undefined);
    this.host = new ShardHost({
      nodeId: opts.nodeId,
      shards: opts.shards,
      pool: opts.pool,
      objects: opts.objects,
      catalog: opts.catalog,
      ...(opts.engine ? { engine: opts.engine } : {}),
      log: this.#log,
    });
    this.views = new ShardViews({ pool: opts.pool, objects: opts.objects, catalog: opts.catalog, shards: opts.shards });
    this.backend = new ClusterBackend(
      opts.catalog,
      this,
      opts.routeTimeoutMs === undefined ? {} : { routeTimeoutMs: opts.routeTimeoutMs },
    );
    const localOnly: ShardRouter = {
      shards: this.shards,
      shardOf: (id) => this.shardOf(id),
      route: (shard) => this.#local(shard),
    };
    // A forwarded request waits a little while the shard opens here, then says 453 (re-route).
    this.internal = new ClusterBackend(opts.catalog, localOnly, { routeTimeoutMs: 3000 });
  }

  static async start(opts: ClusterNodeOptions): Promise<ClusterNode> {
    await ensureClusterSchema(opts.pool);
    await checkShardCount(opts.pool, opts.shards);
    const node = new ClusterNode(opts);
    opts.membership.onChange(() => node.#kick());
    node.#timer = setInterval(() => node.#kick(), opts.tickMs ?? 250);
    node.#timer.unref();
    node.#gcTimer = setInterval(() => void node.collect().catch((e) => node.#log(`collector: ${text(e)}`)), 5000);
    node.#gcTimer.unref();
    const every = opts.compactEveryMs ?? 0;
    if (every > 0) {
      node.#compactTimer = setInterval(() => {
        node.#compacting ??= node.compactHeld().finally(() => {
          node.#compacting = null;
        });
      }, every);
      node.#compactTimer.unref();
    }
    node.#kick();
    return node;
  }

  get nodeId(): string {
    return this.opts.nodeId;
  }

  shardOf(id: StreamId): number {
    return shardOf(id, this.shards);
  }

  /** The live owner of `shard` in this node's view, or null. */
  ownerOf(shard: number): string | null {
    if (!this.opts.membership.isLive()) return null;
    return ownerOf(shard, [...this.opts.membership.members().keys()]);
  }

  /** Pinned-version reads of shards another node owns, from this node's read-only views. */
  pinned<T>(shard: number, op: (b: Backend) => Promise<T>): Promise<T> | null {
    if (this.ownerOf(shard) === this.opts.nodeId || this.#closed) return null;
    return this.views.read(shard, op);
  }

  view(shard: number): Promise<Backend> | null {
    if (this.ownerOf(shard) === this.opts.nodeId || this.#closed) return null;
    return this.views.view(shard);
  }

  async route(shard: number): Promise<Backend> {
    const owner = this.ownerOf(shard);
    if (owner === null) throw unowned(shard);
    if (owner === this.opts.nodeId) return this.#local(shard);
    const info = this.opts.membership.members().get(owner);
    if (!info) throw unowned(shard);
    return this.#remote(owner, info.internal);
  }

  async #local(shard: number): Promise<Backend> {
    // Open on demand when this node owns the shard but the placement tick has not run yet.
    const cooling = (this.#cooldown.get(shard) ?? 0) > Date.now();
    if (this.ownerOf(shard) === this.opts.nodeId && !this.#closed && !cooling)
      void this.host.acquire(shard).catch(() => undefined);
    return this.host.local(shard);
  }

  #remote(nodeId: string, internal: string): Promise<Backend> {
    const key = `${nodeId}@${internal}`;
    let p = this.#remotes.get(key);
    if (!p) {
      p = this.opts.connect(internal);
      this.#remotes.set(key, p);
      // A failed connect is not cached; the next request tries again (as a 453: re-route).
      p.catch(() => this.#remotes.delete(key));
    }
    return p.catch((e: unknown) => {
      throw unownedBecause(e, nodeId, internal);
    });
  }

  #kick(): void {
    if (this.#closed) return;
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    this.#ticking = this.#tick()
      .catch((e) => this.#log(`placement: ${text(e)}`))
      .finally(() => {
        this.#ticking = null;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        }
      });
  }

  /** Bring the held shards in line with the member set. */
  async #tick(): Promise<void> {
    const m = this.opts.membership;
    if (!m.isLive()) {
      if (this.#wasLive) this.#log('own lease lost: releasing every shard');
      this.#wasLive = false;
      await this.host.closeAll('this node lost its etcd lease');
      return;
    }
    this.#wasLive = true;
    const fenced = new Set(this.host.fenced());
    const held = new Set(this.host.held());
    const work: Promise<unknown>[] = [];
    const now = Date.now();
    for (let s = 0; s < this.shards; s++) {
      const mine = this.ownerOf(s) === this.opts.nodeId;
      if (held.has(s) && (!mine || fenced.has(s))) {
        // Fenced while we still think it ours: our view is behind. Wait a moment before taking
        // it back, so that two nodes with different views do not keep taking it from each other.
        if (fenced.has(s)) this.#cooldown.set(s, now + FENCED_COOLDOWN_MS);
        work.push(this.host.release(s, mine ? 'fenced by a newer epoch' : 'placement moved it'));
      } else if (!held.has(s) && mine && (this.#cooldown.get(s) ?? 0) <= now) {
        work.push(this.host.acquire(s).catch((e) => this.#log(`shard ${s}: open failed: ${text(e)}`)));
      }
    }
    await Promise.all(work);
    // Forget connections to nodes that left.
    for (const [key, p] of this.#remotes) {
      const id = key.slice(0, key.indexOf('@'));
      if (!m.members().has(id)) {
        this.#remotes.delete(key);
        void p.then((b) => b.close()).catch(() => undefined);
      }
    }
  }

  /** Compact the held shards one after another (retention, then space); the collector deletes later. */
  async compactHeld(): Promise<void> {
    for (const shard of this.host.held()) {
      if (this.#closed) return;
      try {
        const r = await (await this.host.local(shard)).compact();
        if (r.segmentsReclaimed > 0) {
          this.#log(
            `shard ${shard}: compaction retired ${r.segmentsReclaimed} segments (${r.blocksMoved} blocks moved)`,
          );
        }
      } catch (e) {
        this.#log(`shard ${shard}: compaction failed: ${text(e)}`);
      }
    }
  }

  /** The collector: when leader, delete objects retired longer ago than the grace period. */
  async collect(): Promise<number> {
    if (this.#closed || !this.opts.leadership?.isLeader()) return 0;
    let deleted = 0;
    for (;;) {
      const keys = await dueGarbage(this.opts.pool, this.opts.gcGraceMs ?? 600_000);
      if (keys.length === 0) return deleted;
      await this.opts.objects.delete(keys);
      await forgetGarbage(this.opts.pool, keys);
      deleted += keys.length;
      this.#log(`collector: deleted ${keys.length} retired objects`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#gcTimer) clearInterval(this.#gcTimer);
    if (this.#compactTimer) clearInterval(this.#compactTimer);
    await this.#compacting;
    await this.#ticking;
    // Commit and close our shards while we still own them, then leave: the next owners replay less.
    await this.views.close();
    await this.host.closeAll('node stopping');
    await this.opts.membership.leave().catch(() => undefined);
    await this.opts.leadership?.resign().catch(() => undefined);
    for (const p of this.#remotes.values()) await p.then((b) => b.close()).catch(() => undefined);
    this.#remotes.clear();
  }
}

const text = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function unownedBecause(e: unknown, nodeId: string, internal: string): Error {
  if (isDbError(e, 453)) return e;
  return new DbError(453, `node ${nodeId} (${internal}) cannot be reached: ${text(e)}`);
}

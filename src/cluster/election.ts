/**
 * Leader election on etcd, e.g. for the one garbage collector of a cluster.
 *
 * The leader is whoever holds the key `/arbor/<cluster>/election/<name>` (value: its node id),
 * created by a transaction "if the key does not exist, put it attached to my lease". Candidates
 * that lose poll the key every `pollMs` and campaign again as soon as it is gone — deleted by
 * `resign()` or by etcd when the leader's lease expired (leader dead, paused or cut off).
 *
 * `isLeader()` holds only while the key is ours AND our lease is proven alive on the local
 * monotonic clock (lease-keeper.ts): a leader that was paused longer than the TTL stops
 * considering itself leader the moment it runs again, before etcd has even told it anything.
 */
import { EventEmitter } from 'node:events';
import { DbError } from '../core/errors.ts';
import type { EtcdClient } from './etcd-client.ts';
import { LeaseKeeper } from './lease-keeper.ts';

export interface ElectionOptions {
  readonly client: EtcdClient;
  /** Cluster name: keys live under `/arbor/<cluster>/election/`. */
  readonly cluster: string;
  /** Lease TTL, whole seconds (default 3). */
  readonly ttlSeconds?: number;
  /** Period of the campaign loop (retry, watch the leader key), ms (default 250). */
  readonly pollMs?: number;
}

export interface ElectionEvents {
  /** This candidate became leader. */
  elected: [];
  /** This candidate stopped being leader (lease lost or resigned). */
  'leadership-lost': [reason: string];
  /** The leader seen by this candidate changed (node id or null when vacant). */
  'leader-change': [leader: string | null];
  /** A background step failed; the campaign keeps going. */
  'error-event': [error: Error];
}

const NAME_RE = /^[A-Za-z0-9._:@-]{1,200}$/;

export const electionKey = (cluster: string, name: string): string => `/arbor/${cluster}/election/${name}`;

export class Election extends EventEmitter<ElectionEvents> {
  readonly cluster: string;
  readonly ttlSeconds: number;
  readonly pollMs: number;
  private readonly client: EtcdClient;
  private key: string | null = null;
  private nodeId: string | null = null;
  private keeper: LeaseKeeper | null = null;
  private leading = false;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private seenLeader: string | null = null;

  constructor(options: ElectionOptions) {
    super();
    if (!NAME_RE.test(options.cluster)) throw new DbError(438, `bad cluster name ${JSON.stringify(options.cluster)}`);
    this.client = options.client;
    this.cluster = options.cluster;
    this.ttlSeconds = options.ttlSeconds ?? 3;
    this.pollMs = options.pollMs ?? 250;
  }

  /**
   * Stand as `nodeId` in election `name` and keep standing until `resign()`. Resolves after the
   * first attempt (check `isLeader()` or wait for 'elected').
   */
  async campaign(name: string, nodeId: string): Promise<void> {
    if (!NAME_RE.test(name)) throw new DbError(438, `bad election name ${JSON.stringify(name)}`);
    if (!NAME_RE.test(nodeId)) throw new DbError(438, `bad node id ${JSON.stringify(nodeId)}`);
    if (this.running) throw new DbError(421, `election: already campaigning as ${this.nodeId}`);
    this.key = electionKey(this.cluster, name);
    this.nodeId = nodeId;
    this.running = true;
    await this.step();
  }

  /** True while this candidate holds the leader key under a lease proven alive locally. */
  isLeader(): boolean {
    return this.leading && this.keeper?.isLive() === true;
  }

  /** The current leader's node id as stored in etcd, or null when vacant. */
  async leader(): Promise<string | null> {
    if (this.key === null) return null;
    return (await this.client.get(this.key))?.value ?? null;
  }

  /** Stop campaigning; if leader, delete the key (only if it is still ours) and revoke the lease. */
  async resign(): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.loop?.catch(() => undefined);
    const k = this.keeper;
    this.keeper = null;
    const wasLeader = this.leading;
    this.leading = false;
    if (k !== null && this.key !== null) {
      try {
        await this.client.txn(
          [{ key: this.key, target: 'LEASE', result: 'EQUAL', lease: k.id }],
          [{ delete: { key: this.key } }],
        );
      } catch {
        // the revoke below deletes it as well
      }
      await k.revoke();
    }
    if (wasLeader) this.emit('leadership-lost', 'resigned');
  }

  private schedule(): void {
    if (!this.running || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.step();
    }, this.pollMs);
    this.timer.unref();
  }

  private step(): Promise<void> {
    const run = (async () => {
      try {
        await this.attempt();
      } catch (e) {
        this.emit('error-event', e instanceof Error ? e : new Error(String(e)));
      }
      this.loop = null;
      this.schedule();
    })();
    this.loop = run;
    return run;
  }

  private noteLeader(leader: string | null): void {
    if (leader !== this.seenLeader) {
      this.seenLeader = leader;
      this.emit('leader-change', leader);
    }
  }

  private async attempt(): Promise<void> {
    const key = this.key;
    const nodeId = this.nodeId;
    if (!this.running || key === null || nodeId === null) return;
    if (this.keeper === null || !this.keeper.isLive()) {
      const old = this.keeper;
      this.keeper = null;
      if (old !== null) await old.revoke();
      const keeper: LeaseKeeper = await LeaseKeeper.grant({
        client: this.client,
        ttlSeconds: this.ttlSeconds,
        onLost: (reason) => this.lost(keeper, reason),
      });
      if (!this.running) {
        await keeper.revoke();
        return;
      }
      this.keeper = keeper;
    }
    const lease = this.keeper.id;
    if (this.leading) {
      // Still ours? (an operator may have deleted the key)
      const kv = await this.client.get(key);
      if (kv === null || kv.lease !== lease) {
        this.leading = false;
        this.emit('leadership-lost', 'the leader key was deleted or replaced');
      } else return;
    }
    const r = await this.client.txn(
      [{ key, target: 'CREATE', result: 'EQUAL', revision: 0n }],
      [{ put: { key, value: nodeId, lease } }],
      [{ range: { key } }],
    );
    let holder: { value: string; lease: bigint } | null = null;
    if (r.succeeded) holder = { value: nodeId, lease };
    else {
      const first = r.responses[0];
      const kv = first?.kind === 'range' ? first.kvs[0] : undefined;
      if (kv !== undefined) holder = kv;
    }
    // A retried txn whose first attempt landed reads back our own key: that is a win too.
    if (holder !== null && holder.lease === lease && this.running && this.keeper?.id === lease) {
      this.noteLeader(nodeId);
      if (!this.leading) {
        this.leading = true;
        this.emit('elected');
      }
      return;
    }
    this.noteLeader(holder?.value ?? null);
  }

  private lost(keeper: LeaseKeeper, reason: string): void {
    if (this.keeper !== keeper) return;
    if (this.leading) {
      this.leading = false;
      this.emit('leadership-lost', reason);
    }
    // The next step revokes the old lease (deleting the key if etcd still has it) and re-grants.
    if (this.running && this.loop === null && this.timer === null) this.schedule();
  }
}

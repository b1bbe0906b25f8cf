/**
 * Cluster membership on etcd. A node joins by putting `/arbor/<cluster>/members/<nodeId>` (value:
 * JSON `MemberInfo`) attached to a lease of `ttlSeconds` (default 3) that it renews every TTL/6.
 * A node that dies, pauses or is cut off stops renewing; etcd deletes its key when the lease
 * expires, and every other node sees it gone at its next poll — within TTL + poll period.
 *
 * Every node (member or observer) polls the member prefix every `pollMs` (default 250) and emits
 * 'change' with the sorted live set when it differs; `members()` / `memberIds()` answer from the
 * last poll. A key whose value is not a JSON object of strings is ignored.
 *
 * A node also judges ITSELF: `isLive()` is false as soon as no keepalive has been acknowledged
 * for a whole TTL (on the local monotonic clock, see lease-keeper.ts) — etcd may have expired
 * its lease and handed its shards to others, so it must stop acting as an owner. The loss is
 * reported ('lease-lost' event, then the awaited `onLeaseLost` hook, in which the node drops its
 * shards); only after that does the membership revoke the old lease and join again with a new
 * one ('rejoined').
 */
import { EventEmitter } from 'node:events';
import { DbError } from '../core/errors.ts';
import type { EtcdClient, KeyValue } from './etcd-client.ts';
import { LeaseKeeper } from './lease-keeper.ts';

/**
 * What a node publishes about itself (stored as JSON). Any object of string fields can be used
 * through the type parameter of `Membership`; this is the default shape.
 */
export interface MemberInfo {
  /** gRPC address `host:port` of the node. */
  readonly grpc: string;
  /** HTTP API address `host:port`, if served. */
  readonly http?: string;
}

export interface MembershipOptions {
  readonly client: EtcdClient;
  /** Cluster name: the key prefix `/arbor/<cluster>/`. */
  readonly cluster: string;
  /** Lease TTL, whole seconds (default 3). */
  readonly ttlSeconds?: number;
  /** Period of the member-list poll, ms (default 250). */
  readonly pollMs?: number;
  /**
   * Awaited after the node's own lease was lost and before it joins again: drop every shard here.
   * Errors thrown are reported as 'error-event' and do not stop the rejoin.
   */
  readonly onLeaseLost?: (reason: string) => void | Promise<void>;
}

export interface MembershipEvents {
  /** The live member set, or what a member published, changed (sorted node ids). */
  change: [members: readonly string[]];
  /** This node's lease is, or may be, gone; it is not a member until 'rejoined'. */
  'lease-lost': [reason: string];
  /** This node is a member again, under a new lease. */
  rejoined: [];
  /** A background step failed (poll, rejoin); the membership keeps trying. */
  'error-event': [error: Error];
}

const NAME_RE = /^[A-Za-z0-9._:@-]{1,200}$/;

function checkName(what: string, name: string): void {
  if (!NAME_RE.test(name)) {
    throw new DbError(438, `${what} must be 1–200 characters of [A-Za-z0-9._:@-], got ${JSON.stringify(name)}`);
  }
}

/** The etcd key prefix under which the members of `cluster` are registered. */
export const membersPrefix = (cluster: string): string => `/arbor/${cluster}/members/`;

/** The published info of a member key: a JSON object whose fields are all strings, else null. */
function parseInfo(kv: KeyValue): Record<string, string> | null {
  let o: unknown;
  try {
    o = JSON.parse(kv.value);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return null;
  for (const v of Object.values(o)) if (typeof v !== 'string') return null;
  return o as Record<string, string>;
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export class Membership<I extends object = MemberInfo> extends EventEmitter<MembershipEvents> {
  readonly cluster: string;
  readonly ttlSeconds: number;
  readonly pollMs: number;
  private readonly client: EtcdClient;
  private readonly prefix: string;
  private readonly onLeaseLost: ((reason: string) => void | Promise<void>) | undefined;
  private live: readonly string[] = [];
  private signature = '[]';
  private infos: ReadonlyMap<string, I> = new Map();
  private pollTimer: NodeJS.Timeout | null = null;
  private pollingOn = false;
  private self: { nodeId: string; info: I } | null = null;
  private keeper: LeaseKeeper | null = null;
  private left = false;
  private lostAt: number | null = null;
  private rejoining: Promise<void> | null = null;
  private lostKeeper: LeaseKeeper | null = null;

  constructor(options: MembershipOptions) {
    super();
    checkName('cluster name', options.cluster);
    this.client = options.client;
    this.cluster = options.cluster;
    this.ttlSeconds = options.ttlSeconds ?? 3;
    this.pollMs = options.pollMs ?? 250;
    this.prefix = membersPrefix(options.cluster);
    this.onLeaseLost = options.onLeaseLost;
  }

  /** The live members as of the last poll: node id → published info, keys in sorted order. */
  members(): ReadonlyMap<string, I> {
    return this.infos;
  }

  /** The live members' node ids, sorted, as of the last poll. */
  memberIds(): readonly string[] {
    return this.live;
  }

  /**
   * Call `listener` on every change of the member set and of this node's own liveness
   * ('change', 'lease-lost', 'rejoined').
   */
  onChange(listener: () => void): void {
    this.on('change', () => listener());
    this.on('lease-lost', () => listener());
    this.on('rejoined', () => listener());
  }

  /** This node's id once joined, else null. */
  get nodeId(): string | null {
    return this.self?.nodeId ?? null;
  }

  /**
   * True while this node is joined and its lease is proven alive on the local clock. A node for
   * which this is false must not act as a shard owner.
   */
  isLive(): boolean {
    return this.keeper?.isLive() === true;
  }

  /** Milliseconds since this node's last acknowledged keepalive (null when not joined). */
  sinceRenewalMs(): number | null {
    return this.keeper?.sinceRenewalMs() ?? null;
  }

  /** Date.now() when this node last found its own lease lost, or null if never. */
  get lostLeaseAt(): number | null {
    return this.lostAt;
  }

  /** Start polling the member list without joining (an observer). Resolves after the first poll. */
  async start(): Promise<void> {
    if (this.pollingOn) return;
    this.pollingOn = true;
    await this.poll();
  }

  /**
   * Join as `nodeId` with the given addresses: grant a lease, put the member key, start keepalives
   * and polling. Resolves when the key is in etcd and the first poll is done.
   */
  async join(nodeId: string, info: I): Promise<void> {
    checkName('node id', nodeId);
    if (this.self !== null) throw new DbError(421, `membership: already joined as ${this.self.nodeId}`);
    const self = { nodeId, info };
    this.self = self;
    this.left = false;
    try {
      await this.register();
    } catch (e) {
      if (this.self === self) this.self = null;
      throw e;
    }
    await this.start();
  }

  /** Leave: stop keepalives and polling, revoke the lease (etcd deletes the key at once). */
  async leave(): Promise<void> {
    this.left = true;
    this.close();
    const k = this.keeper;
    this.keeper = null;
    this.self = null;
    if (k !== null) await k.revoke();
    await this.rejoining?.catch(() => undefined);
  }

  /** Stop polling (observers); a joined node should call `leave()`. */
  close(): void {
    this.pollingOn = false;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  /** Poll now and return the live set. */
  async refresh(): Promise<readonly string[]> {
    const { kvs } = await this.client.range(this.prefix, { prefix: true });
    const found = new Map<string, I>();
    for (const kv of kvs) {
      const id = kv.key.slice(this.prefix.length);
      const info = parseInfo(kv);
      if (id !== '' && info !== null) found.set(id, info as I);
    }
    const next = [...found.keys()].sort();
    this.infos = new Map(next.map((id) => [id, found.get(id)!]));
    const infos = this.infos;
    // Someone deleted our key while our lease lives (an operator, a test): put it back.
    const self = this.self;
    const k = this.keeper;
    if (self !== null && k !== null && k.isLive() && !infos.has(self.nodeId)) {
      await this.client.put(this.prefix + self.nodeId, JSON.stringify(self.info), { lease: k.id });
    }
    const signature = JSON.stringify([...infos]);
    if (!sameList(next, this.live) || signature !== this.signature) {
      this.live = next;
      this.signature = signature;
      this.emit('change', next);
    }
    return next;
  }

  private async poll(): Promise<void> {
    this.pollTimer = null;
    try {
      await this.refresh();
    } catch (e) {
      this.emit('error-event', e instanceof Error ? e : new Error(String(e)));
    }
    if (this.pollingOn && this.pollTimer === null) {
      this.pollTimer = setTimeout(() => void this.poll(), this.pollMs);
      this.pollTimer.unref();
    }
  }

  private async register(): Promise<void> {
    const self = this.self;
    if (self === null) return;
    const keeper = await LeaseKeeper.grant({
      client: this.client,
      ttlSeconds: this.ttlSeconds,
      onLost: (reason) => this.leaseLost(keeper, reason),
    });
    try {
      await this.client.put(this.prefix + self.nodeId, JSON.stringify(self.info), { lease: keeper.id });
    } catch (e) {
      await keeper.revoke();
      throw e;
    }
    if (this.self !== self) {
      await keeper.revoke(); // left while registering
      return;
    }
    this.keeper = keeper;
    // Lost while the put was under way (its loss went unreported: it was not ours yet).
    if (!keeper.isLive()) this.leaseLost(keeper, keeper.lostReason ?? 'lease expired while joining');
  }

  private leaseLost(keeper: LeaseKeeper, reason: string): void {
    if (this.keeper !== keeper || this.lostKeeper === keeper) return;
    this.lostKeeper = keeper;
    keeper.stop(); // no second report from its own timers
    this.lostAt = Date.now();
    this.rejoining = this.rejoin(keeper, reason);
  }

  private async rejoin(old: LeaseKeeper, reason: string): Promise<void> {
    this.emit('lease-lost', reason);
    try {
      await this.onLeaseLost?.(reason);
    } catch (e) {
      this.emit('error-event', e instanceof Error ? e : new Error(String(e)));
    }
    // The old lease may still live at etcd (lost only by our own clock): revoke it so nobody
    // keeps seeing this node as a member of the old incarnation.
    await old.revoke();
    if (this.keeper === old) this.keeper = null;
    while (this.self !== null && !this.left) {
      try {
        await this.register();
        if (this.keeper?.isLive() === true) this.emit('rejoined');
        return;
      } catch (e) {
        this.emit('error-event', e instanceof Error ? e : new Error(String(e)));
        await new Promise((r) => setTimeout(r, this.pollMs));
      }
    }
  }
}

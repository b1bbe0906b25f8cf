/**
 * Keeps one etcd lease alive and knows, on the local monotonic clock, until when it is surely
 * still alive — the basis of "a paused or partitioned node must consider itself dead".
 *
 * A keepalive sent at local time t that etcd answers with TTL s proves the lease lives until at
 * least t + s (etcd restarts the countdown when the request arrives, which is after t). So
 * `validUntil` only ever moves to (send time + answered TTL); when the monotonic clock passes it
 * without a newer proof, the lease may have expired at etcd and the holder must act as if it had:
 * `isLive()` turns false at once (even before any timer fires, e.g. right after a SIGSTOP/SIGCONT),
 * and the loss is reported once through `onLost`. A keepalive answered with TTL 0 (the lease is
 * gone at etcd) is reported the same way. After a loss the keeper is finished; the holder grants
 * a new one (`LeaseKeeper.grant`).
 */
import { performance } from 'node:perf_hooks';
import type { EtcdClient, LeaseId } from './etcd-client.ts';

/** Delay before retrying a keepalive that no endpoint answered, ms. */
const RETRY_MS = 100;

/** The part of the etcd client a keeper uses (an in-memory fake in lease-keeper.test.ts). */
export type LeaseApi = Pick<EtcdClient, 'timeoutMs' | 'leaseGrant' | 'leaseKeepAlive' | 'leaseRevoke'>;

export interface LeaseKeeperOptions {
  readonly client: LeaseApi;
  /** Lease TTL in whole seconds. */
  readonly ttlSeconds: number;
  /** Keepalive period, ms (default TTL/6). */
  readonly intervalMs?: number;
  /** Called once when the lease is (or may be) lost; `reason` says why. */
  readonly onLost: (reason: string) => void;
}

export class LeaseKeeper {
  readonly id: LeaseId;
  readonly ttlSeconds: number;
  private readonly client: LeaseApi;
  private readonly intervalMs: number;
  private readonly onLost: (reason: string) => void;
  /** performance.now() until which the lease is proven alive. */
  private validUntil: number;
  private lastRenewed: number;
  private stopped = false;
  private lost: string | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;

  private constructor(options: LeaseKeeperOptions, id: LeaseId, grantedAt: number, ttlSeconds: number) {
    this.client = options.client;
    this.id = id;
    this.ttlSeconds = ttlSeconds;
    // TTL/6 rather than the customary TTL/3: when etcd loses its raft leader, renewals stall for
    // the election (1–2.5 s with etcd's default 1 s election timeout, measured under load), and
    // the age of the last renewal at that moment counts against the TTL too. At TTL 3 s a period
    // of 1 s left too little margin (gaps up to 3 s were measured, the lease was locally lost).
    this.intervalMs = options.intervalMs ?? Math.max(100, Math.floor((ttlSeconds * 1000) / 6));
    this.onLost = options.onLost;
    this.lastRenewed = grantedAt;
    this.validUntil = grantedAt + ttlSeconds * 1000;
    this.scheduleTick();
    this.scheduleExpiry();
  }

  /** Grant a new lease and start keeping it alive. */
  static async grant(options: LeaseKeeperOptions): Promise<LeaseKeeper> {
    const sentAt = performance.now();
    const { id, ttlSeconds } = await options.client.leaseGrant(options.ttlSeconds);
    return new LeaseKeeper(options, id, sentAt, ttlSeconds);
  }

  /** True while the lease is proven alive on the local monotonic clock and not reported lost. */
  isLive(): boolean {
    return this.lost === null && !this.stopped && performance.now() < this.validUntil;
  }

  /** Milliseconds since the last successful renewal (or the grant). */
  sinceRenewalMs(): number {
    return performance.now() - this.lastRenewed;
  }

  /** Why the lease was lost, or null. */
  get lostReason(): string | null {
    return this.lost;
  }

  /** Stop renewing (the lease then expires at etcd after its TTL unless revoked). */
  stop(): void {
    this.stopped = true;
    if (this.tickTimer !== null) clearTimeout(this.tickTimer);
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.tickTimer = this.expiryTimer = null;
  }

  /** Stop renewing and revoke the lease at etcd (deleting its keys). Best effort. */
  async revoke(): Promise<void> {
    this.stop();
    try {
      await this.client.leaseRevoke(this.id);
    } catch {
      // Unreachable etcd: the lease expires by itself after its TTL.
    }
  }

  private declareLost(reason: string): void {
    if (this.lost !== null || this.stopped) return;
    this.lost = reason;
    this.stop();
    this.onLost(reason);
  }

  private checkExpired(): boolean {
    const now = performance.now();
    if (now < this.validUntil) return false;
    this.declareLost(
      `no keepalive acknowledged for ${Math.round(now - this.lastRenewed)} ms (lease TTL ${this.ttlSeconds} s)`,
    );
    return true;
  }

  private scheduleTick(delayMs = this.intervalMs): void {
    if (this.stopped) return;
    this.tickTimer = setTimeout(() => void this.tick(), delayMs);
    this.tickTimer.unref();
  }

  private scheduleExpiry(): void {
    if (this.stopped) return;
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(
      () => {
        if (!this.checkExpired()) this.scheduleExpiry();
      },
      Math.max(1, this.validUntil - performance.now() + 1),
    );
    this.expiryTimer.unref();
  }

  private async tick(): Promise<void> {
    this.tickTimer = null;
    if (this.stopped || this.checkExpired()) return;
    const sentAt = performance.now();
    // Each attempt gets a quarter TTL, so a hung etcd member (paused, partitioned) leaves time to
    // try the next endpoint before the lease could expire.
    const timeoutMs = Math.max(200, Math.min(this.client.timeoutMs, (this.ttlSeconds * 1000) / 4));
    let next = this.intervalMs;
    try {
      const ttl = await this.client.leaseKeepAlive(this.id, timeoutMs);
      if (this.stopped) return;
      if (ttl <= 0) {
        this.declareLost('etcd reports the lease expired');
        return;
      }
      if (sentAt + ttl * 1000 > this.validUntil) {
        this.validUntil = sentAt + ttl * 1000;
        this.lastRenewed = sentAt;
        this.scheduleExpiry();
      }
    } catch {
      // No endpoint answered (etcd electing a new raft leader, a member down): retry soon rather
      // than a whole period later, so a renewal lands as soon as etcd serves again.
      next = Math.min(this.intervalMs, RETRY_MS);
    }
    if (!this.checkExpired()) this.scheduleTick(next);
  }
}

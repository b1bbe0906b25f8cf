/**
 * Shared state of one conformance run: the connection under test (opened once per run — opening
 * an embedded database with its SQL catalog takes seconds) and unique collection names, so cases
 * never see each other's streams even on a long-lived server.
 */
import { randomBytes } from 'node:crypto';
import type { Connection } from '../../src/client/connection.ts';
import type { Stream } from '../../src/client/stream.ts';

/** What a backend's test file hands to `runConformance`. */
export interface ConformanceTarget {
  readonly conn: Connection;
  /** Release everything (close the connection, stop servers, remove temp dirs). */
  close(): Promise<void>;
}

/** ArborDB extensions a backend may lack (the BTrDB v5 wire carries neither); default: supported. */
export interface ConformanceFeatures {
  /** Per-point quality flags (PointBatch.flags) are stored and returned. */
  readonly flags?: boolean;
  /** `create({ allowNonFinite: true })` makes a stream that stores NaN and ±Infinity. */
  readonly nonFinite?: boolean;
}

export interface NewStreamOptions {
  readonly collection?: string;
  readonly name?: string;
  readonly unit?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly allowNonFinite?: boolean;
}

export class Ctx {
  #target: ConformanceTarget | undefined;
  #n = 0;
  /** A random tag for this run: collections are `conformance/<run>/<area>-<n>`. */
  readonly run = randomBytes(4).toString('hex');
  readonly features: Required<ConformanceFeatures>;

  constructor(features: ConformanceFeatures = {}) {
    this.features = { flags: features.flags ?? true, nonFinite: features.nonFinite ?? true };
  }

  attach(target: ConformanceTarget): void {
    this.#target = target;
  }

  detach(): ConformanceTarget | undefined {
    const t = this.#target;
    this.#target = undefined;
    return t;
  }

  get conn(): Connection {
    if (this.#target === undefined) throw new Error('conformance: no connection (before hook failed?)');
    return this.#target.conn;
  }

  /** The prefix every collection of this run starts with. */
  get root(): string {
    return `conformance/${this.run}/`;
  }

  /** A fresh collection name no other case uses. */
  collection(area: string): string {
    this.#n++;
    return `${this.root}${area}-${this.#n}`;
  }

  /** Create a stream in a fresh (or the given) collection. */
  stream(opts: NewStreamOptions = {}): Promise<Stream> {
    return this.conn.create({
      collection: opts.collection ?? this.collection('s'),
      tags: { name: opts.name ?? 'value', unit: opts.unit ?? 'volts' },
      annotations: opts.annotations ?? {},
      ...(opts.allowNonFinite === undefined ? {} : { allowNonFinite: opts.allowNonFinite }),
    });
  }
}

/**
 * Writes decoded C37.118 frames into streams through the client API (`Connection`: embedded
 * `open(dir)` or remote `connect()`).
 *
 * A configuration frame (re)maps channels to streams: each channel's stream is found by collection
 * and name, or created (with NaN allowed: float PMU formats mark missing data with NaN); an existing
 * stream whose annotations changed (e.g. CFGCNT) is updated. Channels absent from a new
 * configuration get no more points; new ones get new streams. Data frames are buffered per stream
 * and inserted in batches — when {@link WriterOptions.batchFrames} frames are pending or the oldest
 * pending frame is {@link WriterOptions.flushMs} old — and always before a re-map and on `close()`.
 * Inserts use the `equal` merge policy, so a frame received twice (a TCP retransmission, a
 * reconnect that replays) is stored once.
 *
 * Calls are serialised internally: `config()`/`data()` may be called without awaiting each other.
 */
import type { Connection, Stream } from '../../client/index.ts';
import { type ChannelSpec, channelsOf, channelValue, DEFAULT_PREFIX, qualityFlags } from './channel-map.ts';
import { PointBuffer } from './point-buffer.ts';
import type { ConfigFrame, DataFrame } from './types.ts';

export interface WriterOptions {
  /** Collection prefix (default "pmu"). */
  readonly prefix?: string;
  /** Insert when this many data frames are pending (default 50). */
  readonly batchFrames?: number;
  /** Insert when the oldest pending frame is this old, ms (default 1000). */
  readonly flushMs?: number;
  /** Store STAT/time quality as the flags column (default true; the BTrDB wire cannot carry them). */
  readonly flags?: boolean;
  /**
   * Create streams that store NaN/±Inf (default true). With false (the BTrDB wire cannot create
   * such streams), non-finite values are skipped and counted in `counts.nonFinite`.
   */
  readonly storeNonFinite?: boolean;
  /** ms clock (tests). */
  readonly now?: () => number;
}

interface Bound {
  readonly spec: ChannelSpec;
  readonly stream: Stream;
  readonly buffer: PointBuffer;
}

export interface WriterCounts {
  /** Data frames stored. */
  frames: number;
  /** Data frames without a configuration for their IDCODE (dropped). */
  unmapped: number;
  points: number;
  /** Configurations applied (first one and changes). */
  configs: number;
  /** Streams created. */
  created: number;
  /** Streams written to (created or existing). */
  streams: number;
  /** Non-finite values skipped (only with storeNonFinite false). */
  nonFinite: number;
  /** Points accepted so far, inserted or still pending (for progress output). */
  queued: number;
}

export class C37Writer {
  readonly #conn: Connection;
  readonly #prefix: string;
  readonly #batchFrames: number;
  readonly #flushMs: number;
  readonly #flags: boolean;
  readonly #nonFinite: boolean;
  readonly #now: () => number;
  /** Channels of each frame IDCODE's current configuration. */
  readonly #maps = new Map<number, { cfg: ConfigFrame; bound: Bound[] }>();
  /** Every stream bound so far, by collection/name. */
  readonly #byName = new Map<string, Bound>();
  readonly #dirty = new Set<Bound>();
  #pendingFrames = 0;
  #oldest = 0;
  #chain: Promise<void> = Promise.resolve();
  readonly counts: WriterCounts = {
    frames: 0,
    unmapped: 0,
    points: 0,
    configs: 0,
    created: 0,
    streams: 0,
    nonFinite: 0,
    queued: 0,
  };

  constructor(conn: Connection, opts: WriterOptions = {}) {
    this.#conn = conn;
    this.#prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.#batchFrames = opts.batchFrames ?? 50;
    this.#flushMs = opts.flushMs ?? 1000;
    this.#flags = opts.flags ?? true;
    this.#nonFinite = opts.storeNonFinite ?? true;
    this.#now = opts.now ?? Date.now;
  }

  #serial(f: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(f);
    this.#chain = next.catch(() => {});
    return next;
  }

  /** Apply a configuration frame: flush, then bind its channels to streams (creating them). */
  config(cfg: ConfigFrame): Promise<void> {
    return this.#serial(async () => {
      const cur = this.#maps.get(cfg.idcode);
      if (cur !== undefined && sameLayout(cur.cfg, cfg)) return;
      await this.#flush();
      const specs = channelsOf(cfg, this.#prefix);
      // One lookup per collection, then every bind (create/update) at once: a PDC frame with
      // hundreds of channels maps in a few round trips instead of one per channel.
      const existing = new Map<string, Stream>();
      for (const collection of new Set(specs.map((c) => c.collection))) {
        for (const st of await this.#conn.streamsInCollection(collection, { isPrefix: false })) {
          const name = st.descriptor?.tags.name;
          if (name !== undefined) existing.set(`${collection}\u0000${name}`, st);
        }
      }
      const bound = await Promise.all(specs.map((spec) => this.#bind(spec, existing)));
      this.#maps.set(cfg.idcode, { cfg, bound });
      this.counts.configs++;
    });
  }

  async #bind(spec: ChannelSpec, existing: ReadonlyMap<string, Stream>): Promise<Bound> {
    const key = `${spec.collection}\u0000${spec.name}`;
    const known = this.#byName.get(key);
    if (known !== undefined && sameAnnotations(known.spec, spec)) return { ...known, spec };
    let stream = existing.get(key);
    if (stream === undefined) {
      stream = await this.#conn.create({
        collection: spec.collection,
        tags: { name: spec.name, unit: spec.unit },
        annotations: spec.annotations,
        ...(this.#nonFinite ? { allowNonFinite: true } : {}),
      });
      this.counts.created++;
    } else {
      const d = stream.descriptor ?? (await stream.refresh()).descriptor!;
      const changed = Object.entries(spec.annotations).some(([k, v]) => d.annotations[k] !== v);
      if (changed || d.tags.unit !== spec.unit) {
        await stream.update({
          annotations: spec.annotations,
          tags: { name: spec.name, unit: spec.unit },
          encode: false,
        });
      }
    }
    const b: Bound = { spec, stream, buffer: known?.buffer ?? new PointBuffer() };
    if (known === undefined) this.counts.streams++;
    this.#byName.set(key, b);
    return b;
  }

  /** Buffer a data frame's points (inserting a batch when one is due). */
  data(frame: DataFrame): Promise<void> {
    return this.#serial(async () => {
      const m = this.#maps.get(frame.idcode);
      if (m === undefined || m.cfg.pmus.length !== frame.pmus.length) {
        this.counts.unmapped++;
        return;
      }
      for (const b of m.bound) {
        const p = frame.pmus[b.spec.pmu]!;
        const polar = (m.cfg.pmus[b.spec.pmu]!.format & 1) !== 0;
        const v = channelValue(b.spec, polar, p.phasors, p.freq, p.dfreq, p.analogs, p.digitals);
        if (!this.#nonFinite && !Number.isFinite(v)) {
          this.counts.nonFinite++;
          continue;
        }
        b.buffer.push(frame.time, v, qualityFlags(p.stat, frame.timeQuality));
        this.counts.queued++;
        this.#dirty.add(b);
      }
      this.counts.frames++;
      if (this.#pendingFrames++ === 0) this.#oldest = this.#now();
      if (this.#pendingFrames >= this.#batchFrames || this.#now() - this.#oldest >= this.#flushMs) await this.#flush();
    });
  }

  /** Insert everything pending (e.g. on a timer, so a slow stream is not held back). */
  flush(): Promise<void> {
    return this.#serial(() => this.#flush());
  }

  /** True when frames are pending and the oldest is older than flushMs. */
  get due(): boolean {
    return this.#pendingFrames > 0 && this.#now() - this.#oldest >= this.#flushMs;
  }

  async #flush(): Promise<void> {
    const work: Promise<unknown>[] = [];
    for (const b of this.#dirty) {
      const pts = b.buffer.take();
      this.counts.points += pts.times.length;
      work.push(
        b.stream.insert(this.#flags ? pts : { times: pts.times, values: pts.values }, { mergePolicy: 'equal' }),
      );
    }
    this.#dirty.clear();
    this.#pendingFrames = 0;
    await Promise.all(work);
  }

  /** The streams bound to the current configuration of frame IDCODE `idcode`. */
  streamsOf(idcode: number): readonly { readonly spec: ChannelSpec; readonly stream: Stream }[] {
    return this.#maps.get(idcode)?.bound ?? [];
  }

  /** Flush and wait for every queued call. */
  async close(): Promise<void> {
    await this.flush();
  }
}

function sameAnnotations(a: ChannelSpec, b: ChannelSpec): boolean {
  const ka = Object.keys(a.annotations);
  return (
    a.unit === b.unit &&
    ka.length === Object.keys(b.annotations).length &&
    ka.every((k) => a.annotations[k] === b.annotations[k])
  );
}

/** Two configurations that map to the same channels (a repeated CFG-2 needs no re-map). */
function sameLayout(a: ConfigFrame, b: ConfigFrame): boolean {
  if (a.pmus.length !== b.pmus.length || a.timeBase !== b.timeBase || a.dataRate !== b.dataRate) return false;
  return a.pmus.every((p, i) => {
    const q = b.pmus[i]!;
    return (
      p.station === q.station &&
      p.idcode === q.idcode &&
      p.format === q.format &&
      p.cfgcnt === q.cfgcnt &&
      p.nominalHz === q.nominalHz &&
      p.phasorNames.join('\n') === q.phasorNames.join('\n') &&
      p.phasorKinds.join('') === q.phasorKinds.join('') &&
      p.analogNames.join('\n') === q.analogNames.join('\n') &&
      p.digitalNames.flat().join('\n') === q.digitalNames.flat().join('\n') &&
      p.phasorScale.every((s, k) => s === q.phasorScale[k]) &&
      p.analogScale.every((s, k) => s === q.analogScale[k])
    );
  });
}

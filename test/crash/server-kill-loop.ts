/**
 * The server SIGKILL loop (issue 8, "Faults"): a real `arbor serve` process under concurrent gRPC
 * ingest from several clients, killed with SIGKILL at random moments — also right after a flush
 * was issued and while a compaction runs — then restarted and checked through the remote client:
 * every acknowledged point present exactly once, every acknowledged create and metadata change
 * visible, nothing unacknowledged half-made, and `arbor check` (the CLI, as a process) clean.
 *
 * Each cycle: K clients (`connectRemote`, one gRPC channel each) create streams with tags and
 * annotations, change metadata, insert batches of mixed sizes (small ones through the WAL, some
 * ≥ 32 768 points that commit directly), shuffled, re-insert acknowledged slabs under the replace,
 * retain and equal merge policies, delete some, and flush; the server compacts (`--compact-every`)
 * with a keep-N-versions retention. The kill mode rotates, and the server that ingests is started
 * with the compaction interval that suits it (compaction makes commits wait):
 *   random      after a random delay; compaction every 5 × `compactEveryMs`, so some kills land
 *               in it and most do not;
 *   flush       a flush is issued, the kill follows within a few ms, before its reply; no
 *               compaction, so the kill interrupts the flush's own commit, not a wait;
 *   compaction  compaction every `compactEveryMs`; the kill lands after the server logged
 *               "compaction started" (observed on its stderr), before "done".
 * After the kill: every `checkEvery`-th cycle `arbor check` runs first (so it is the process that
 * recovers the crashed directory), otherwise the restarted server recovers it. Then the server is
 * restarted and everything written this cycle (every `fullEvery`-th cycle and the last: everything
 * ever written, with a scan for stray points) is read back and judged (server-loop-model.ts).
 * The last cycle also stops the server gracefully and checks again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectRemote, type RemoteBackend } from '../../src/client/remote-backend.ts';
import { isDbError } from '../../src/core/errors.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { MAX_TIME, MIN_TIME } from '../../src/core/time.ts';
import type { MergePolicy, PointBatch, StreamDescriptor, StreamId } from '../../src/core/types.ts';
import { newStreamId } from '../../src/core/uuid.ts';
import {
  judgeMeta,
  judgeSlab,
  type Meta,
  SLAB_BASE,
  type Slab,
  type SlabState,
  type StreamModel,
  slabEnd,
  slabPoints,
  slabStart,
} from './server-loop-model.ts';
import { type CheckOutcome, killServer, runCheck, startServer } from './server-process.ts';

export type KillMode = 'random' | 'flush' | 'compaction';
export const KILL_MODES: readonly KillMode[] = ['random', 'flush', 'compaction'];

export interface ServerLoopOptions {
  readonly cycles: number;
  /** Data directory (default: a fresh temporary one, removed at the end). */
  readonly dir?: string;
  /** Concurrent ingest clients (default 4). */
  readonly clients?: number;
  /** Ingest time before the kill (ms, uniform in [minMs, maxMs]; defaults 300, 2500). */
  readonly minMs?: number;
  readonly maxMs?: number;
  /** Run `arbor check` after every N-th kill (default 2) and at the end. */
  readonly checkEvery?: number;
  /** Verify everything ever written every N-th cycle (default 10) and at the end. */
  readonly fullEvery?: number;
  /** The server's `--compact-every` in compaction cycles (ms, default 300) and `--keep-versions` (default 4). */
  readonly compactEveryMs?: number;
  readonly keepVersions?: number;
  readonly seed?: number;
  readonly progress?: (line: string, r: ServerLoopResult) => void;
}

export interface ServerLoopResult {
  mode: 'server';
  seed: number;
  cycles: number;
  clients: number;
  /** Insert calls acknowledged (each verified after the next restart) and their points. */
  batchesAcked: number;
  pointsAcked: number;
  /** Points read back and compared, over all verifications. */
  pointsCompared: number;
  /** Points of the slabs present at the end. */
  pointsLive: number;
  lost: number;
  duplicated: number;
  problems: string[];
  kills: Record<KillMode, number>;
  /** Kills that landed after a flush was issued and before its reply arrived. */
  midFlush: number;
  /** Kills that landed between the server's "compaction started" and "compaction done". */
  midCompaction: number;
  compactionsDone: number;
  /** The longest compaction seen (ms, from the server's log lines). */
  compactionMsMax: number;
  streamsCreated: number;
  metadataChanges: number;
  deletes: number;
  flushes: number;
  /** Writes in flight at a kill: how many, and how many had taken effect after the restart. */
  inDoubt: {
    writes: number;
    applied: number;
    creates: number;
    createsApplied: number;
    meta: number;
    metaApplied: number;
  };
  checks: number;
  checkMs: number;
  /** Restarts whose recovery was done by the server (the others by `arbor check`). */
  serverRecoveries: number;
  fullVerifications: number;
  /** Reads retried because a compaction deleted a segment under them (see Run.read). */
  readRetries: number;
  seconds: number;
}

/**
 * mulberry32, seeded (the seed is in the result). The clients share it, so which client draws what
 * still depends on timing: a seed reproduces the mix of a run, not its exact interleaving.
 */
const rng = mulberry32;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SHARED = 'crash/shared';

class Run {
  readonly streams = new Map<StreamId, StreamModel>();
  readonly slabs: Slab[] = [];
  /** Per client: its live streams and its slabs. */
  readonly own: { streams: StreamModel[]; slabs: Slab[] }[];
  shared!: StreamModel;
  killed = false;
  cycle = 0;
  /** Called when a client's first create of the cycle settled (the kill timer starts after all). */
  onStarted: () => void = () => undefined;
  streamSeq = 0;
  metaSeq = 0;

  constructor(
    readonly res: ServerLoopResult,
    readonly rand: () => number,
    clients: number,
  ) {
    this.own = Array.from({ length: clients }, () => ({ streams: [], slabs: [] }));
  }

  pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[Math.floor(this.rand() * xs.length)];
  }

  /** A call failed: in doubt if the server was killed, a problem otherwise. */
  failed(w: number, what: string, e: unknown): void {
    if (!this.killed) {
      this.res.problems.push(`client ${w} ${what}: unexpected error ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async create(b: RemoteBackend, w: number, id: StreamId, meta: Meta): Promise<StreamModel | null> {
    const m: StreamModel = { id, meta: null, pendingMeta: meta, gone: false, slabs: [], touched: true };
    this.streams.set(id, m);
    let d: StreamDescriptor;
    try {
      d = await b.create({ id, collection: meta.collection, tags: meta.tags, annotations: meta.annotations });
    } catch (e) {
      this.failed(w, `create ${id}`, e);
      this.res.inDoubt.creates++;
      return null;
    }
    m.meta = meta;
    m.pendingMeta = null;
    this.res.streamsCreated++;
    const got = judgeMeta(m, { ...d });
    if (got.problem) this.res.problems.push(`create answered ${got.problem}`);
    return m;
  }

  /** Insert a new slab of n points into stream m (client w's). */
  async insertNew(b: RemoteBackend, w: number, m: StreamModel, n: number): Promise<boolean> {
    const k = this.slabs.length;
    const s: Slab = {
      k,
      stream: m.id,
      n,
      state: { present: false, gen: 0 },
      pending: { present: true, gen: 0 },
      touched: true,
    };
    this.slabs.push(s);
    m.slabs.push(s);
    this.own[w]?.slabs.push(s);
    const policy = this.pick(['never', 'equal', 'retain', 'replace'] as const)!;
    return this.write(b, w, s, this.batch(k, n, 0), policy, { present: true, gen: 0 });
  }

  /** Re-insert an acknowledged slab: replace with a new generation, or retain/equal (no change). */
  async overwrite(b: RemoteBackend, w: number, s: Slab): Promise<boolean> {
    const r = this.rand();
    const gen = s.state.gen;
    if (r < 0.6) return this.write(b, w, s, this.batch(s.k, s.n, gen + 1), 'replace', { present: true, gen: gen + 1 });
    if (r < 0.8) return this.write(b, w, s, this.batch(s.k, s.n, gen + 1), 'retain', s.state);
    return this.write(b, w, s, this.batch(s.k, s.n, gen), 'equal', s.state);
  }

  async write(
    b: RemoteBackend,
    w: number,
    s: Slab,
    batch: PointBatch,
    policy: MergePolicy,
    after: SlabState,
  ): Promise<boolean> {
    s.pending = after;
    s.touched = true;
    try {
      await b.insert(s.stream, batch, policy);
    } catch (e) {
      this.failed(w, `insert slab ${s.k} (${s.n} points, ${policy})`, e);
      this.res.inDoubt.writes++;
      return false;
    }
    s.state = after;
    s.pending = null;
    this.res.batchesAcked++;
    this.res.pointsAcked += s.n;
    return true;
  }

  async remove(b: RemoteBackend, w: number, s: Slab): Promise<boolean> {
    s.pending = { present: false, gen: 0 };
    s.touched = true;
    try {
      await b.delete(s.stream, slabStart(s.k), slabEnd(s.k, s.n));
    } catch (e) {
      this.failed(w, `delete slab ${s.k}`, e);
      this.res.inDoubt.writes++;
      return false;
    }
    s.state = { present: false, gen: 0 };
    s.pending = null;
    this.res.deletes++;
    return true;
  }

  /** Change annotations (upsert one key, maybe remove one) or the unit tag. */
  async changeMeta(b: RemoteBackend, w: number, m: StreamModel): Promise<boolean> {
    const cur = m.meta!;
    const seq = ++this.metaSeq;
    let next: Meta;
    let call: () => Promise<void>;
    if (this.rand() < 0.3) {
      const unit = this.pick(['V', 'kV', 'A', 'deg', 'Hz'].filter((u) => u !== cur.tags.unit))!;
      next = { ...cur, tags: { ...cur.tags, unit }, propertyVersion: cur.propertyVersion + 1 };
      call = () => b.setTags(m.id, cur.propertyVersion, { unit }, '', []);
    } else {
      const key = `note${seq % 4}`;
      const removable = Object.keys(cur.annotations).filter((k) => k.startsWith('note') && k !== key);
      const drop = this.rand() < 0.4 ? this.pick(removable) : undefined;
      const annotations: Record<string, string> = {
        ...cur.annotations,
        seq: String(seq),
        [key]: `c${this.cycle}-${seq}`,
      };
      if (drop !== undefined) delete annotations[drop];
      next = { ...cur, annotations, propertyVersion: cur.propertyVersion + 1 };
      call = () =>
        b.setAnnotations(
          m.id,
          cur.propertyVersion,
          { seq: String(seq), [key]: `c${this.cycle}-${seq}` },
          drop === undefined ? [] : [drop],
        );
    }
    m.pendingMeta = next;
    m.touched = true;
    try {
      await call();
    } catch (e) {
      this.failed(w, `metadata change of ${m.id}`, e);
      this.res.inDoubt.meta++;
      return false;
    }
    m.meta = next;
    m.pendingMeta = null;
    this.res.metadataChanges++;
    return true;
  }

  /** Slab k's points for generation gen, in time order or shuffled (the server sorts). */
  batch(k: number, n: number, gen: number): PointBatch {
    const p = slabPoints(k, n, gen);
    if (this.rand() < 0.5) return p;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      const t = p.times[i]!;
      p.times[i] = p.times[j]!;
      p.times[j] = t;
      const v = p.values[i]!;
      p.values[i] = p.values[j]!;
      p.values[j] = v;
    }
    return p;
  }

  /** Points of a new batch: mostly small (WAL), some medium, some ≥ 32 768 (direct commit). */
  size(): number {
    const r = this.rand();
    if (r < 0.05) return 32_768 + Math.floor(this.rand() * 8000);
    if (r < 0.09) return 8000 + Math.floor(this.rand() * 12_000);
    if (r < 0.35) return 1000 + Math.floor(this.rand() * 4000);
    return 1 + Math.floor(this.rand() * 300);
  }

  newMeta(w: number): Meta {
    const i = ++this.streamSeq;
    return {
      collection: `crash/w${w}`,
      // BTrDB always reports name, unit and ingress ("" when not given).
      tags: { name: `s${i}`, unit: 'V', ingress: '' },
      annotations: { writer: String(w), cycle: String(this.cycle) },
      propertyVersion: 1,
    };
  }

  /** One client's ingest until the kill (or its first failed call). */
  async client(b: RemoteBackend, w: number): Promise<void> {
    const mine = this.own[w]!;
    const first = await this.create(b, w, newStreamId(), this.newMeta(w)).finally(() => this.onStarted());
    if (!first) return;
    mine.streams.push(first);
    while (!this.killed) {
      const r = this.rand();
      let ok: boolean;
      if (r < 0.02) {
        const m = await this.create(b, w, newStreamId(), this.newMeta(w));
        ok = m !== null;
        if (m) mine.streams.push(m);
      } else if (r < 0.08) {
        ok = await this.changeMeta(b, w, this.pick(mine.streams.slice(-4))!);
      } else if (r < 0.12) {
        const m = this.rand() < 0.5 ? this.shared : this.pick(mine.streams.slice(-3))!;
        try {
          await b.flush(m.id);
          this.res.flushes++;
          ok = true;
        } catch (e) {
          this.failed(w, `flush ${m.id}`, e);
          ok = false;
        }
      } else if (r < 0.24) {
        const s = this.pick(mine.slabs.filter((x) => x.state.present && x.pending === null).slice(-200));
        ok = s === undefined ? true : await this.overwrite(b, w, s);
      } else if (r < 0.26) {
        const s = this.pick(mine.slabs.filter((x) => x.state.present && x.pending === null).slice(-200));
        ok = s === undefined ? true : await this.remove(b, w, s);
      } else {
        const m = this.rand() < 0.3 ? this.shared : this.pick(mine.streams.slice(-3))!;
        ok = await this.insertNew(b, w, m, this.size());
      }
      if (!ok) return;
    }
  }

  // ── verification ───────────────────────────────────────────────────────────────────────────

  /**
   * All points of [start, end) at the latest version. The server compacts while the loop reads; a
   * read that began before a compaction's checkpoint and reaches a segment it deleted fails with
   * 500 "… does not exist" and may be retried (docs/adr/0002-retention-and-gc.md): it is, and
   * counted.
   */
  async read(b: RemoteBackend, id: StreamId, start: bigint, end: bigint): Promise<PointBatch> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.readOnce(b, id, start, end);
      } catch (e) {
        if (attempt >= 8 || !isDbError(e, 500) || !/does not exist/.test(e.message)) throw e;
        this.res.readRetries++;
      }
    }
  }

  async readOnce(b: RemoteBackend, id: StreamId, start: bigint, end: bigint): Promise<PointBatch> {
    const parts: PointBatch[] = [];
    for await (const { value } of b.rawValues(id, start, end, 0)) parts.push(value);
    if (parts.length === 1) return parts[0]!;
    const n = parts.reduce((s, p) => s + p.times.length, 0);
    const times = new BigInt64Array(n);
    const values = new Float64Array(n);
    let o = 0;
    for (const p of parts) {
      times.set(p.times, o);
      values.set(p.values, o);
      o += p.times.length;
    }
    return { times, values };
  }

  judge(s: Slab, got: PointBatch): void {
    const v = judgeSlab(s, got);
    this.res.pointsCompared += got.times.length;
    this.res.lost += v.lost;
    this.res.duplicated += v.duplicated;
    if (v.problem) {
      this.res.problems.push(`cycle ${this.cycle}: ${v.problem}`);
      return;
    }
    if (s.pending !== null && (v.found!.present !== s.state.present || v.found!.gen !== s.state.gen)) {
      this.res.inDoubt.applied++;
    }
    s.state = v.found!;
    s.pending = null;
    s.touched = false;
  }

  /** Verify through the restarted server: metadata of every stream, then the slabs. */
  async verify(b: RemoteBackend, full: boolean): Promise<void> {
    const found = new Map<string, StreamDescriptor>();
    for (const d of await b.lookupStreams({ collection: 'crash/', isPrefix: true })) found.set(d.id, d);
    for (const m of this.streams.values()) {
      const d = found.get(m.id);
      found.delete(m.id);
      const creating = m.meta === null && !m.gone;
      const changing = m.meta !== null && m.pendingMeta !== null;
      const v = judgeMeta(m, d === undefined ? null : { ...d });
      if (v.problem) {
        this.res.problems.push(`cycle ${this.cycle}: ${v.problem}`);
        continue;
      }
      if (creating && v.meta !== null) this.res.inDoubt.createsApplied++;
      if (changing && v.meta !== null && v.meta.propertyVersion !== m.meta!.propertyVersion)
        this.res.inDoubt.metaApplied++;
      if (v.meta === null) m.gone = true;
      m.meta = v.meta;
      m.pendingMeta = null;
      if (m.meta !== null && (full || m.touched)) {
        // The engine must know every stream the catalog lists (ADR 0003).
        try {
          await b.streamInfo(m.id);
        } catch (e) {
          this.res.problems.push(`cycle ${this.cycle}: stream ${m.id} is listed but StreamInfo fails: ${String(e)}`);
        }
      }
      m.touched = false;
    }
    for (const id of found.keys())
      this.res.problems.push(`cycle ${this.cycle}: stream ${id} exists but was never created`);
    const collections = new Set([...this.streams.values()].flatMap((m) => (m.meta ? [m.meta.collection] : [])));
    const listed = await b.listCollections('crash/');
    if ([...collections].sort().join() !== [...listed].sort().join()) {
      this.res.problems.push(
        `cycle ${this.cycle}: collections ${listed.join(',')} ≠ expected ${[...collections].sort().join(',')}`,
      );
    }
    if (!full) {
      for (const s of this.slabs)
        if (s.touched) this.judge(s, await this.read(b, s.stream, slabStart(s.k), slabEnd(s.k, s.n)));
      return;
    }
    // Everything: each stream's whole time range, in windows of 256 slabs (short reads, so a
    // compaction rarely cuts one), split by slab, stray points reported.
    this.res.fullVerifications++;
    for (const m of this.streams.values()) {
      if (m.meta === null) continue;
      const bySlab = new Map<number, Slab>(m.slabs.map((s) => [s.k, s]));
      // Before its first slab, its slabs 256 at a time, after its last slab.
      const first = m.slabs[0]?.k ?? 0;
      const last = m.slabs.at(-1)?.k ?? -1;
      const windows: [bigint, bigint][] = [[MIN_TIME, slabStart(first)]];
      for (let k = first; k <= last; k += 256) windows.push([slabStart(k), slabStart(Math.min(k + 256, last + 1))]);
      windows.push([slabStart(last + 1), MAX_TIME]);
      for (const [from, to] of windows) {
        const got = await this.read(b, m.id, from, to);
        let i = 0;
        while (i < got.times.length) {
          const t = got.times[i]!;
          const k = t < SLAB_BASE ? -1 : Number((t - SLAB_BASE) / 1_000_000_000n);
          let j = i;
          const end = k < 0 ? SLAB_BASE : slabStart(k + 1);
          while (j < got.times.length && got.times[j]! < end) j++;
          const s = bySlab.get(k);
          const part = { times: got.times.subarray(i, j), values: got.values.subarray(i, j) };
          if (s === undefined) {
            const where = k < 0 ? 'before the first slab' : `in slab ${k}, which it never had`;
            this.res.problems.push(`cycle ${this.cycle}: stream ${m.id} holds ${j - i} points ${where}`);
            this.res.duplicated += j - i;
          } else {
            bySlab.delete(k);
            this.judge(s, part);
          }
          i = j;
        }
      }
      const empty = { times: new BigInt64Array(0), values: new Float64Array(0) };
      for (const s of bySlab.values()) this.judge(s, empty);
    }
  }
}

async function connect(address: string): Promise<RemoteBackend> {
  return connectRemote({ endpoints: address, env: {}, home: os.tmpdir(), retries: 1 });
}

/** Run the loop; resolves with the tallies (it stops at the first cycle that finds a problem). */
export async function serverKillLoop(opts: ServerLoopOptions): Promise<ServerLoopResult> {
  const started = Date.now();
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-server-killloop-'));
  const K = opts.clients ?? 4;
  const minMs = opts.minMs ?? 300;
  const maxMs = opts.maxMs ?? 2500;
  const checkEvery = opts.checkEvery ?? 2;
  const fullEvery = opts.fullEvery ?? 10;
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const compactEvery = opts.compactEveryMs ?? 300;
  /** Server flags for a server that will ingest in a cycle of this kill mode. */
  const serveArgs = (mode: KillMode): string[] => [
    '--compact-every',
    String(mode === 'compaction' ? compactEvery : mode === 'random' ? 5 * compactEvery : 0),
    '--keep-versions',
    String(opts.keepVersions ?? 4),
  ];
  const res: ServerLoopResult = {
    mode: 'server',
    seed,
    cycles: 0,
    clients: K,
    batchesAcked: 0,
    pointsAcked: 0,
    pointsCompared: 0,
    pointsLive: 0,
    lost: 0,
    duplicated: 0,
    problems: [],
    kills: { random: 0, flush: 0, compaction: 0 },
    midFlush: 0,
    midCompaction: 0,
    compactionsDone: 0,
    compactionMsMax: 0,
    streamsCreated: 0,
    metadataChanges: 0,
    deletes: 0,
    flushes: 0,
    inDoubt: { writes: 0, applied: 0, creates: 0, createsApplied: 0, meta: 0, metaApplied: 0 },
    checks: 0,
    checkMs: 0,
    serverRecoveries: 0,
    fullVerifications: 0,
    readRetries: 0,
    seconds: 0,
  };
  const rand = rng(seed);
  const run = new Run(res, rand, K);
  const check = async (when: string): Promise<void> => {
    const c: CheckOutcome = await runCheck(dir);
    res.checks++;
    res.checkMs += c.ms;
    if (c.code !== 0 || c.problems.length > 0) {
      res.problems.push(
        `cycle ${run.cycle}: arbor check ${when} exited ${c.code}: ${c.problems.join('; ')} ${c.output.slice(-800)}`,
      );
    }
  };
  let server = await startServer(dir, serveArgs(KILL_MODES[0]!));
  let admin = await connect(server.address);
  let compactionMs = 50;
  try {
    const sm = await run.create(admin, -1, newStreamId(), {
      collection: SHARED,
      tags: { name: 'shared', unit: 'V', ingress: '' },
      annotations: { role: 'shared' },
      propertyVersion: 1,
    });
    if (!sm) throw new Error(`could not create the shared stream: ${res.problems.join('; ')}`);
    run.shared = sm;
    for (let c = 0; c < opts.cycles; c++) {
      const cycleStarted = Date.now();
      run.cycle = c;
      run.killed = false;
      const mode = KILL_MODES[c % KILL_MODES.length]!;
      const last = c === opts.cycles - 1;
      // Compaction timing, for the compaction kill mode.
      let compactStartAt = 0;
      let waitCompaction: (() => void) | null = null;
      const current = server;
      current.onLine = (line) => {
        if (line.includes('compaction started')) {
          compactStartAt = Date.now();
          waitCompaction?.();
        } else if (line.includes('compaction done') && compactStartAt > 0) {
          compactionMs = 0.7 * compactionMs + 0.3 * (Date.now() - compactStartAt);
          res.compactionMsMax = Math.max(res.compactionMsMax, Date.now() - compactStartAt);
        }
      };
      const backends = await Promise.all(Array.from({ length: K }, () => connect(server.address)));
      let started = 0;
      const allStarted = new Promise<void>((r) => {
        run.onStarted = () => {
          if (++started === K) r();
        };
      });
      const clients = backends.map((b, w) => run.client(b, w));
      // The ingest time counts from the clients' first creates (slow on a loaded machine); a kill
      // during them is still possible when they take longer than 10 s.
      await Promise.race([allStarted, sleep(10_000)]);
      const ingestAt = Date.now();
      await sleep(minMs + rand() * (maxMs - minMs));
      let note: string = mode;
      if (mode === 'flush') {
        const m =
          rand() < 0.5 ? run.shared : (run.pick([...run.own.flatMap((o) => o.streams.slice(-1))]) ?? run.shared);
        let answered = false;
        admin.flush(m.id).then(
          () => {
            answered = true;
          },
          (e: unknown) => run.failed(-1, `flush ${m.id} before the kill`, e),
        );
        await sleep(rand() * 6);
        if (!answered) {
          res.midFlush++;
          note = 'flush, before its reply';
        } else note = 'flush, after its reply';
      } else if (mode === 'compaction') {
        await Promise.race([new Promise<void>((r) => (waitCompaction = r)), sleep(5000)]);
        await sleep(rand() * compactionMs);
      }
      run.killed = true;
      const ingestMs = Date.now() - ingestAt;
      await killServer(current);
      res.kills[mode]++;
      const lines = current.stderrLines();
      const lastStart = lines.findLastIndex((l) => l.includes('compaction started'));
      res.compactionsDone += lines.filter((l) => l.includes('compaction done')).length;
      for (const l of lines) if (l.includes('compaction failed')) res.problems.push(`cycle ${c}: server: ${l}`);
      if (lastStart >= 0 && !lines.slice(lastStart).some((l) => /compaction (done|failed)/.test(l))) {
        res.midCompaction++;
        note += ', mid-compaction';
      }
      await Promise.all(clients);
      await Promise.all([...backends, admin].map((b) => b.close()));
      // Recovery: by `arbor check` every checkEvery-th cycle, else by the restarted server.
      const checked = c % checkEvery === checkEvery - 1 || last;
      let t = Date.now();
      if (checked) await check('after the kill');
      else res.serverRecoveries++;
      const checkMs = Date.now() - t;
      t = Date.now();
      server = await startServer(dir, serveArgs(KILL_MODES[(c + 1) % KILL_MODES.length]!));
      admin = await connect(server.address);
      const startMs = Date.now() - t;
      t = Date.now();
      const full = last || c % fullEvery === fullEvery - 1;
      try {
        await run.verify(admin, full);
      } catch (e) {
        res.problems.push(
          `cycle ${c}: verification failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        );
      }
      const verifyMs = Date.now() - t;
      res.cycles = c + 1;
      res.pointsLive = run.slabs.reduce((s, x) => s + (x.state.present ? x.n : 0), 0);
      opts.progress?.(
        `cycle ${c + 1}/${opts.cycles} kill: ${note}; verified ${res.batchesAcked} acked batches, ${res.pointsAcked} points ` +
          `(live ${res.pointsLive}); lost ${res.lost}, dup ${res.duplicated}; in doubt ${res.inDoubt.writes} writes ` +
          `(${res.inDoubt.applied} applied)${checked ? ', check ran' : ''}${full ? ', full verify' : ''}; ` +
          `${((Date.now() - cycleStarted) / 1000).toFixed(1)} s (ingest ${ingestMs}, check ${checkMs}, ` +
          `start ${startMs}, verify ${verifyMs} ms)`,
        res,
      );
      if (res.lost || res.duplicated || res.problems.length) break;
    }
    // A clean stop must also leave a clean directory.
    await admin.close();
    server.child.kill('SIGTERM');
    const stop = await server.exited;
    if (stop.code !== 0) res.problems.push(`arbor serve exited ${stop.code ?? stop.signal} on SIGTERM`);
    await check('after a graceful stop');
  } finally {
    await killServer(server);
    res.seconds = Math.round((Date.now() - started) / 1000);
    if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

/**
 * One client connection of the SNAPdb server: the handshake, the root level (list, connect,
 * disconnect) and the database level (encoding, write, read) as docs/protocols/snapdb.md
 * describes. Bytes are parsed as they arrive (no framing): every unit is parsed synchronously from
 * what has arrived and, when incomplete, re-parsed from its start once more bytes come.
 *
 * Writes are fire and forget on the wire. Each write stream's pairs are checked, then kept until
 * the input runs dry, a non-write command arrives or FLUSH_POINTS are pending, and then inserted
 * (merge policy `replace`: a later write of the same key wins). So a read on the same connection
 * sees every earlier write. A pair that cannot be stored rejects its whole write stream: the
 * server sends UnhandledException (0) + the reason and closes; the client raises it at its next
 * command.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isDbError } from '../../core/errors.ts';
import { MAX_TIME, MIN_TIME } from '../../core/time.ts';
import type { PointBatch, StreamId } from '../../core/types.ts';
import type { Database } from '../../db/database.ts';
import {
  FIRST_TICKS,
  float32BitsToValue,
  LAST_TICKS,
  ticksStorable,
  ticksToNs,
  valueToFloat32Bits,
} from './historian-mapping.ts';
import type { InstanceStore } from './instance-store.ts';
import { mergePoints } from './merged-points.ts';
import { type EncodingKind, emptyPair, encodingOfGuid, PairDecoder, PairEncoder } from './pair-codec.ts';
import {
  AUTH_NONE,
  Cmd,
  DATABASE_INFO_VERSION,
  ENCODING_COMBINED,
  ENCODING_SEPARATE,
  Guid,
  HANDSHAKE_MAGIC,
  Resp,
} from './protocol.ts';
import {
  FilterError,
  type ReaderOptions,
  readMatchFilter,
  readReaderOptions,
  readSeekFilter,
  type TimeFilter,
  tickBounds,
  timeSelected,
} from './read-filters.ts';
import { Underflow, WireReader, WireWriter } from './wire-io.ts';

/** Pending points that trigger an insert even while more input is waiting. */
export const FLUSH_POINTS = 100_000;
/**
 * How long written points may wait for more writes before they are inserted (ms). The Python
 * client sends one write stream per point, each in its own TCP segment; inserting each at once
 * would cost an fsync per point. A non-write command (a read) inserts pending points first.
 */
export const LINGER_MS = 20;
/** Unparsed input beyond which the socket is paused until the session catches up. */
const HIGH_WATER_BYTES = 16 << 20;
/** Response bytes gathered before a socket write. */
const WRITE_CHUNK = 1 << 16;
const U32_MAX = 0xffff_ffffn;

type State = 'handshake' | 'auth' | 'root' | 'database' | 'writing' | 'closed';

const MORE = Symbol('more');

/**
 * Columns of the points of one point ID waiting to be inserted. Typed arrays, not JS arrays: V8
 * canonicalises NaN payloads in double-element arrays, and the float32 NaN bits must survive.
 */
class PendingPoint {
  times = new BigInt64Array(16);
  values = new Float64Array(16);
  flags = new Uint32Array(16);
  n = 0;

  push(ns: bigint, value: number, flags: number): void {
    if (this.n === this.times.length) this.grow(this.n * 2);
    this.times[this.n] = ns;
    this.values[this.n] = value;
    this.flags[this.n] = flags;
    this.n++;
  }

  append(o: PendingPoint): void {
    if (this.n + o.n > this.times.length) this.grow(Math.max(this.n * 2, this.n + o.n));
    this.times.set(o.times.subarray(0, o.n), this.n);
    this.values.set(o.values.subarray(0, o.n), this.n);
    this.flags.set(o.flags.subarray(0, o.n), this.n);
    this.n += o.n;
  }

  batch(): PointBatch {
    return {
      times: this.times.subarray(0, this.n),
      values: this.values.subarray(0, this.n),
      flags: this.flags.subarray(0, this.n),
    };
  }

  private grow(cap: number): void {
    const t = new BigInt64Array(cap);
    t.set(this.times.subarray(0, this.n));
    const v = new Float64Array(cap);
    v.set(this.values.subarray(0, this.n));
    const f = new Uint32Array(cap);
    f.set(this.flags.subarray(0, this.n));
    this.times = t;
    this.values = v;
    this.flags = f;
  }
}

export interface SessionContext {
  readonly db: Database;
  readonly store: InstanceStore;
  readonly log: (line: string) => void;
}

export class SnapdbSession {
  private state: State = 'handshake';
  private readonly r = new WireReader(Buffer.alloc(0));
  private chunks: Buffer[] = [];
  private queued = 0;
  private wake: (() => void) | null = null;
  private ended = false;
  private instance = '';
  private encoding: EncodingKind = 'fixed';
  private readonly decoder = { historian: new PairDecoder('historian'), fixed: new PairDecoder('fixed') };
  /** Pairs of the write stream being received (not yet complete). */
  private stage = new Map<bigint, PendingPoint>();
  private staged = 0;
  /** Complete write streams not yet inserted. */
  private pending = new Map<bigint, PendingPoint>();
  private pendingCount = 0;
  /** performance.now() when the oldest pending point arrived. */
  private pendingSince = 0;
  /** The first reason a pair of the current write stream cannot be stored. */
  private rejection: string | null = null;
  readonly done: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: SessionContext,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      if (this.state === 'closed') return;
      this.chunks.push(d);
      this.queued += d.length;
      if (this.queued > HIGH_WATER_BYTES) socket.pause();
      this.wake?.();
    });
    const finish = () => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') ctx.log(`snapdb: connection error: ${e.message}`);
      finish();
    });
    this.done = this.run().catch((e: unknown) => {
      ctx.log(`snapdb: session failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      socket.destroy();
    });
  }

  /** Stop: insert what is pending, then drop the connection. */
  async shutdown(): Promise<void> {
    this.ended = true;
    this.wake?.();
    await this.done;
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.state === 'closed') return;
      const result = await this.step();
      if (result !== MORE) continue;
      if (this.pendingCount > 0) {
        const wait = this.pendingSince + LINGER_MS - performance.now();
        if (wait > 0 && !this.ended && (await this.moreInput(wait))) continue;
        if (!(await this.flush())) return;
        continue;
      }
      if (!(await this.moreInput())) {
        // Input over: whatever arrived complete is stored; a half-received write stream is not.
        this.state = 'closed';
        this.socket.destroy();
        return;
      }
    }
  }

  /** Wait for bytes (at most `timeoutMs`); false when the peer is gone or the time is up. */
  private async moreInput(timeoutMs = -1): Promise<boolean> {
    while (this.chunks.length === 0) {
      if (this.ended) return false;
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (timeoutMs >= 0) {
          timer = setTimeout(() => {
            timedOut = true;
            resolve();
          }, timeoutMs);
        }
      });
      clearTimeout(timer);
      this.wake = null;
      if (timedOut && this.chunks.length === 0) return false;
    }
    const rest = this.r.buf.subarray(this.r.pos);
    this.r.buf = Buffer.concat([rest, ...this.chunks]);
    this.r.pos = 0;
    this.chunks = [];
    this.queued = 0;
    if (this.socket.isPaused()) this.socket.resume();
    return true;
  }

  /** Run a synchronous parse; on Underflow rewind and return MORE. */
  private parse<T>(fn: (r: WireReader) => T): T | typeof MORE {
    const mark = this.r.pos;
    try {
      return fn(this.r);
    } catch (e) {
      if (e instanceof Underflow) {
        this.r.pos = mark;
        return MORE;
      }
      throw e;
    }
  }

  private send(w: WireWriter): void {
    if (this.state !== 'closed' && !this.socket.destroyed) this.socket.write(w.take());
  }

  /** Send a last response and close (the client reads it, then sees the end). */
  private close(w: WireWriter | null): void {
    if (w) this.send(w);
    this.state = 'closed';
    this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), 5_000);
    t.unref();
  }

  /** UnhandledException + message, then close. */
  private fail(message: string): void {
    this.ctx.log(`snapdb: ${message}`);
    this.close(new WireWriter().u8(Resp.unhandledException).string(message));
  }

  private async step(): Promise<typeof MORE | undefined> {
    try {
      switch (this.state) {
        case 'handshake':
          return this.handshake();
        case 'auth':
          return this.authenticate();
        case 'root':
          return await this.rootCommand();
        case 'database':
          return await this.databaseCommand();
        case 'writing':
          return await this.writePairs();
        case 'closed':
          return undefined;
      }
    } catch (e) {
      if (e instanceof FilterError) {
        this.ctx.log(`snapdb: ${e.message}`);
        this.close(new WireWriter().u8(e.response));
        return undefined;
      }
      this.fail(e instanceof Error ? e.message : String(e));
      return undefined;
    }
  }

  private handshake(): typeof MORE | undefined {
    const h = this.parse((r) => ({ magic: r.i64(), tls: r.bool() }));
    if (h === MORE) return MORE;
    if (h.magic !== HANDSHAKE_MAGIC) {
      this.ctx.log(`snapdb: not a SNAPdb client (first 8 bytes 0x${BigInt.asUintN(64, h.magic).toString(16)})`);
      this.close(new WireWriter().u8(Resp.unknownProtocol));
      return undefined;
    }
    // TLS is not offered: "TLS in use" = false whatever the client asked.
    this.send(new WireWriter().u8(Resp.knownProtocol).bool(false));
    this.state = 'auth';
    return undefined;
  }

  private authenticate(): typeof MORE | undefined {
    const mode = this.parse((r) => r.u8());
    if (mode === MORE) return MORE;
    if (mode !== AUTH_NONE) {
      this.ctx.log(`snapdb: authentication mode ${mode} is not supported (only 1 = none)`);
      this.close(new WireWriter().bool(false));
      return undefined;
    }
    this.send(new WireWriter().bool(true).bool(false).u8(Resp.connectedToRoot));
    this.state = 'root';
    return undefined;
  }

  private async rootCommand(): Promise<typeof MORE | undefined> {
    const cmd = this.parse((r) => {
      const c = r.u8();
      if (c === Cmd.connectToDatabase) return { c, name: r.string(), key: r.guid(), value: r.guid() };
      return { c, name: '', key: '', value: '' };
    });
    if (cmd === MORE) return MORE;
    switch (cmd.c) {
      case Cmd.getAllDatabases: {
        const names = await this.ctx.store.list();
        const w = new WireWriter().u8(Resp.listOfDatabases).i32(names.length);
        for (const n of names) {
          w.u8(DATABASE_INFO_VERSION).string(n).guid(Guid.historianKey).guid(Guid.historianValue).i32(2);
          w.u8(ENCODING_COMBINED).guid(Guid.historianStreamEncoding);
          w.u8(ENCODING_COMBINED).guid(Guid.fixedSizeEncoding);
        }
        this.send(w);
        return undefined;
      }
      case Cmd.connectToDatabase: {
        const found = await this.ctx.store.find(cmd.name);
        if (found === null) {
          this.close(new WireWriter().u8(Resp.databaseDoesNotExist).string(`database ${cmd.name} does not exist`));
        } else if (cmd.key !== Guid.historianKey) {
          this.close(new WireWriter().u8(Resp.databaseKeyUnknown).string(`key type ${cmd.key} is not served`));
        } else if (cmd.value !== Guid.historianValue) {
          this.close(new WireWriter().u8(Resp.databaseValueUnknown).string(`value type ${cmd.value} is not served`));
        } else {
          this.instance = found;
          this.encoding = 'fixed';
          this.state = 'database';
          this.send(new WireWriter().u8(Resp.successfullyConnectedToDatabase));
        }
        return undefined;
      }
      case Cmd.disconnect:
        this.close(new WireWriter().u8(Resp.goodBye).string('Good bye!'));
        return undefined;
      default:
        this.ctx.log(`snapdb: unknown root command ${cmd.c}`);
        this.close(new WireWriter().u8(Resp.unknownCommand).u8(cmd.c));
        return undefined;
    }
  }

  private async databaseCommand(): Promise<typeof MORE | undefined> {
    const cmd = this.parse((r) => {
      const c = r.u8();
      switch (c) {
        case Cmd.setEncodingMethod: {
          const kind = r.u8();
          if (kind === ENCODING_COMBINED) return { c, encoding: encodingOfGuid(r.guid()) } as const;
          if (kind === ENCODING_SEPARATE) {
            r.guid();
            r.guid();
          }
          return { c, encoding: null } as const;
        }
        case Cmd.read: {
          const seek: TimeFilter = r.bool() ? readSeekFilter(r) : { kind: 'all' };
          const match = r.bool() ? readMatchFilter(r) : null;
          const options = r.bool() ? readReaderOptions(r) : null;
          return { c, seek, match, options } as const;
        }
        default:
          return { c } as const;
      }
    });
    if (cmd === MORE) return MORE;
    if (cmd.c !== Cmd.write && cmd.c !== Cmd.cancelRead && this.pendingCount > 0) {
      if (!(await this.flush())) return undefined;
    }
    switch (cmd.c) {
      case Cmd.setEncodingMethod:
        if ('encoding' in cmd && cmd.encoding !== null) {
          this.encoding = cmd.encoding;
          this.send(new WireWriter().u8(Resp.encodingMethodAccepted));
        } else {
          this.close(new WireWriter().u8(Resp.unknownEncodingMethod));
        }
        return undefined;
      case Cmd.write:
        this.decoder[this.encoding].reset();
        this.state = 'writing';
        return undefined;
      case Cmd.read:
        if ('seek' in cmd) await this.read(cmd.seek, cmd.match ?? null, cmd.options ?? null);
        return undefined;
      case Cmd.cancelRead:
        return undefined; // reads here always run to completion before the next command
      case Cmd.disconnectDatabase:
        this.state = 'root';
        this.instance = '';
        this.send(new WireWriter().u8(Resp.databaseDisconnected));
        return undefined;
      default:
        this.ctx.log(`snapdb: unknown database command ${cmd.c}`);
        this.close(new WireWriter().u8(Resp.unknownDatabaseCommand).u8(cmd.c));
        return undefined;
    }
  }

  /** Decode pairs of the current write stream until its end or the end of the input. */
  private async writePairs(): Promise<typeof MORE | undefined> {
    const dec = this.decoder[this.encoding];
    const pair = emptyPair();
    for (;;) {
      const got = this.parse((r) => dec.decode(r, pair));
      if (got === MORE) return MORE;
      if (!got) return await this.endOfWriteStream();
      if (this.rejection !== null) continue;
      const why = this.check(pair.time, pair.entry, pair.value1, pair.value2, pair.value3);
      if (why !== null) {
        this.rejection = `write rejected: point ${pair.pointId} at tick ${pair.time}: ${why}; nothing of this write stream was stored`;
        continue;
      }
      add(this.stage, pair.pointId, ticksToNs(pair.time), float32BitsToValue(Number(pair.value1)), Number(pair.value3));
      this.staged++;
    }
  }

  private async endOfWriteStream(): Promise<undefined> {
    this.state = 'database';
    const rejection = this.rejection;
    this.rejection = null;
    const stage = this.stage;
    this.stage = new Map();
    const n = this.staged;
    this.staged = 0;
    if (rejection !== null) {
      // Earlier complete write streams are still inserted, then the session ends with the reason.
      if (await this.flush()) this.fail(rejection);
      return undefined;
    }
    for (const [id, p] of stage) {
      const q = this.pending.get(id);
      if (q === undefined) this.pending.set(id, p);
      else q.append(p);
    }
    if (this.pendingCount === 0) this.pendingSince = performance.now();
    this.pendingCount += n;
    if (this.pendingCount >= FLUSH_POINTS) await this.flush();
    return undefined;
  }

  /** Why a pair cannot be stored, or null. */
  private check(time: bigint, entry: bigint, v1: bigint, v2: bigint, v3: bigint): string | null {
    if (!ticksStorable(time)) {
      return `time ${time} ticks is outside what ArborDB stores (${FIRST_TICKS} … ${LAST_TICKS} ticks, 1933-06-20 … 2079-08-08)`;
    }
    if (entry !== 0n) return `entry number ${entry} is not supported (only 0)`;
    if (v1 > U32_MAX) return `value1 0x${v1.toString(16)} has bits above the float32 (only 32-bit values are stored)`;
    if (v2 !== 0n) return `value2 ${v2} is not supported (only 0)`;
    if (v3 > U32_MAX) return `value3 (quality flags) 0x${v3.toString(16)} does not fit 32 bits`;
    return null;
  }

  /** Insert the pending points; false (after failing the session) when the database refused. */
  private async flush(): Promise<boolean> {
    const pending = this.pending;
    this.pending = new Map();
    this.pendingCount = 0;
    if (pending.size === 0) return true;
    try {
      const streams = await this.ctx.store.streamsFor(this.instance, pending.keys());
      await Promise.all(
        [...pending].map(([id, p]) => this.ctx.db.insert(streams.get(id) as StreamId, p.batch(), 'replace')),
      );
      return true;
    } catch (e) {
      const msg = isDbError(e) ? `${e.message} (code ${e.code})` : e instanceof Error ? e.message : String(e);
      this.fail(`write failed: ${msg}`);
      return false;
    }
  }

  private async read(seek: TimeFilter, match: Set<bigint> | null, options: ReaderOptions | null): Promise<void> {
    const all = await this.ctx.store.refresh(this.instance);
    const ids = match === null ? [...all.keys()] : [...match].filter((id) => all.has(id));
    const { lo, hi } = tickBounds(seek);
    let start = ticksToNs(lo);
    let end = ticksToNs(hi) + 100n; // the ns of tick `hi` and the 99 after it
    if (start < MIN_TIME) start = MIN_TIME;
    if (end > MAX_TIME) end = MAX_TIME;
    const sources = new Map<bigint, AsyncIterable<PointBatch>>();
    if (start < end) {
      for (const id of ids) sources.set(id, this.batches(all.get(id) as StreamId, start, end));
    }
    const limit = options === null || options.maxReturned === 0n ? -1n : options.maxReturned;
    const keep = seek.kind === 'windows' ? (t: bigint) => timeSelected(seek, t) : () => true;
    const enc = new PairEncoder(this.encoding);
    const w = new WireWriter(WRITE_CHUNK * 2);
    w.u8(Resp.serializingPoints);
    const pair = emptyPair();
    let sent = 0n;
    try {
      for await (const p of mergePoints(sources, keep)) {
        if (sent === limit) break;
        pair.time = p.ticks;
        pair.pointId = p.pointId;
        pair.value1 = BigInt(valueToFloat32Bits(p.value));
        pair.value3 = BigInt(p.flags >>> 0);
        enc.encode(w, pair);
        sent++;
        if (w.length >= WRITE_CHUNK) await this.drain(w);
      }
    } catch (e) {
      enc.end(w);
      w.u8(Resp.errorWhileReading).string(e instanceof Error ? e.message : String(e));
      this.send(w);
      return;
    }
    enc.end(w);
    w.u8(Resp.readComplete);
    this.send(w);
  }

  private async *batches(id: StreamId, start: bigint, end: bigint): AsyncGenerator<PointBatch> {
    for await (const b of this.ctx.db.rawValues(id, start, end, 0)) yield b.value;
  }

  /** Send what is gathered; wait while the socket's buffer is full. */
  private async drain(w: WireWriter): Promise<void> {
    if (this.socket.destroyed) throw new Error('client went away during the read');
    const ok = this.socket.write(w.take());
    if (ok) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }
}

function add(map: Map<bigint, PendingPoint>, id: bigint, ns: bigint, value: number, flags: number): void {
  let p = map.get(id);
  if (p === undefined) {
    p = new PendingPoint();
    map.set(id, p);
  }
  p.push(ns, value, flags);
}

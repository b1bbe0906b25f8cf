import { corruption, DbError } from '../core/errors.ts';
import { GroupCommit } from './group-commit.ts';
import type { ObjectStore } from './object-store.ts';
import { crc32, RECORD_HEADER_BYTES, readU32, recordProblem, writeRecord, writeU32 } from './record-format.ts';
import type { LogSyncStats, Lsn, RecordLog } from './types.ts';

/**
 * A RecordLog over an ObjectStore: the WAL of a cluster shard (format:
 * docs/format/cluster-objects.md). Each `sync()` writes the records staged since the previous one
 * as ONE create-only object `<prefix>/<epoch>/<seq>`; LSNs are offsets in one virtual byte stream
 * that continues across objects and epochs.
 *
 * Fencing: the shard's owner writes under its epoch (a number the cluster bumps at every
 * takeover). A new owner first SEALS every earlier epoch by creating the object at the next free
 * sequence number of it; the old owner's next create then finds that key taken and the old owner
 * can never acknowledge another record (its log fails with DbError 453). Everything it did
 * acknowledge was created before the seal, so the new owner's replay (after sealing) reads it.
 *
 * Truncation: every data object's header carries the log's floor at the time it was written (the
 * highest `truncateBefore` bound so far). Objects ending at or below the newest data object's
 * floor are not needed: open and replay skip them (so a garbage collector may delete them in any
 * order) and `truncateBefore` retires them, with the seals before that newest data object. The
 * newest data object is never retired, so the next LSN is always known.
 */
export interface ObjectRecordLogOptions {
  /** Key prefix of this log, without a trailing slash (`shards/07/wal`). */
  readonly prefix: string;
  /** This owner's epoch, an integer in [1, 10^10): every earlier one is sealed at open. */
  readonly epoch: number;
  /** Gets the keys of objects `truncateBefore` dropped. Default: delete them at once. */
  readonly retire?: (keys: readonly string[]) => Promise<void>;
  /** Largest payload. Default 256 MiB. */
  readonly maxRecordBytes?: number;
  /**
   * Epochs without any object between the newest one that has objects and ours are sealed too
   * (one small object each); more than this many fails the open (a misconfigured epoch). Default 10 000.
   */
  readonly maxUnusedEpochs?: number;
  /** GETs kept in flight at open and during replay. Default 8. */
  readonly readConcurrency?: number;
}

const MAGIC = 'ArbWalO1';
/** Bytes of an object's header. */
export const WAL_HEADER_BYTES = 52;
const KIND_DATA = 1;
const KIND_SEAL = 2;
const EPOCH_LIMIT = 10 ** 10;
const KEY_TAIL = /^(\d{10})\/(\d{10})$/;
/** Sequence numbers a new owner seals at once per epoch (see sealEpoch). */
const SEAL_WINDOW = 4;

export const walKey = (prefix: string, epoch: number, seq: number): string =>
  `${prefix}/${String(epoch).padStart(10, '0')}/${String(seq).padStart(10, '0')}`;

interface Header {
  readonly kind: typeof KIND_DATA | typeof KIND_SEAL;
  readonly epoch: number;
  readonly seq: number;
  readonly start: Lsn;
  readonly floor: Lsn;
}

/** One object of the log, as listed and its header read. */
interface LogObject extends Header {
  readonly key: string;
  /** LSN just past its last record (= start for a seal). */
  readonly end: Lsn;
  readonly size: number;
}

function writeU64(buf: Uint8Array, at: number, v: number): void {
  writeU32(buf, at, v % 2 ** 32);
  writeU32(buf, at + 4, Math.floor(v / 2 ** 32));
}
const readU64 = (buf: Uint8Array, at: number): number => readU32(buf, at) + readU32(buf, at + 4) * 2 ** 32;

export function encodeWalHeader(h: Header): Uint8Array {
  const b = new Uint8Array(WAL_HEADER_BYTES);
  b.set(Buffer.from(MAGIC, 'latin1'), 0);
  writeU32(b, 8, h.kind);
  writeU32(b, 12, 0);
  writeU64(b, 16, h.epoch);
  writeU64(b, 24, h.seq);
  writeU64(b, 32, h.start);
  writeU64(b, 40, h.floor);
  writeU32(b, 48, crc32(b.subarray(0, 48)));
  return b;
}

/** The header of the object `key` (epoch, seq from the key), or why it is not one. */
export function decodeWalHeader(b: Uint8Array, epoch: number, seq: number): Header | string {
  if (b.length < WAL_HEADER_BYTES) return `truncated WAL object header (${b.length} of ${WAL_HEADER_BYTES} bytes)`;
  if (Buffer.from(b.subarray(0, 8)).toString('latin1') !== MAGIC) return 'not a WAL object (bad magic)';
  if (readU32(b, 48) !== crc32(b.subarray(0, 48))) return 'WAL object header checksum mismatch';
  const kind = readU32(b, 8);
  if (kind !== KIND_DATA && kind !== KIND_SEAL) return `unknown WAL object kind ${kind}`;
  const h: Header = { kind, epoch: readU64(b, 16), seq: readU64(b, 24), start: readU64(b, 32), floor: readU64(b, 40) };
  if (h.epoch !== epoch || h.seq !== seq) {
    return `header names epoch ${h.epoch} seq ${h.seq}, but its key names epoch ${epoch} seq ${seq}: a misplaced object`;
  }
  if (h.floor > h.start) return `floor ${h.floor} lies past the object's start LSN ${h.start}`;
  return h;
}

export class ObjectRecordLog implements RecordLog {
  /** Every object of the log still considered (oldest first), this owner's included. */
  private objects: LogObject[];
  private staged: { lsn: Lsn; rec: Uint8Array }[] = [];
  private next: Lsn;
  private durable: Lsn;
  private nextSeq: number;
  /** Highest truncateBefore bound; written into the next object's header. */
  private pendingFloor: Lsn;
  private failed: DbError | undefined;
  private fenced: DbError | undefined;
  private closed = false;
  private readonly commit: GroupCommit;
  private readonly maxRecordBytes: number;
  private readonly readConcurrency: number;
  /** Objects written, and their bytes (headers included), since open. */
  readonly written = { objects: 0, bytes: 0 };
  /** Records made durable by those objects. */
  private syncedRecords = 0;

  private constructor(
    readonly store: ObjectStore,
    private readonly opts: ObjectRecordLogOptions,
    objects: LogObject[],
    /** Records below it were no longer needed when the log was opened: replay skips them. */
    private readonly openFloor: Lsn,
    nextSeq: number,
  ) {
    this.objects = objects;
    const last = objects.findLast((o) => o.kind === KIND_DATA);
    this.next = last?.end ?? 0;
    this.durable = this.next;
    this.pendingFloor = last?.floor ?? 0;
    this.nextSeq = nextSeq;
    this.maxRecordBytes = opts.maxRecordBytes ?? 256 * 2 ** 20;
    this.readConcurrency = opts.readConcurrency ?? 8;
    this.commit = new GroupCommit(
      () => this.next,
      () => this.durable,
      (target) => this.flush(target),
      (e) => this.discardUnsynced(e),
    );
  }

  /**
   * Take the log over for `opts.epoch`: seal every earlier epoch, then read every object's header
   * and check that the records from the newest floor on form one unbroken LSN range. DbError 453
   * when a newer epoch already wrote (or sealed ours); 500 naming the key for a broken chain or a
   * bad header.
   */
  static async open(store: ObjectStore, opts: ObjectRecordLogOptions): Promise<ObjectRecordLog> {
    const { epoch } = opts;
    if (!Number.isSafeInteger(epoch) || epoch < 1 || epoch >= EPOCH_LIMIT) {
      throw new DbError(438, `WAL epoch must be an integer in [1, 10^10), got ${epoch}`);
    }
    let listed = await listLog(store, opts.prefix);
    const newer = listed.find((o) => o.epoch > epoch);
    if (newer) throw fencedAtOpen(store, newer.key, epoch);
    // Seal every earlier epoch whose last object is not a seal (seals are exactly one header
    // long), and every epoch after the newest one with objects: their owners may not have
    // written yet.
    const lastOf = new Map<number, { seq: number; size: number }>();
    for (const o of listed) if (o.epoch < epoch) lastOf.set(o.epoch, o);
    const newest = Math.max(0, ...lastOf.keys());
    const unused = epoch - 1 - newest;
    const maxUnused = opts.maxUnusedEpochs ?? 10_000;
    if (unused > maxUnused) {
      throw new DbError(
        438,
        `WAL ${store.location} ${opts.prefix}/: epoch ${epoch} would leave ${unused} unused epochs after ${newest} to seal (more than ${maxUnused})`,
      );
    }
    const toSeal: { epoch: number; seq: number }[] = [];
    for (const [e, last] of lastOf) if (last.size !== WAL_HEADER_BYTES) toSeal.push({ epoch: e, seq: last.seq + 1 });
    for (let e = newest + 1; e < epoch; e++) toSeal.push({ epoch: e, seq: 0 });
    await inParallel(toSeal, opts.readConcurrency ?? 8, (t) => sealEpoch(store, opts.prefix, t.epoch, t.seq));
    // Read the sealed log; everything any earlier owner acknowledged is in it now.
    listed = await listLog(store, opts.prefix);
    const late = listed.find((o) => o.epoch > epoch);
    if (late) throw fencedAtOpen(store, late.key, epoch);
    const reader = new HeaderReader(store, opts.prefix);
    const objects: LogObject[] = [];
    await inParallel(listed, opts.readConcurrency ?? 8, async (o) => {
      await reader.header(o.key, o.epoch, o.seq, o.size);
    });
    for (const o of listed) objects.push(await reader.header(o.key, o.epoch, o.seq, o.size));
    const myLast = objects.filter((o) => o.epoch === epoch).at(-1);
    if (myLast?.kind === KIND_SEAL) {
      throw new DbError(
        453,
        `WAL ${store.location} ${opts.prefix}/: epoch ${epoch} is sealed (${myLast.key}): a newer owner took this shard over`,
      );
    }
    const floor = checkChain(objects);
    return new ObjectRecordLog(store, opts, objects, floor, myLast ? myLast.seq + 1 : 0);
  }

  get location(): string {
    return `${this.store.location} ${this.opts.prefix}/`;
  }

  /** Stage `payload` (copied) and return its LSN. REQUIRES: 1 ≤ length ≤ maxRecordBytes. */
  append(payload: Uint8Array): Lsn {
    this.checkOpen();
    this.writable();
    if (payload.length === 0) throw new DbError(421, 'cannot append an empty record');
    if (payload.length > this.maxRecordBytes) {
      throw new DbError(414, `record of ${payload.length} bytes exceeds maxRecordBytes ${this.maxRecordBytes}`);
    }
    const rec = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
    writeRecord(rec, 0, payload);
    const lsn = this.next;
    this.staged.push({ lsn, rec });
    this.next += rec.length;
    return lsn;
  }

  /** Write every staged record as one object (group commit: concurrent callers share it). */
  sync(): Promise<void> {
    this.checkOpen();
    if (this.fenced && this.next > this.durable) return Promise.reject(this.fenced);
    return this.commit.sync();
  }

  get durableLsn(): Lsn {
    return this.durable;
  }

  get nextLsn(): Lsn {
    return this.next;
  }

  /** Fencing (453) outlives `resume()`; any other failure is cleared by it. */
  get failure(): DbError | undefined {
    return this.fenced ?? this.failed;
  }

  resume(): void {
    this.failed = undefined;
  }

  /**
   * Yield every durable record with lsn ≥ `from`, in order, verifying every checksum (DbError
   * 500 naming the object key and offset). Objects are fetched `readConcurrency` at a time ahead.
   */
  async *replay(from: Lsn = 0): AsyncIterable<{ readonly lsn: Lsn; readonly payload: Uint8Array }> {
    this.checkOpen();
    const end = this.durable;
    const skip = Math.max(from, this.openFloor);
    const todo = this.objects.filter((o) => o.kind === KIND_DATA && o.end > skip && o.start < end);
    const window: Promise<Uint8Array>[] = [];
    let fetched = 0;
    const fetchNext = (): void => {
      const o = todo[fetched++];
      if (!o) return;
      const p = this.fetch(o);
      p.catch(() => {}); // observed when its turn comes
      window.push(p);
    };
    for (let i = 0; i < this.readConcurrency; i++) fetchNext();
    for (const o of todo) {
      const body = await window.shift();
      fetchNext();
      if (!body) throw new DbError(500, 'WAL replay lost an object');
      let at = WAL_HEADER_BYTES;
      while (at < body.length) {
        const problem = recordProblem(body, at, body.length - at, this.maxRecordBytes);
        if (problem) throw corruption(o.key, at, problem);
        const len = readU32(body, at);
        const lsn = o.start + at - WAL_HEADER_BYTES;
        if (lsn >= end) return;
        if (lsn >= from) yield { lsn, payload: body.slice(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + len) };
        at += RECORD_HEADER_BYTES + len;
      }
    }
  }

  /** The object holding `lsn` and the byte offset in it. */
  locate(lsn: Lsn): { readonly file: string; readonly offset: number } {
    const data = this.objects.filter((x) => x.kind === KIND_DATA);
    const o = data.findLast((x) => x.start <= lsn && (lsn < x.end || x === data.at(-1)));
    return o ? { file: o.key, offset: WAL_HEADER_BYTES + lsn - o.start } : { file: `${this.location}`, offset: lsn };
  }

  /**
   * Raise the floor to `before` (bounded by the durable end): the next object written records it.
   * Then retire (in order) the objects before the newest durable data object that are seals or end
   * at or below the floor recorded in it — never that object itself. So a floor is durable before
   * anything below it goes, and the next LSN stays known.
   */
  async truncateBefore(before: Lsn): Promise<void> {
    this.checkOpen();
    this.pendingFloor = Math.max(this.pendingFloor, Math.min(before, this.durable));
    const newest = this.objects.findLast((o) => o.kind === KIND_DATA);
    if (!newest) return;
    const victims: LogObject[] = [];
    for (const o of this.objects) {
      if (o === newest || (o.kind === KIND_DATA && o.end > newest.floor)) break;
      victims.push(o);
    }
    if (victims.length === 0) return;
    this.objects = this.objects.slice(victims.length);
    const keys = victims.map((o) => o.key);
    if (this.opts.retire) await this.opts.retire(keys);
    else await this.store.delete(keys);
  }

  /** Make everything staged durable (each sync is its own object already; there is nothing to roll). */
  async roll(): Promise<void> {
    this.checkOpen();
    this.writable();
    await this.sync();
  }

  /** `syncs` = data objects created (one per group commit; seals written at open are not counted). */
  syncStats(): LogSyncStats {
    return { syncs: this.written.objects, records: this.syncedRecords };
  }

  /** Bytes of the objects still considered (headers included) plus the staged records. */
  bytes(): number {
    let n = 0;
    for (const o of this.objects) n += o.size;
    return n + (this.next - this.durable);
  }

  /** Objects of this log still considered, oldest first (for reports and tests). */
  listObjects(): readonly {
    readonly key: string;
    readonly startLsn: Lsn;
    readonly endLsn: Lsn;
    readonly seal: boolean;
  }[] {
    return this.objects.map((o) => ({ key: o.key, startLsn: o.start, endLsn: o.end, seal: o.kind === KIND_SEAL }));
  }

  /** Sync what is staged (if the log can still write); the ObjectStore stays open. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.failure && this.next > this.durable) await this.commit.sync();
    } finally {
      this.closed = true;
      await this.commit.idle();
    }
  }

  private async flush(target: Lsn): Promise<void> {
    if (this.fenced) throw this.fenced;
    const take = this.staged.filter((s) => s.lsn < target);
    const bytes = take.reduce((n, s) => n + s.rec.length, 0);
    const start = this.durable;
    const seq = this.nextSeq;
    const floor = this.pendingFloor;
    const header: Header = { kind: KIND_DATA, epoch: this.opts.epoch, seq, start, floor };
    const body = new Uint8Array(WAL_HEADER_BYTES + bytes);
    body.set(encodeWalHeader(header), 0);
    let at = WAL_HEADER_BYTES;
    for (const s of take) {
      body.set(s.rec, at);
      at += s.rec.length;
    }
    const key = walKey(this.opts.prefix, this.opts.epoch, seq);
    if (!(await this.store.create(key, body))) {
      this.fenced = new DbError(
        453,
        `WAL object ${key} in ${this.store.location} already exists: the log is fenced (a newer owner sealed epoch ${this.opts.epoch}, or an earlier attempt of this write landed after it timed out); this node no longer owns the shard`,
      );
      throw this.fenced;
    }
    this.written.objects++;
    this.written.bytes += body.length;
    this.syncedRecords += take.length;
    this.nextSeq++;
    this.objects.push({ ...header, key, end: start + bytes, size: body.length });
    this.staged = this.staged.slice(take.length);
    this.durable = start + bytes;
  }

  /** A write failed: forget every staged record (see RecordLog.failure); LSNs from durableLsn are reused. */
  private async discardUnsynced(e: unknown): Promise<void> {
    const cause = e instanceof DbError ? e : new DbError(434, String(e), { cause: e });
    if (cause !== this.fenced) {
      this.failed = new DbError(
        cause.code,
        `WAL ${this.location} refuses appends after a failed write (${cause.message})`,
        {
          cause,
        },
      );
    }
    this.staged = [];
    this.next = this.durable;
  }

  private async fetch(o: LogObject): Promise<Uint8Array> {
    const body = await this.store.get(o.key);
    if (!body) throw corruption(o.key, 0, 'WAL object is missing (deleted while still needed)');
    const h = decodeWalHeader(body, o.epoch, o.seq);
    if (typeof h === 'string') throw corruption(o.key, 0, h);
    if (body.length !== o.size || h.start !== o.start) {
      throw corruption(
        o.key,
        0,
        `WAL object changed since open (${body.length} bytes, start ${h.start}; was ${o.size}, ${o.start})`,
      );
    }
    return body;
  }

  private writable(): void {
    const f = this.failure;
    if (f) throw f;
  }

  private checkOpen(): void {
    if (this.closed) throw new DbError(500, `WAL ${this.location} is closed`);
  }
}

/**
 * Make sure epoch `e` can never get another object: create seals at its next free sequence
 * numbers `seq … seq + SEAL_WINDOW − 1` at once. The epoch's owner writes its numbers one at a
 * time and stops at the first it finds taken, so once every one of these creates has answered,
 * it is stopped below our lowest seal, and whatever it wrote below that exists now (a `false`
 * means the key was there). Only if the owner won every number of the window (it wrote that many
 * objects during one round trip) is the next window tried. Trying one number at a time would let
 * a busy owner win every round; never skipping a number keeps the argument above true.
 */
async function sealEpoch(store: ObjectStore, prefix: string, e: number, seq: number): Promise<void> {
  for (let s = seq; ; s += SEAL_WINDOW) {
    const won = await Promise.all(
      Array.from({ length: SEAL_WINDOW }, (_, i) =>
        store.create(
          walKey(prefix, e, s + i),
          encodeWalHeader({ kind: KIND_SEAL, epoch: e, seq: s + i, start: 0, floor: 0 }),
        ),
      ),
    );
    if (won.some(Boolean)) return;
  }
}

/** Listed objects of a log, in (epoch, seq) order; keys that are not `<epoch>/<seq>` are ignored. */
async function listLog(
  store: ObjectStore,
  prefix: string,
  epoch?: number,
): Promise<{ key: string; epoch: number; seq: number; size: number }[]> {
  const out: { key: string; epoch: number; seq: number; size: number }[] = [];
  const under = epoch === undefined ? `${prefix}/` : `${prefix}/${String(epoch).padStart(10, '0')}/`;
  for (const info of await store.list(under)) {
    const m = KEY_TAIL.exec(info.key.slice(prefix.length + 1));
    if (!m?.[1] || !m[2]) continue;
    out.push({ key: info.key, epoch: Number(m[1]), seq: Number(m[2]), size: info.size });
  }
  return out.sort((a, b) => a.epoch - b.epoch || a.seq - b.seq);
}

/** Reads (once) and checks the headers of listed objects. */
class HeaderReader {
  private readonly cache = new Map<string, Promise<LogObject>>();
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
  ) {}

  header(key: string, epoch: number, seq: number, size: number): Promise<LogObject> {
    let p = this.cache.get(key);
    if (!p) {
      p = this.read(key, epoch, seq, size);
      this.cache.set(key, p);
    }
    return p;
  }

  private async read(key: string, epoch: number, seq: number, size: number): Promise<LogObject> {
    // A seal is exactly one header long and a data object longer: no need to read seals.
    if (size === WAL_HEADER_BYTES) return { kind: KIND_SEAL, epoch, seq, start: 0, floor: 0, key, size, end: 0 };
    const b = await this.store.get(key, { offset: 0, length: WAL_HEADER_BYTES });
    if (!b) throw corruption(key, 0, `WAL object of ${this.prefix}/ vanished while the log was opened`);
    const h = decodeWalHeader(b, epoch, seq);
    if (typeof h === 'string') throw corruption(key, 0, h);
    if (h.kind === KIND_SEAL && size !== WAL_HEADER_BYTES) throw corruption(key, 0, `seal object of ${size} bytes`);
    if (h.kind === KIND_DATA && size <= WAL_HEADER_BYTES)
      throw corruption(key, 0, `data object of ${size} bytes holds no record`);
    return { ...h, key, size, end: h.start + size - WAL_HEADER_BYTES };
  }
}

/**
 * Check that the data objects still needed — those ending past the newest data object's floor,
 * and the newest itself — have LSN ranges that join up, starting at or below that floor. Seals
 * are not part of the LSN chain. Returns the floor.
 */
function checkChain(all: readonly LogObject[]): Lsn {
  const data = all.filter((o) => o.kind === KIND_DATA);
  const newest = data.at(-1);
  if (!newest) return 0;
  const floor = newest.floor;
  const live = data.filter((o) => o.end > floor || o === newest);
  const first = live[0];
  if (first && first.start > floor) {
    throw corruption(
      first.key,
      0,
      `WAL records [${floor}, ${first.start}) are missing: the log's floor is ${floor} but the oldest object left starts at LSN ${first.start}`,
    );
  }
  for (let i = 1; i < live.length; i++) {
    const prev = live[i - 1];
    const o = live[i];
    if (prev && o && o.start !== prev.end) {
      throw corruption(
        o.key,
        0,
        `starts at LSN ${o.start} but the previous object ${prev.key} ends at LSN ${prev.end}: WAL records are missing`,
      );
    }
  }
  return floor;
}

function fencedAtOpen(store: ObjectStore, key: string, epoch: number): DbError {
  return new DbError(
    453,
    `WAL object ${key} in ${store.location} belongs to an epoch newer than ${epoch}: another node owns this shard`,
  );
}

export async function inParallel<T>(
  items: readonly T[],
  width: number,
  each: (item: T) => Promise<void>,
): Promise<void> {
  let i = 0;
  const worker = async (): Promise<void> => {
    while (i < items.length) {
      const item = items[i++] as T;
      await each(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

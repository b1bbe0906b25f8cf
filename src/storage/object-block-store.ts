import { corruption, DbError } from '../core/errors.ts';
import { GroupCommit } from './group-commit.ts';
import type { ObjectStore } from './object-store.ts';
import { crc32, RECORD_HEADER_BYTES, readU32, recordProblem, writeRecord, writeU32 } from './record-format.ts';
import type { BlockRef, BlockStore } from './types.ts';

/**
 * A BlockStore over an ObjectStore, for cluster mode (format: docs/format/cluster-objects.md).
 * Addresses keep the file store's shape, `segmentId · 2^32 + offset`, so compaction works
 * unchanged; but a segment is a sequence of immutable **part** objects: every `sync()` writes the
 * blocks staged since the previous one as one object per segment touched (normally one), named by
 * segment id and the offset of its first record. Segment ids come from an injected allocator (the
 * cluster backs it with PostgreSQL, fenced by the shard's epoch), so two owners never share one;
 * a create that finds the key taken therefore means this node lost the shard (DbError 453).
 */
export interface ObjectBlockStoreOptions {
  /** Key prefix of this store's objects, without a trailing slash (`shards/07/blocks`). */
  readonly prefix: string;
  /**
   * Hands out `n` segment ids never used before under this prefix, in [1, 2^21). Needed only to
   * write (a reader may omit it). The store keeps a small pool so that `put` stays synchronous.
   */
  readonly allocateSegmentIds?: (n: number) => Promise<number[]>;
  /** Ids kept in the pool (refilled in the background when half are used). Default 4. */
  readonly idPool?: number;
  /**
   * Gets the keys of deleted segments (`deleteSegments`). Default: delete them at once. The
   * cluster hands them to a garbage table so that readers still holding old roots finish first.
   */
  readonly retire?: (keys: readonly string[]) => Promise<void>;
  /** Roll to a new segment when a put would take the active one past this size. Default 1 GiB; < 2^32. */
  readonly segmentBytes?: number;
  /** Start a new part (within the same sync) past this many bytes. Default 64 MiB. */
  readonly maxPartBytes?: number;
  /** Largest block payload. Default 64 MiB. */
  readonly maxBlockBytes?: number;
  /** `getMany` reads two refs of one part with one GET when at most this many bytes lie between them. Default 64 KiB. */
  readonly readGapBytes?: number;
  /** Cap on the bytes of one coalesced GET. Default 4 MiB. */
  readonly maxReadBytes?: number;
  /** GETs `getMany` keeps in flight at once. Default 8. */
  readonly readConcurrency?: number;
}

const ADDR_SCALE = 2 ** 32;
const SEGMENT_ID_LIMIT = 2 ** 21;
const MAGIC = 'ArbBlkP1';
/** Bytes of a part's header: magic, segment id, start offset, body length, crc. */
export const PART_HEADER_BYTES = 24;
const KEY_TAIL = /^([0-9a-f]{8})\/([0-9a-f]{10})$/;

export const partKey = (prefix: string, segId: number, start: number): string =>
  `${prefix}/${segId.toString(16).padStart(8, '0')}/${start.toString(16).padStart(10, '0')}`;

/** The header that opens every part object. */
export function encodePartHeader(segId: number, start: number, bodyBytes: number): Uint8Array {
  const h = new Uint8Array(PART_HEADER_BYTES);
  h.set(Buffer.from(MAGIC, 'latin1'), 0);
  writeU32(h, 8, segId);
  writeU32(h, 12, start);
  writeU32(h, 16, bodyBytes);
  writeU32(h, 20, crc32(h.subarray(0, 20)));
  return h;
}

/** Why `h` is not the header of the part (`segId`, `start`) of `bodyBytes` bytes, or undefined. */
export function partHeaderProblem(h: Uint8Array, segId: number, start: number, bodyBytes?: number): string | undefined {
  if (h.length < PART_HEADER_BYTES) return `truncated part header (${h.length} of ${PART_HEADER_BYTES} bytes)`;
  if (Buffer.from(h.subarray(0, 8)).toString('latin1') !== MAGIC) return 'not a block part (bad magic)';
  if (readU32(h, 20) !== crc32(h.subarray(0, 20))) return 'part header checksum mismatch';
  if (readU32(h, 8) !== segId || readU32(h, 12) !== start) {
    return `part header names segment ${readU32(h, 8)} offset ${readU32(h, 12)}, but its key names segment ${segId} offset ${start}: a misplaced object`;
  }
  if (bodyBytes !== undefined && readU32(h, 16) !== bodyBytes) {
    return `part header says ${readU32(h, 16)} body bytes, the object holds ${bodyBytes}`;
  }
  return undefined;
}

/** A durable part object. */
interface Part {
  readonly key: string;
  readonly start: number;
  readonly bytes: number;
}

/** Records staged for one part, not yet durable. */
interface PendingPart {
  readonly seg: Segment;
  readonly start: number;
  /** Record offsets (in the segment) and bytes, in order. */
  readonly offsets: number[];
  readonly records: Uint8Array[];
  bytes: number;
  /** Global staged position just past this part's last record. */
  endPos: number;
  /** No more records join it (a flush has taken it). */
  frozen: boolean;
}

interface Segment {
  readonly id: number;
  /** Durable parts, by start offset. */
  parts: Part[];
  pending: PendingPart[];
  /** Offset just past the last staged byte. */
  end: number;
}

export class ObjectBlockStore implements BlockStore {
  private readonly segs = new Map<number, Segment>();
  /** Segments deleted by this store: their objects may linger (retire decides), but never come back. */
  private readonly deleted = new Set<number>();
  private active: Segment | undefined;
  private readonly ids: number[] = [];
  private refilling: Promise<void> | undefined;
  private allocError: unknown;
  /** Global positions (bytes ever staged / made durable), for group commit. */
  private stagedPos = 0;
  private durablePos = 0;
  private readonly commit: GroupCommit;
  private closed = false;
  private readonly segmentBytes: number;
  private readonly maxPartBytes: number;
  private readonly maxBlockBytes: number;
  private readonly readGapBytes: number;
  private readonly maxReadBytes: number;
  private readonly readConcurrency: number;
  private readonly idPool: number;
  /** Parts written, and their bytes (headers included), since open. */
  readonly written = { parts: 0, bytes: 0 };

  private constructor(
    readonly store: ObjectStore,
    private readonly opts: ObjectBlockStoreOptions,
  ) {
    this.segmentBytes = opts.segmentBytes ?? 2 ** 30;
    if (!(this.segmentBytes > 0 && this.segmentBytes < ADDR_SCALE)) {
      throw new DbError(438, `segmentBytes must be in (0, 2^32), got ${this.segmentBytes}`);
    }
    this.maxPartBytes = opts.maxPartBytes ?? 64 * 2 ** 20;
    this.maxBlockBytes = opts.maxBlockBytes ?? 64 * 2 ** 20;
    this.readGapBytes = opts.readGapBytes ?? 64 * 1024;
    this.maxReadBytes = opts.maxReadBytes ?? 4 * 2 ** 20;
    this.readConcurrency = opts.readConcurrency ?? 8;
    this.idPool = opts.idPool ?? 4;
    this.commit = new GroupCommit(
      () => this.stagedPos,
      () => this.durablePos,
      () => this.flush(),
    );
  }

  /**
   * List the prefix to learn every segment's parts, and fill the id pool (when writing). Nothing
   * is read but the listing: parts are checked as they are read.
   */
  static async open(store: ObjectStore, opts: ObjectBlockStoreOptions): Promise<ObjectBlockStore> {
    const s = new ObjectBlockStore(store, opts);
    for (const info of await store.list(`${opts.prefix}/`)) s.learn(info.key, info.size);
    if (opts.allocateSegmentIds) await s.refill();
    return s;
  }

  /** Where this store's objects live, for messages. */
  get location(): string {
    return `${this.store.location} ${this.opts.prefix}/`;
  }

  /**
   * Stage `block` (copied) and return its address. A new segment is started when the active one
   * would pass `segmentBytes`; its id comes from the pool (DbError 434 when the pool is empty
   * because the allocator keeps failing).
   */
  put(block: Uint8Array): BlockRef {
    this.checkOpen();
    if (block.length === 0) throw new DbError(421, 'cannot store an empty block');
    if (block.length > this.maxBlockBytes) {
      throw new DbError(414, `block of ${block.length} bytes exceeds maxBlockBytes ${this.maxBlockBytes}`);
    }
    const len = RECORD_HEADER_BYTES + block.length;
    let seg = this.active;
    if (!seg || (seg.end > 0 && seg.end + len > this.segmentBytes) || seg.end + len >= ADDR_SCALE) {
      this.rollSegment();
      seg = this.active;
    }
    if (!seg) throw new DbError(500, `block store ${this.location} has no active segment`);
    let part = seg.pending.at(-1);
    if (!part || part.frozen || part.bytes + len > this.maxPartBytes) {
      part = { seg, start: seg.end, offsets: [], records: [], bytes: 0, endPos: this.stagedPos, frozen: false };
      seg.pending.push(part);
    }
    const rec = new Uint8Array(len);
    writeRecord(rec, 0, block);
    const offset = seg.end;
    part.offsets.push(offset);
    part.records.push(rec);
    part.bytes += len;
    seg.end += len;
    this.stagedPos += len;
    part.endPos = this.stagedPos;
    return { addr: seg.id * ADDR_SCALE + offset, len };
  }

  /** Write every staged block (one object per part) and resolve when all are durable; concurrent calls coalesce. */
  async sync(): Promise<void> {
    this.checkOpen();
    await this.commit.sync();
    if (this.ids.length === 0 && this.opts.allocateSegmentIds) await this.refill();
  }

  async get(ref: BlockRef): Promise<Uint8Array> {
    const [b] = await this.getMany([ref]);
    if (!b) throw new DbError(500, 'block read returned nothing');
    return b;
  }

  /**
   * Read `refs` (results in request order). Staged blocks come from memory; durable ones with one
   * ranged GET per run of refs in one part that lie at most `readGapBytes` apart (and span at most
   * `maxReadBytes`), `readConcurrency` GETs at a time. Every checksum is verified.
   */
  async getMany(refs: readonly BlockRef[]): Promise<Uint8Array[]> {
    this.checkOpen();
    const out = new Array<Uint8Array>(refs.length);
    const order = refs.map((_, i) => i).sort((a, b) => (refs[a]?.addr ?? 0) - (refs[b]?.addr ?? 0));
    const runs: { part: Part; seg: Segment; from: number; to: number; members: number[] }[] = [];
    for (const i of order) {
      const ref = refs[i];
      if (!ref) continue;
      const { seg, offset } = await this.locate(ref);
      const staged = stagedRecord(seg, offset);
      if (staged) {
        out[i] = this.checkRecord(partKey(this.opts.prefix, seg.id, offset), offset, staged, ref.len);
        continue;
      }
      const part = findPart(seg.parts, offset);
      if (!part || offset + ref.len > part.start + part.bytes) {
        throw corruption(
          partKey(this.opts.prefix, seg.id, part?.start ?? 0),
          offset,
          `no part of segment ${seg.id} holds the block [${offset}, +${ref.len})`,
        );
      }
      const last = runs.at(-1);
      const end = offset + ref.len;
      if (
        last &&
        last.part === part &&
        offset - last.to <= this.readGapBytes &&
        Math.max(last.to, end) - last.from <= this.maxReadBytes
      ) {
        last.to = Math.max(last.to, end);
        last.members.push(i);
      } else {
        runs.push({ part, seg, from: offset, to: end, members: [i] });
      }
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < runs.length) {
        const run = runs[next++];
        if (!run) break;
        const { part } = run;
        // A run near the start of its part also reads the header, to catch a misplaced object.
        const withHeader = run.from - part.start <= this.readGapBytes;
        const objFrom = withHeader ? 0 : PART_HEADER_BYTES + run.from - part.start;
        const objTo = PART_HEADER_BYTES + run.to - part.start;
        const bytes = await this.store.get(part.key, { offset: objFrom, length: objTo - objFrom });
        if (!bytes) throw corruption(part.key, objFrom, `part object of segment ${run.seg.id} is missing`);
        if (bytes.length < objTo - objFrom) {
          throw corruption(part.key, objFrom, `short read: ${bytes.length} of ${objTo - objFrom} bytes`);
        }
        if (withHeader) {
          const problem = partHeaderProblem(bytes.subarray(0, PART_HEADER_BYTES), run.seg.id, part.start, part.bytes);
          if (problem) throw corruption(part.key, 0, problem);
        }
        for (const i of run.members) {
          const ref = refs[i];
          if (!ref) continue;
          const offset = ref.addr - run.seg.id * ADDR_SCALE;
          const at = PART_HEADER_BYTES + offset - part.start - objFrom;
          out[i] = this.checkRecord(
            part.key,
            PART_HEADER_BYTES + offset - part.start,
            bytes.subarray(at, at + ref.len),
            ref.len,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.readConcurrency, runs.length) }, worker));
    return out;
  }

  rollSegment(): number {
    this.checkOpen();
    const id = this.ids.shift();
    if (id === undefined) {
      void this.refill().catch(() => {});
      const why = this.allocError instanceof Error ? `: ${this.allocError.message}` : '';
      throw new DbError(
        434,
        `block store ${this.location} has no segment id to roll to (the allocator has not answered${why})`,
      );
    }
    if (this.ids.length <= this.idPool / 2) void this.refill().catch(() => {});
    const seg: Segment = { id, parts: [], pending: [], end: 0 };
    this.segs.set(id, seg);
    this.active = seg;
    return id;
  }

  rollIfUsed(): number {
    this.checkOpen();
    const a = this.active;
    if (a && a.end === 0) return a.id;
    return this.rollSegment();
  }

  /** Segments holding any byte (staged or durable), plus the active one, by id. */
  segments(): readonly { readonly id: number; readonly bytes: number }[] {
    return [...this.segs.values()]
      .filter((s) => s.end > 0 || s === this.active)
      .sort((a, b) => a.id - b.id)
      .map((s) => ({ id: s.id, bytes: s.end }));
  }

  /**
   * Forget whole segments and hand their part keys to `retire` (default: delete now). Unknown ids
   * are ignored. REQUIRES: none is the active segment or has blocks not yet durable.
   */
  async deleteSegments(ids: readonly number[]): Promise<void> {
    this.checkOpen();
    const victims: Segment[] = [];
    for (const id of ids) {
      const seg = this.segs.get(id);
      if (!seg) continue;
      if (seg === this.active || seg.pending.length > 0) {
        throw new DbError(500, `cannot delete segment ${id} of ${this.location}: it is still being written`);
      }
      victims.push(seg);
    }
    const keys = victims.flatMap((s) => s.parts.map((p) => p.key));
    for (const s of victims) {
      this.segs.delete(s.id);
      this.deleted.add(s.id);
    }
    if (keys.length === 0) return;
    if (this.opts.retire) await this.opts.retire(keys);
    else await this.store.delete(keys);
  }

  /** Bytes of all segments (record bytes, staged included; part headers not counted). */
  bytes(): number {
    let n = 0;
    for (const s of this.segs.values()) n += s.end;
    return n;
  }

  /** Sync what is staged; the ObjectStore stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.commit.sync();
    } finally {
      this.closed = true;
      await this.commit.idle();
    }
  }

  /**
   * Write the staged parts, oldest first; each becomes durable on its own. A failure leaves the
   * unwritten parts staged for the next sync to retry (the same keys and bytes).
   */
  private async flush(): Promise<void> {
    const parts = [...this.segs.values()].flatMap((s) => s.pending);
    parts.sort((a, b) => a.endPos - b.endPos);
    for (const p of parts) p.frozen = true;
    for (const p of parts) {
      const key = partKey(this.opts.prefix, p.seg.id, p.start);
      const body = new Uint8Array(PART_HEADER_BYTES + p.bytes);
      body.set(encodePartHeader(p.seg.id, p.start, p.bytes), 0);
      let at = PART_HEADER_BYTES;
      for (const r of p.records) {
        body.set(r, at);
        at += r.length;
      }
      if (!(await this.store.create(key, body))) {
        // Ours, if an earlier attempt that timed out did land; another writer's otherwise.
        const existing = await this.store.get(key);
        if (!existing || Buffer.compare(existing, body) !== 0) {
          throw new DbError(
            453,
            `block part ${key} in ${this.store.location} already exists: another node wrote this segment; this node no longer owns the shard`,
          );
        }
      }
      this.written.parts++;
      this.written.bytes += body.length;
      p.seg.pending.splice(p.seg.pending.indexOf(p), 1);
      insertPart(p.seg.parts, { key, start: p.start, bytes: p.bytes });
      this.durablePos = Math.max(this.durablePos, p.endPos);
    }
    this.durablePos = Math.max(this.durablePos, this.frozenEnd());
  }

  /** Staged position up to which nothing is pending (everything before the oldest pending part). */
  private frozenEnd(): number {
    let min = this.stagedPos;
    for (const s of this.segs.values()) for (const p of s.pending) min = Math.min(min, p.endPos - p.bytes);
    return min;
  }

  private refill(): Promise<void> {
    const alloc = this.opts.allocateSegmentIds;
    if (!alloc)
      return Promise.reject(
        new DbError(500, `block store ${this.location} was opened without allocateSegmentIds: it cannot write`),
      );
    if (!this.refilling) {
      const want = Math.max(1, this.idPool - this.ids.length);
      this.refilling = alloc(want)
        .then((got) => {
          for (const id of got) {
            if (!Number.isSafeInteger(id) || id < 1 || id >= SEGMENT_ID_LIMIT || this.segs.has(id)) {
              throw new DbError(
                500,
                `segment id allocator of ${this.location} returned ${id}, which is not a fresh id in [1, 2^21)`,
              );
            }
          }
          this.ids.push(...got);
          this.allocError = undefined;
        })
        .catch((e: unknown) => {
          this.allocError = e;
          throw e;
        })
        .finally(() => {
          this.refilling = undefined;
        });
    }
    return this.refilling;
  }

  /** Record a listed object. */
  private learn(key: string, size: number): Segment | undefined {
    const m = KEY_TAIL.exec(key.slice(this.opts.prefix.length + 1));
    if (!m?.[1] || !m[2]) return undefined; // not ours (a stray object is never read)
    const id = Number.parseInt(m[1], 16);
    const start = Number.parseInt(m[2], 16);
    if (this.deleted.has(id)) return undefined;
    let seg = this.segs.get(id);
    if (!seg) {
      seg = { id, parts: [], pending: [], end: 0 };
      this.segs.set(id, seg);
    }
    if (seg.parts.some((p) => p.start === start)) return seg;
    const bytes = Math.max(0, size - PART_HEADER_BYTES);
    insertPart(seg.parts, { key, start, bytes });
    seg.end = Math.max(seg.end, start + bytes);
    return seg;
  }

  /**
   * The segment and offset of `ref`, after checking that the ref can name a block. A segment or
   * offset this store has not seen is looked up again (one listing of the segment): another
   * process may have written it since open.
   */
  private async locate(ref: BlockRef): Promise<{ seg: Segment; offset: number }> {
    const id = Math.floor(ref.addr / ADDR_SCALE);
    const offset = ref.addr - id * ADDR_SCALE;
    const where = partKey(this.opts.prefix, id, 0).replace(/[0-9a-f]{10}$/, '');
    if (!Number.isSafeInteger(ref.addr) || !Number.isSafeInteger(ref.len)) {
      throw corruption(where, offset, `block ref {addr: ${ref.addr}, len: ${ref.len}} is not an integer pair`);
    }
    if (ref.len <= RECORD_HEADER_BYTES || ref.len > RECORD_HEADER_BYTES + this.maxBlockBytes) {
      throw corruption(where, offset, `block ref length ${ref.len} is impossible`);
    }
    let seg = this.segs.get(id);
    if (!seg || offset + ref.len > seg.end) {
      for (const info of await this.store.list(where)) this.learn(info.key, info.size);
      seg = this.segs.get(id);
    }
    if (!seg) throw corruption(where, offset, `block ref names segment ${id}, which does not exist`);
    if (offset + ref.len > seg.end) {
      throw corruption(
        where,
        offset,
        `block ref [${offset}, +${ref.len}) lies outside segment ${id} (${seg.end} bytes)`,
      );
    }
    return { seg, offset };
  }

  /** Check the record bytes `rec` read for a ref of length `len`; return the payload. */
  private checkRecord(key: string, offset: number, rec: Uint8Array, len: number): Uint8Array {
    if (rec.length < len) throw corruption(key, offset, `short read: ${rec.length} of ${len} bytes`);
    const stored = readU32(rec, 0);
    if (stored !== len - RECORD_HEADER_BYTES) {
      throw corruption(key, offset, `record length ${stored} does not match the reference (${len - 8})`);
    }
    const problem = recordProblem(rec, 0, len, this.maxBlockBytes);
    if (problem) throw corruption(key, offset, problem);
    return rec.slice(RECORD_HEADER_BYTES, len);
  }

  private checkOpen(): void {
    if (this.closed) throw new DbError(500, `block store ${this.location} is closed`);
  }
}

/** The staged record starting at `offset`, if any. */
function stagedRecord(seg: Segment, offset: number): Uint8Array | undefined {
  for (const p of seg.pending) {
    if (offset < p.start || offset >= p.start + p.bytes) continue;
    let lo = 0;
    let hi = p.offsets.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const o = p.offsets[mid] ?? 0;
      if (o === offset) return p.records[mid];
      if (o < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
  return undefined;
}

/** The part whose body holds `offset` (binary search over parts sorted by start). */
function findPart(parts: readonly Part[], offset: number): Part | undefined {
  let lo = 0;
  let hi = parts.length - 1;
  let found: Part | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const p = parts[mid];
    if (!p) break;
    if (p.start <= offset) {
      found = p;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found && offset < found.start + found.bytes ? found : undefined;
}

function insertPart(parts: Part[], part: Part): void {
  let i = parts.length;
  while (i > 0 && (parts[i - 1]?.start ?? 0) > part.start) i--;
  parts.splice(i, 0, part);
}

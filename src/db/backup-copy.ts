/**
 * Copying files into and out of a backup, hashing (SHA-256) as the bytes go by and fsyncing what
 * is written. Block segments are copied record by record with every record's CRC checked
 * (docs/format/block-segment.md), so a backup never silently carries damaged data, and the tail a
 * running server has not finished writing is left out.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { corruption, DbError } from '../core/errors.ts';
import { readU32, recordProblem } from '../storage/record-format.ts';
import { BLOCK_SEGMENT, segmentHeaderProblem } from '../storage/segment-header.ts';

/** Bytes read per I/O. */
const CHUNK = 8 * 1024 * 1024;
/** Largest block payload a segment may hold (the BlockStore's default maxBlockBytes). */
export const MAX_BLOCK_BYTES = 64 * 1024 * 1024;

export interface Copied {
  readonly bytes: number;
  readonly sha256: string;
}

async function readAt(fh: fs.promises.FileHandle, pos: number, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const { bytesRead } = await fh.read(buf, got, n - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Where copied bytes go: a new file (never an existing one), hashed and fsynced at the end. */
class HashedWriter {
  readonly hash = createHash('sha256');
  bytes = 0;
  private constructor(private readonly fh: fs.promises.FileHandle) {}

  static async create(file: string): Promise<HashedWriter> {
    return new HashedWriter(await fs.promises.open(file, 'wx'));
  }

  async write(part: Uint8Array): Promise<void> {
    let done = 0;
    while (done < part.length) {
      const { bytesWritten } = await this.fh.write(part, done, part.length - done, this.bytes + done);
      done += bytesWritten;
    }
    this.hash.update(part);
    this.bytes += part.length;
  }

  async finish(): Promise<Copied> {
    try {
      await this.fh.sync();
    } finally {
      await this.fh.close();
    }
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

/**
 * Copy block segment `src` (id `id`) to the new file `dst`, at most its first `limit` bytes,
 * checking the header and every record's length and CRC on the way.
 *
 * `tailMayBeTorn`: true when a server may still be writing this segment (no later segment file
 * existed when the copy started). A record cut short at the end is then the unsynced tail — no
 * published root references it — and is left out; a segment without a complete header holds
 * nothing durable and is skipped (null). Anything else wrong is corruption (DbError 500 with the
 * source file and offset).
 */
export async function copyBlockSegment(
  src: string,
  dst: string,
  id: number,
  limit: number,
  tailMayBeTorn: boolean,
  onBytes: (n: number) => void = () => undefined,
): Promise<Copied | null> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(src, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    if (tailMayBeTorn) return null; // created by a sync that has not happened yet: nothing durable
    throw corruption(src, 0, 'the segment file is missing although a later segment exists');
  }
  let out: HashedWriter | null = null;
  try {
    let size = Math.min(limit, (await fh.stat()).size);
    const header = await readAt(fh, 0, BLOCK_SEGMENT.bytes);
    if (header.length < BLOCK_SEGMENT.bytes || size < BLOCK_SEGMENT.bytes) {
      if (tailMayBeTorn) return null;
      throw corruption(src, 0, `segment header is truncated (${header.length} of ${BLOCK_SEGMENT.bytes} bytes)`);
    }
    const headerProblem = segmentHeaderProblem(BLOCK_SEGMENT, header, id);
    if (headerProblem) throw corruption(src, 0, headerProblem);
    out = await HashedWriter.create(dst);
    await out.write(header);
    let pos = BLOCK_SEGMENT.bytes;
    let buf: Uint8Array = new Uint8Array(0);
    let bufStart = pos;
    let written = pos;
    const flush = async (upTo: number): Promise<void> => {
      if (upTo <= written) return;
      await out?.write(buf.subarray(written - bufStart, upTo - bufStart));
      onBytes(upTo - written);
      written = upTo;
    };
    const refill = async (need: number): Promise<void> => {
      await flush(pos);
      buf = await readAt(fh, pos, Math.min(Math.max(CHUNK, need), size - pos));
      bufStart = pos;
      if (buf.length < Math.min(need, size - pos)) size = pos + buf.length; // the file is shorter than it said
    };
    while (pos < size) {
      if (pos + 8 > bufStart + buf.length && pos + 8 <= size) await refill(8);
      const at = pos - bufStart;
      const len = buf.length - at >= 8 ? readU32(buf, at) : 0;
      const need = 8 + len;
      if (len > 0 && len <= MAX_BLOCK_BYTES && pos + need <= size && pos + need > bufStart + buf.length) {
        await refill(need);
      }
      const problem = recordProblem(buf, pos - bufStart, Math.min(size, bufStart + buf.length) - pos, MAX_BLOCK_BYTES);
      if (problem) {
        if (tailMayBeTorn && problem.startsWith('truncated')) break;
        throw corruption(src, pos, problem);
      }
      pos += need;
    }
    await flush(pos);
    const done = await out.finish();
    out = null;
    return done;
  } catch (e) {
    await out?.abort();
    throw e;
  } finally {
    await fh.close();
  }
}

/** Copy a whole file to the new file `dst`; returns its size and SHA-256. */
export async function copyFileHashed(
  src: string,
  dst: string,
  onBytes: (n: number) => void = () => undefined,
): Promise<Copied> {
  const fh = await fs.promises.open(src, 'r');
  const out = await HashedWriter.create(dst);
  try {
    for (let pos = 0; ; ) {
      const part = await readAt(fh, pos, CHUNK);
      if (part.length === 0) break;
      await out.write(part);
      onBytes(part.length);
      pos += part.length;
    }
    return await out.finish();
  } catch (e) {
    await out.abort();
    throw e;
  } finally {
    await fh.close();
  }
}

/** Write `bytes` to the new file `dst` (fsynced); returns its size and SHA-256. */
export async function writeFileHashed(dst: string, bytes: Uint8Array): Promise<Copied> {
  const out = await HashedWriter.create(dst);
  try {
    await out.write(bytes);
    return await out.finish();
  } catch (e) {
    await out.abort();
    throw e;
  }
}

/** Size and SHA-256 of a file, read in chunks. */
export async function hashFile(file: string, onBytes: (n: number) => void = () => undefined): Promise<Copied> {
  const fh = await fs.promises.open(file, 'r');
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for (;;) {
      const part = await readAt(fh, bytes, CHUNK);
      if (part.length === 0) break;
      hash.update(part);
      bytes += part.length;
      onBytes(part.length);
    }
  } finally {
    await fh.close();
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** A file whose copy does not match what the BACKUP file lists: DbError 500 naming it. */
export function damaged(file: string, what: string): DbError {
  return new DbError(500, `backup file ${file} is damaged: ${what}`, { location: { file, offset: 0 } });
}

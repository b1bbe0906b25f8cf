import { join } from 'node:path';
import { corruption } from '../core/errors.ts';
import {
  type BlockStoreOptions,
  type BlockStoreRecovery,
  blockStoreLimits,
  SEGMENT_NAME,
  type SegmentedBlockStore,
  SegmentedBlockStoreImpl,
  segmentName,
} from './block-store.ts';
import type { AppendFile, Env, ReadableFile } from './env.ts';
import { FaultyEnv } from './faulty-env.ts';
import { fsEnv } from './fs-env.ts';
import { ioFailure } from './io-failure.ts';
import { newIoStats } from './io-stats.ts';
import { MemoryEnv } from './memory-env.ts';
import { judgeTail, scanRecords } from './record-scan.ts';
import { SegmentFile } from './segment-file.ts';
import { BLOCK_SEGMENT, encodeSegmentHeader, segmentHeaderProblem } from './segment-header.ts';

/**
 * Open (or create) the block store in `dir` over `env`.
 *
 * Recovery: segments other than the last are only checked for a valid header (their blocks are
 * verified when read). The last segment is scanned record by record. A torn tail (a bad record with
 * no valid record after it: bytes written after the last sync) is cut off, and new blocks go to a
 * new segment: a damaged last block cannot be told from a torn write, so its address must never
 * name another block. A bad record followed by valid ones is damage to durable data: it
 * is left in place and listed in `recovery.damaged` (reads of that block report it). A last segment
 * whose header is torn is emptied and reused.
 */
export async function openBlockStore(
  env: Env,
  dir: string,
  options: BlockStoreOptions = {},
): Promise<SegmentedBlockStore> {
  const limits = blockStoreLimits(options);
  const stats = newIoStats();
  const io = { env, errorCode: 500 as const, stats };
  const truncated: { file: string; from: number; to: number }[] = [];
  const damaged: { file: string; offset: number; reason: string }[] = [];
  const skipped: { file: string; reason: string }[] = [];
  let ids: number[];
  try {
    if (!options.readOnly) await env.mkdirp(dir);
    const names = await env.list(dir).catch((e: unknown) => {
      if (options.readOnly && (e as { code?: unknown }).code === 'ENOENT') return [];
      throw e;
    });
    ids = names
      .map((n) => SEGMENT_NAME.exec(n)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  } catch (e) {
    throw ioFailure(500, 'listing', dir, e);
  }
  const segs = new Map<number, SegmentFile>();
  let active: SegmentFile | undefined;
  try {
    for (const [i, id] of ids.entries()) {
      const path = join(dir, segmentName(id));
      const last = i === ids.length - 1;
      const file = await openFile(env, path, last && !options.readOnly);
      const headerProblem = readHeaderProblem(file, id);
      if (headerProblem && options.skipDamagedSegments && (!last || file.size() > BLOCK_SEGMENT.bytes)) {
        await file.close();
        skipped.push({ file: path, reason: headerProblem });
        continue;
      }
      const seg = SegmentFile.existing(path, id * 2 ** 32, file, file.size());
      segs.set(id, seg);
      if (!last) {
        if (headerProblem) throw corruption(path, 0, headerProblem);
        continue;
      }
      active = seg;
      const size = file.size();
      const scan = headerProblem
        ? { end: 0, problem: { offset: 0, reason: headerProblem } }
        : scanRecords(file, BLOCK_SEGMENT.bytes, size, limits.maxBlockBytes);
      if (!scan.problem) continue;
      const verdict = judgeTail(file, scan.problem.offset, size, limits.maxBlockBytes);
      if (verdict.kind === 'torn') {
        truncated.push({ file: path, from: scan.end, to: size });
        if (options.readOnly) continue;
        await seg.truncateTo(scan.end, io);
        if (scan.end === 0) {
          const { buf, pos } = seg.stage(BLOCK_SEGMENT.bytes);
          buf.set(encodeSegmentHeader(BLOCK_SEGMENT, id), pos);
        } else {
          // Never reuse the cut addresses: if the "torn" tail was in fact a durable block with a
          // flipped bit, a reference to it must keep failing, not find a new block there.
          active = undefined;
        }
      } else if (headerProblem) {
        throw corruption(path, 0, `${headerProblem}, yet records follow`);
      } else {
        damaged.push({ file: path, ...scan.problem });
      }
    }
    // Entries listed now may not be durable yet (a previous process may not have fsynced them).
    if (!options.readOnly) {
      stats.dirSyncs++;
      await env.syncDir(dir);
    }
  } catch (e) {
    for (const s of segs.values()) await s.close().catch(() => {});
    throw ioFailure(500, 'opening block store in', dir, e);
  }
  const recovery: BlockStoreRecovery = { truncated, damaged, skipped };
  const nextId = (ids.at(-1) ?? 0) + 1;
  return new SegmentedBlockStoreImpl(env, dir, limits, segs, nextId, active, recovery, stats);
}

function openFile(env: Env, path: string, forAppend: boolean): Promise<AppendFile | ReadableFile> {
  return forAppend ? env.openAppend(path) : env.openRead(path);
}

function readHeaderProblem(file: ReadableFile, id: number): string | undefined {
  const h = new Uint8Array(BLOCK_SEGMENT.bytes);
  const n = file.read(h, 0);
  return segmentHeaderProblem(BLOCK_SEGMENT, h.subarray(0, n), id);
}

/** A block store over real files in `dir`. */
export function openFileBlockStore(dir: string, options: BlockStoreOptions = {}): Promise<SegmentedBlockStore> {
  return openBlockStore(fsEnv, dir, options);
}

/**
 * A block store over a fresh MemoryEnv (at `/blocks`). For crash tests keep the env:
 * `const env = new MemoryEnv(); const bs = await openBlockStore(env, '/db/blocks')`.
 */
export function openMemoryBlockStore(options: BlockStoreOptions = {}): Promise<SegmentedBlockStore> {
  return openBlockStore(new MemoryEnv(), '/blocks', options);
}

/**
 * A block store over a FaultyEnv wrapping `inner` (default a fresh MemoryEnv); arm failpoints on
 * the returned `faults`.
 */
export async function openFaultyBlockStore(
  dir = '/blocks',
  inner: Env = new MemoryEnv(),
  options: BlockStoreOptions = {},
): Promise<{ readonly store: SegmentedBlockStore; readonly faults: FaultyEnv }> {
  const faults = new FaultyEnv(inner);
  return { store: await openBlockStore(faults, dir, options), faults };
}

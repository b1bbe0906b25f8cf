import { join } from 'node:path';
import { corruption, DbError } from '../core/errors.ts';
import type { Env, ReadableFile } from './env.ts';
import { FaultyEnv } from './faulty-env.ts';
import { fsEnv } from './fs-env.ts';
import { ioFailure } from './io-failure.ts';
import { newIoStats } from './io-stats.ts';
import { MemoryEnv } from './memory-env.ts';
import {
  LOG_NAME,
  logSegmentName,
  type RecordLogOptions,
  type SegmentedRecordLog,
  SegmentedRecordLogImpl,
} from './record-log.ts';
import { judgeTail, scanRecords } from './record-scan.ts';
import { SegmentFile } from './segment-file.ts';
import { encodeSegmentHeader, LOG_SEGMENT, segmentHeaderProblem } from './segment-header.ts';

/**
 * Open (or create) the record log in `dir` over `env`, scanning every segment.
 *
 * Recovery rules (the why is in docs/format/record-log.md): each segment must start where the
 * previous one ends. In the last segment, a bad record with no valid record after it is a torn
 * write from a crash (never acknowledged: its sync did not resolve) and is cut off; a bad record
 * followed by a valid one, or any bad record in an earlier segment, is corruption of acknowledged
 * data and fails the open with DbError 500 naming file and offset — records are never silently
 * dropped (unless `repairTail`). A last segment whose header is torn is emptied and reused.
 */
export async function openRecordLog(
  env: Env,
  dir: string,
  options: RecordLogOptions = {},
): Promise<SegmentedRecordLog> {
  const limits = {
    segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
    maxRecordBytes: options.maxRecordBytes ?? 256 * 1024 * 1024,
  };
  if (!(limits.segmentBytes > LOG_SEGMENT.bytes))
    throw new DbError(438, `segmentBytes too small: ${limits.segmentBytes}`);
  const stats = newIoStats();
  const io = { env, errorCode: 434 as const, stats };
  const truncated: { file: string; from: number; to: number }[] = [];
  let starts: number[];
  try {
    await env.mkdirp(dir);
    starts = (await env.list(dir))
      .map((n) => LOG_NAME.exec(n)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  } catch (e) {
    throw ioFailure(434, 'listing', dir, e);
  }
  const segs: SegmentFile[] = [];
  try {
    if (starts.length === 0) {
      const seg = SegmentFile.fresh(join(dir, logSegmentName(0)), 0);
      stageHeader(seg);
      segs.push(seg);
    }
    for (const [i, start] of starts.entries()) {
      const path = join(dir, logSegmentName(start));
      const last = i === starts.length - 1;
      const file = last ? await env.openAppend(path) : await env.openRead(path);
      const size = file.size();
      const prev = segs.at(-1);
      if (last && size === 0 && prev && prev.base + prev.end !== start) {
        // An empty file from a roll whose flush failed (its header never became durable) and
        // whose removal a crash undid: it holds nothing. Start the last segment where it belongs.
        await file.close();
        await env.remove(path);
        const fresh = SegmentFile.fresh(join(dir, logSegmentName(prev.base + prev.end)), prev.base + prev.end);
        stageHeader(fresh);
        segs.push(fresh);
        truncated.push({ file: path, from: 0, to: 0 });
        continue;
      }
      const seg = SegmentFile.existing(path, start, file, size);
      segs.push(seg);
      if (prev && prev.base + prev.end !== start) {
        throw corruption(
          path,
          0,
          `segment starts at LSN ${start} but the previous one ends at LSN ${prev.base + prev.end}`,
        );
      }
      const headerProblem = readHeaderProblem(file, start);
      const scan = headerProblem
        ? { end: 0, problem: { offset: 0, reason: headerProblem } }
        : scanRecords(file, LOG_SEGMENT.bytes, size, limits.maxRecordBytes);
      if (!scan.problem) continue;
      if (!last) throw corruption(path, scan.problem.offset, `${scan.problem.reason} (not in the last segment)`);
      if (!options.repairTail) {
        const verdict = judgeTail(file, scan.problem.offset, size, limits.maxRecordBytes);
        if (verdict.kind === 'valid-record-follows') {
          throw corruption(
            path,
            scan.problem.offset,
            `${scan.problem.reason}; a valid record follows at offset ${verdict.offset}, so this is not a torn tail`,
          );
        }
        if (verdict.kind === 'undecided') {
          throw corruption(path, scan.problem.offset, `${scan.problem.reason}; cannot tell a torn tail from damage`);
        }
      }
      truncated.push({ file: path, from: scan.end, to: size });
      await seg.truncateTo(scan.end, io);
      if (scan.end === 0) stageHeader(seg);
    }
    // Entries listed now may not be durable yet (a previous process may not have fsynced them).
    if (starts.length > 0) {
      stats.dirSyncs++;
      await env.syncDir(dir);
    }
  } catch (e) {
    for (const s of segs) await s.close().catch(() => {});
    throw ioFailure(434, 'opening record log in', dir, e);
  }
  const log = new SegmentedRecordLogImpl(env, dir, limits, segs, { truncated }, stats);
  // A new or emptied last segment gets its header on disk now, so the LSN base survives a crash.
  if (log.durableLsn < log.nextLsn) {
    try {
      await log.sync();
    } catch (e) {
      await log.close().catch(() => {});
      throw e;
    }
  }
  return log;
}

function stageHeader(seg: SegmentFile): void {
  const { buf, pos } = seg.stage(LOG_SEGMENT.bytes);
  buf.set(encodeSegmentHeader(LOG_SEGMENT, seg.base), pos);
}

function readHeaderProblem(file: ReadableFile, start: number): string | undefined {
  const h = new Uint8Array(LOG_SEGMENT.bytes);
  const n = file.read(h, 0);
  return segmentHeaderProblem(LOG_SEGMENT, h.subarray(0, n), start);
}

/** A record log over real files in `dir`. */
export function openFileRecordLog(dir: string, options: RecordLogOptions = {}): Promise<SegmentedRecordLog> {
  return openRecordLog(fsEnv, dir, options);
}

/** A record log over a fresh MemoryEnv (at `/log`). */
export function openMemoryRecordLog(options: RecordLogOptions = {}): Promise<SegmentedRecordLog> {
  return openRecordLog(new MemoryEnv(), '/log', options);
}

/** A record log over a FaultyEnv wrapping `inner` (default a fresh MemoryEnv); arm failpoints on `faults`. */
export async function openFaultyRecordLog(
  dir = '/log',
  inner: Env = new MemoryEnv(),
  options: RecordLogOptions = {},
): Promise<{ readonly log: SegmentedRecordLog; readonly faults: FaultyEnv }> {
  const faults = new FaultyEnv(inner);
  return { log: await openRecordLog(faults, dir, options), faults };
}

/**
 * Salvage reading of a record log for `arbor check --repair`: read every segment of a log
 * directory without opening it as a log (which refuses damage), keep every record whose checksum
 * holds, and say exactly which byte ranges could not be read and why. Never throws for damage;
 * never writes.
 */
import { join } from 'node:path';
import type { Env } from './env.ts';
import { LOG_NAME } from './record-log.ts';
import { judgeTail, readRecords } from './record-scan.ts';
import { LOG_SEGMENT, segmentHeaderProblem } from './segment-header.ts';
import type { Lsn } from './types.ts';

export interface SalvagedRecord {
  readonly lsn: Lsn;
  readonly file: string;
  /** Byte offset of the record in `file`. */
  readonly offset: number;
  readonly payload: Uint8Array;
}

/** Bytes [from, to) of `file` that hold no readable record. */
export interface LostRange {
  readonly file: string;
  readonly from: number;
  readonly to: number;
  /** LSNs of the range (file start LSN + offsets). */
  readonly fromLsn: Lsn;
  readonly toLsn: Lsn;
  readonly reason: string;
  /** True for a bad tail of the last segment with nothing valid after it: what a crash leaves. */
  readonly tail: boolean;
}

export interface LogSalvage {
  readonly dir: string;
  readonly records: readonly SalvagedRecord[];
  readonly lost: readonly LostRange[];
  readonly segments: readonly { readonly file: string; readonly startLsn: Lsn; readonly bytes: number }[];
  /** LSN just past the last segment's end (0 if there is none). */
  readonly endLsn: Lsn;
}

/**
 * Read every record of the log in `dir` that can be read. A bad record is skipped by searching
 * for the next valid record after it (as open does to tell damage from a torn tail); a missing
 * segment (a gap between two segments' LSN ranges) and a bad segment header are reported as lost
 * ranges. A missing directory is an empty log.
 */
export async function salvageLog(env: Env, dir: string, maxRecordBytes = 256 * 1024 * 1024): Promise<LogSalvage> {
  let names: string[];
  try {
    names = await env.list(dir);
  } catch {
    return { dir, records: [], lost: [], segments: [], endLsn: 0 };
  }
  const starts = names
    .map((n) => LOG_NAME.exec(n)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const records: SalvagedRecord[] = [];
  const lost: LostRange[] = [];
  const segments: { file: string; startLsn: Lsn; bytes: number }[] = [];
  let prevEnd: number | undefined;
  for (const [i, start] of starts.entries()) {
    const file = join(dir, `${String(start).padStart(16, '0')}.log`);
    const last = i === starts.length - 1;
    const f = await env.openRead(file);
    try {
      const size = f.size();
      segments.push({ file, startLsn: start, bytes: size });
      if (prevEnd !== undefined && prevEnd !== start) {
        // Named for the segment that should start where the previous one ends.
        lost.push({
          file: join(dir, `${String(prevEnd).padStart(16, '0')}.log`),
          from: 0,
          to: start - prevEnd,
          fromLsn: prevEnd,
          toLsn: start,
          reason: `LSNs [${prevEnd}, ${start}) are missing: the segment holding them is gone (or the one before it is short)`,
          tail: false,
        });
      }
      prevEnd = start + size;
      const h = new Uint8Array(LOG_SEGMENT.bytes);
      const headerProblem = segmentHeaderProblem(LOG_SEGMENT, h.subarray(0, f.read(h, 0)), start);
      if (headerProblem) {
        if (size > 0) {
          lost.push({
            file,
            from: 0,
            to: size,
            fromLsn: start,
            toLsn: start + size,
            reason: headerProblem,
            tail: false,
          });
        }
        continue;
      }
      let pos = LOG_SEGMENT.bytes;
      while (pos < size) {
        const it = readRecords(f, pos, size, maxRecordBytes);
        let r = it.next();
        for (; !r.done; r = it.next()) {
          records.push({ lsn: start + r.value.offset, file, offset: r.value.offset, payload: r.value.payload.slice() });
        }
        const problem = r.value.problem;
        if (!problem) break;
        const verdict = judgeTail(f, problem.offset, size, maxRecordBytes);
        const to = verdict.kind === 'valid-record-follows' ? verdict.offset : size;
        lost.push({
          file,
          from: problem.offset,
          to,
          fromLsn: start + problem.offset,
          toLsn: start + to,
          reason: problem.reason,
          tail: last && verdict.kind === 'torn',
        });
        pos = to;
      }
    } finally {
      await f.close();
    }
  }
  return { dir, records, lost, segments, endLsn: prevEnd ?? 0 };
}

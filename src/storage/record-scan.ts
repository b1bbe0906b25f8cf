/**
 * Sequential reading of the records in a segment file, and the test that tells a torn tail (a
 * crash artefact, safe to cut off) from corruption in the middle (which must be reported).
 */
import { crc32, RECORD_HEADER_BYTES, readU32, recordProblem } from './record-format.ts';

const CHUNK = 1024 * 1024;

/** Anything with a synchronous pread (a ReadableFile, a SegmentFile). */
export interface PositionalReader {
  read(dst: Uint8Array, position: number): number;
}

/** Where and why a scan stopped early. */
export interface ScanProblem {
  /** File offset of the first byte that is not a valid record. */
  readonly offset: number;
  readonly reason: string;
}

/** A scan's outcome: `end` is just past the last valid record; `problem` says why it stopped before the end. */
export interface ScanResult {
  readonly end: number;
  readonly problem: ScanProblem | undefined;
}

/**
 * Read the records in [start, end) of `file`, verifying each checksum; yields each record's file
 * offset and payload (a view into a buffer owned by the caller from then on), and returns where the
 * valid records end. Stops at the first invalid record.
 */
export function* readRecords(
  file: PositionalReader,
  start: number,
  end: number,
  maxPayload: number,
): Generator<{ readonly offset: number; readonly payload: Uint8Array }, ScanResult> {
  let buf = new Uint8Array(0);
  let bufStart = start;
  const ensure = (from: number, n: number): void => {
    if (from >= bufStart && from + n <= bufStart + buf.length) return;
    const size = Math.min(end - from, Math.max(CHUNK, n));
    const fresh = new Uint8Array(size);
    buf = fresh.subarray(0, file.read(fresh, from));
    bufStart = from;
  };
  let pos = start;
  while (pos < end) {
    ensure(pos, Math.min(RECORD_HEADER_BYTES, end - pos));
    if (pos + RECORD_HEADER_BYTES <= bufStart + buf.length) {
      const len = readU32(buf, pos - bufStart);
      if (len > 0 && len <= maxPayload && pos + RECORD_HEADER_BYTES + len <= end)
        ensure(pos, RECORD_HEADER_BYTES + len);
    }
    const rel = pos - bufStart;
    const problem = recordProblem(buf, rel, Math.min(end, bufStart + buf.length) - pos, maxPayload);
    if (problem) return { end: pos, problem: { offset: pos, reason: problem } };
    const len = readU32(buf, rel);
    yield { offset: pos, payload: buf.subarray(rel + RECORD_HEADER_BYTES, rel + RECORD_HEADER_BYTES + len) };
    pos += RECORD_HEADER_BYTES + len;
  }
  return { end: pos, problem: undefined };
}

/** Scan [start, end) without keeping payloads. */
export function scanRecords(file: PositionalReader, start: number, end: number, maxPayload: number): ScanResult {
  const it = readRecords(file, start, end, maxPayload);
  for (let r = it.next(); ; r = it.next()) if (r.done) return r.value;
}

/** Verdict on the bytes after a bad record. */
export type TailVerdict =
  | { readonly kind: 'torn' }
  | { readonly kind: 'valid-record-follows'; readonly offset: number }
  | { readonly kind: 'undecided' };

/** Checksum work (bytes) the search for a following valid record may spend before giving up. */
const SEARCH_BUDGET = 64 * 1024 * 1024;

/**
 * Decide whether the bad record at `bad` is a torn tail: it is unless some valid record starts
 * after it (then the bad bytes are damage in the middle of acknowledged data). First checks where
 * the bad record's own length says the next one starts (a flipped payload or checksum bit), then
 * every later byte offset (a flipped length bit). A valid record needs a non-zero length and a
 * matching crc32, so zero-filled or random garbage passes with probability ~2^-32 per candidate.
 * Gives up ('undecided') after {@link SEARCH_BUDGET} bytes of checksumming.
 */
export function judgeTail(file: PositionalReader, bad: number, end: number, maxPayload: number): TailVerdict {
  const head = new Uint8Array(RECORD_HEADER_BYTES);
  if (file.read(head, bad) === RECORD_HEADER_BYTES) {
    const next = bad + RECORD_HEADER_BYTES + readU32(head, 0);
    if (next > bad + RECORD_HEADER_BYTES && next < end && validAt(file, next, end, maxPayload)) {
      return { kind: 'valid-record-follows', offset: next };
    }
  }
  let budget = SEARCH_BUDGET;
  let win = new Uint8Array(0);
  let winStart = 0;
  for (let p = bad + 1; p + RECORD_HEADER_BYTES < end; p++) {
    if (p + RECORD_HEADER_BYTES > winStart + win.length) {
      const fresh = new Uint8Array(Math.min(CHUNK, end - p));
      win = fresh.subarray(0, file.read(fresh, p));
      winStart = p;
      if (win.length < RECORD_HEADER_BYTES) break;
    }
    const len = readU32(win, p - winStart);
    if (len === 0 || len > maxPayload || p + RECORD_HEADER_BYTES + len > end) continue;
    budget -= len;
    if (budget < 0) return { kind: 'undecided' };
    const rel = p - winStart;
    const ok =
      rel + RECORD_HEADER_BYTES + len <= win.length
        ? crc32(win.subarray(rel + RECORD_HEADER_BYTES, rel + RECORD_HEADER_BYTES + len)) === readU32(win, rel + 4)
        : validAt(file, p, end, maxPayload);
    if (ok) return { kind: 'valid-record-follows', offset: p };
  }
  return { kind: 'torn' };
}

function validAt(file: PositionalReader, at: number, end: number, maxPayload: number): boolean {
  const head = new Uint8Array(RECORD_HEADER_BYTES);
  if (file.read(head, at) < RECORD_HEADER_BYTES) return false;
  const len = readU32(head, 0);
  if (len === 0 || len > maxPayload || at + RECORD_HEADER_BYTES + len > end) return false;
  const rec = new Uint8Array(RECORD_HEADER_BYTES + len);
  const n = file.read(rec, at);
  return recordProblem(rec, 0, n, maxPayload) === undefined;
}

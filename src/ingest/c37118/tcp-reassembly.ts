/**
 * Per-connection TCP reassembly, enough for captures of PMU streams: segments are put in sequence
 * order (retransmissions and overlaps trimmed, segments that arrive early held back), and the
 * in-order bytes go to a FrameSplitter per direction. A hole that is never filled (a segment the
 * capture missed) is given up on once more than {@link MAX_HELD_BYTES} wait behind it, or at
 * the end of the capture: the splitter is reset and resynchronises on the next SYNC.
 *
 * Out-of-sequence segments that are whole frames on their own (a retransmission of frames already
 * delivered, or a stray frame sent with an odd sequence number, as some PMUs do — see the
 * `c37_*` captures) are delivered as they arrive, marked `outOfSequence`, without touching the
 * byte stream; the consumer decides what to do with them (the ingest stores them under the
 * `equal` merge policy, so an exact repeat adds nothing).
 */
import { crcCcitt } from './crc.ts';
import { frameTypeOf, MIN_FRAME } from './frame-decode.ts';
import { FrameSplitter, type SplitFrame } from './frame-splitter.ts';

/** Early segments held per direction before a hole is declared lost. */
export const MAX_HELD_BYTES = 1 << 20;

interface Direction {
  next: number | undefined;
  readonly held: Map<number, Uint8Array>;
  heldBytes: number;
  readonly splitter: FrameSplitter;
  lostBytes: number;
  outOfSequence: number;
}

/** `payload` cut into frames if it is exactly one or more whole frames with good CRCs, else null. */
function wholeFrames(payload: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < payload.length) {
    if (payload.length - i < MIN_FRAME || frameTypeOf(payload[i]!, payload[i + 1]!) < 0) return null;
    const size = (payload[i + 2]! << 8) | payload[i + 3]!;
    if (size < MIN_FRAME || size > payload.length - i) return null;
    if (crcCcitt(payload, i, i + size - 2) !== ((payload[i + size - 2]! << 8) | payload[i + size - 1]!)) return null;
    out.push(payload.slice(i, i + size));
    i += size;
  }
  return out;
}

/** Signed difference a − b of two 32-bit sequence numbers. */
const seqDiff = (a: number, b: number): number => (a - b) | 0;

export class TcpReassembler {
  readonly #dirs = new Map<string, Direction>();

  #dir(key: string): Direction {
    let d = this.#dirs.get(key);
    if (d === undefined) {
      d = {
        next: undefined,
        held: new Map(),
        heldBytes: 0,
        splitter: new FrameSplitter(),
        lostBytes: 0,
        outOfSequence: 0,
      };
      this.#dirs.set(key, d);
    }
    return d;
  }

  /** Feed one segment of direction `key`; returns the frames it completes. */
  push(key: string, seq: number, flags: number, payload: Uint8Array): SplitFrame[] {
    const d = this.#dir(key);
    if (flags & 0x02) {
      // SYN: a new connection on this 4-tuple; data starts at seq + 1.
      if (d.next !== undefined) d.splitter.reset();
      d.held.clear();
      d.heldBytes = 0;
      d.next = (seq + 1) >>> 0;
      return [];
    }
    if (payload.length === 0) return [];
    if (d.next === undefined) d.next = seq;
    const diff = seqDiff(seq, d.next);
    if (diff !== 0) {
      const whole = wholeFrames(payload);
      if (whole !== null) {
        d.outOfSequence += whole.length;
        return whole.map((bytes) => ({ bytes, offset: -1, outOfSequence: true }));
      }
    }
    if (diff > 0) {
      if (!d.held.has(seq) || d.held.get(seq)!.length < payload.length) {
        d.heldBytes += payload.length - (d.held.get(seq)?.length ?? 0);
        d.held.set(seq, payload.slice());
      }
      if (d.heldBytes <= MAX_HELD_BYTES) return [];
      return this.#skipHole(d);
    }
    const out: SplitFrame[] = [];
    if (-diff < payload.length) this.#append(d, payload.subarray(-diff), out);
    this.#drain(d, out);
    return out;
  }

  #append(d: Direction, bytes: Uint8Array, out: SplitFrame[]): void {
    for (const f of d.splitter.push(bytes)) out.push(f);
    d.next = ((d.next ?? 0) + bytes.length) >>> 0;
  }

  /** Append held segments that are now in order. */
  #drain(d: Direction, out: SplitFrame[]): void {
    for (;;) {
      let progressed = false;
      for (const [s, p] of d.held) {
        const diff = seqDiff(s, d.next!);
        if (diff > 0) continue;
        d.held.delete(s);
        d.heldBytes -= p.length;
        if (-diff < p.length) this.#append(d, p.subarray(-diff), out);
        progressed = true;
      }
      if (!progressed) return;
    }
  }

  /** Give up on the hole before the earliest held segment. */
  #skipHole(d: Direction): SplitFrame[] {
    let first: number | undefined;
    for (const s of d.held.keys()) if (first === undefined || seqDiff(s, first) < 0) first = s;
    if (first === undefined) return [];
    const gap = seqDiff(first, d.next!);
    d.lostBytes += gap;
    d.splitter.reset(gap);
    d.next = first;
    const out: SplitFrame[] = [];
    this.#drain(d, out);
    return out;
  }

  /** End of input: give up on every remaining hole and return what completes. */
  finish(): { readonly key: string; readonly frame: SplitFrame }[] {
    const out: { key: string; frame: SplitFrame }[] = [];
    for (const [key, d] of this.#dirs) {
      while (d.held.size > 0) for (const frame of this.#skipHole(d)) out.push({ key, frame });
    }
    return out;
  }

  /** Bytes skipped (not part of a frame), bytes lost in holes, out-of-sequence frames. */
  get stats(): { skipped: number; lost: number; outOfSequence: number } {
    let skipped = 0;
    let lost = 0;
    let outOfSequence = 0;
    for (const d of this.#dirs.values()) {
      skipped += d.splitter.skipped;
      lost += d.lostBytes;
      outOfSequence += d.outOfSequence;
    }
    return { skipped, lost, outOfSequence };
  }
}

/**
 * The two key/value pair encodings the Python client knows (docs/protocols/snapdb.md §5):
 *
 * - historian stream (`0418b3a7…`): XOR deltas against the previous key, a code byte per pair,
 *   0xFF = end of stream;
 * - fixed size (`1dea326d…`): byte 1 then six little-endian u64 per pair, byte 0 = end.
 *
 * Both sides reset the previous key to (0, 0, 0) at the start of every write stream and every read
 * response. All fields are u64 carried as bigint.
 */
import { DbError } from '../../core/errors.ts';
import { FIXED_EOS, FIXED_PAIR, Guid, HISTORIAN_EOS } from './protocol.ts';
import type { WireReader, WireWriter } from './wire-io.ts';

/** One historian key/value pair as on the wire (u64 each). */
export interface HistorianPair {
  /** 100 ns ticks since 0001-01-01T00:00:00. */
  time: bigint;
  pointId: bigint;
  entry: bigint;
  /** Low 32 bits: the IEEE-754 float32 bits of the value. */
  value1: bigint;
  value2: bigint;
  /** Low 32 bits: the quality flags. */
  value3: bigint;
}

export type EncodingKind = 'historian' | 'fixed';

export const emptyPair = (): HistorianPair => ({
  time: 0n,
  pointId: 0n,
  entry: 0n,
  value1: 0n,
  value2: 0n,
  value3: 0n,
});

/** The encoding of a method GUID, or null when the client asks for one this server does not speak. */
export function encodingOfGuid(guid: string): EncodingKind | null {
  if (guid === Guid.historianStreamEncoding) return 'historian';
  if (guid === Guid.fixedSizeEncoding) return 'fixed';
  return null;
}

const U32_MAX = 0xffff_ffffn;

/** Encodes pairs of one stream; call `reset()` before each stream. */
export class PairEncoder {
  private prevTime = 0n;
  private prevId = 0n;

  constructor(readonly kind: EncodingKind) {}

  reset(): void {
    this.prevTime = 0n;
    this.prevId = 0n;
  }

  encode(w: WireWriter, p: HistorianPair): void {
    if (this.kind === 'fixed') {
      w.u8(FIXED_PAIR).u64(p.time).u64(p.pointId).u64(p.entry).u64(p.value1).u64(p.value2).u64(p.value3);
      return;
    }
    const idDelta = p.pointId ^ this.prevId;
    if (
      p.time === this.prevTime &&
      idDelta < 64n &&
      p.entry === 0n &&
      p.value1 <= U32_MAX &&
      p.value2 === 0n &&
      p.value3 === 0n
    ) {
      if (p.value1 === 0n) w.u8(Number(idDelta));
      else w.u8(Number(idDelta) | 0x40).u32(Number(p.value1));
    } else {
      let code = 0x80;
      if (p.time !== this.prevTime) code |= 0x40;
      if (p.entry !== 0n) code |= 0x20;
      if (p.value1 > U32_MAX) code |= 0x10;
      else if (p.value1 !== 0n) code |= 0x08;
      if (p.value2 !== 0n) code |= 0x04;
      if (p.value3 > U32_MAX) code |= 0x02;
      else if (p.value3 !== 0n) code |= 0x01;
      w.u8(code);
      if (code & 0x40) w.varU64(p.time ^ this.prevTime);
      w.varU64(idDelta);
      if (code & 0x20) w.varU64(p.entry);
      if (code & 0x10) w.u64(p.value1);
      else if (code & 0x08) w.u32(Number(p.value1));
      if (code & 0x04) w.u64(p.value2);
      if (code & 0x02) w.u64(p.value3);
      else if (code & 0x01) w.u32(Number(p.value3));
    }
    this.prevTime = p.time;
    this.prevId = p.pointId;
  }

  end(w: WireWriter): void {
    w.u8(this.kind === 'fixed' ? FIXED_EOS : HISTORIAN_EOS);
  }
}

/**
 * Decodes pairs of one stream; call `reset()` before each stream. `decode` fills `out` and returns
 * true, or returns false at the end-of-stream symbol. It throws `Underflow` (from the reader) when
 * the pair has not fully arrived — the previous key is only advanced once a pair is complete, so
 * the caller may rewind the reader and call again.
 */
export class PairDecoder {
  private prevTime = 0n;
  private prevId = 0n;

  constructor(readonly kind: EncodingKind) {}

  reset(): void {
    this.prevTime = 0n;
    this.prevId = 0n;
  }

  decode(r: WireReader, out: HistorianPair): boolean {
    const code = r.u8();
    if (this.kind === 'fixed') {
      if (code === FIXED_EOS) return false;
      if (code !== FIXED_PAIR) throw new DbError(438, `fixed-size pair stream: unexpected byte ${code}`);
      out.time = r.u64();
      out.pointId = r.u64();
      out.entry = r.u64();
      out.value1 = r.u64();
      out.value2 = r.u64();
      out.value3 = r.u64();
      return true;
    }
    if (code === HISTORIAN_EOS) return false;
    if (code < 0x80) {
      out.time = this.prevTime;
      out.pointId = this.prevId ^ BigInt(code & 0x3f);
      out.entry = 0n;
      out.value1 = code & 0x40 ? BigInt(r.u32()) : 0n;
      out.value2 = 0n;
      out.value3 = 0n;
    } else {
      const time = code & 0x40 ? this.prevTime ^ r.varU64() : this.prevTime;
      const pointId = this.prevId ^ r.varU64();
      out.entry = code & 0x20 ? r.varU64() : 0n;
      out.value1 = code & 0x10 ? r.u64() : code & 0x08 ? BigInt(r.u32()) : 0n;
      out.value2 = code & 0x04 ? r.u64() : 0n;
      out.value3 = code & 0x02 ? r.u64() : code & 0x01 ? BigInt(r.u32()) : 0n;
      out.time = time;
      out.pointId = pointId;
    }
    this.prevTime = out.time;
    this.prevId = out.pointId;
    return true;
  }
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCommand, buildHeader } from '../../../test/c37118/build-frames.ts';
import { FrameSplitter } from './frame-splitter.ts';
import { TcpReassembler } from './tcp-reassembly.ts';

const frames = Array.from({ length: 12 }, (_, i) =>
  i % 3 === 0 ? buildHeader(i, `header ${'x'.repeat(i * 7)}`) : buildCommand(i, i),
);
const stream = Uint8Array.from(frames.flatMap((f) => [...f]));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Cut `bytes` into segments at the given lengths (cycled). */
function cut(bytes: Uint8Array, lengths: readonly number[]): { seq: number; data: Uint8Array }[] {
  const out: { seq: number; data: Uint8Array }[] = [];
  for (let o = 0, k = 0; o < bytes.length; k++) {
    const n = Math.min(lengths[k % lengths.length]!, bytes.length - o);
    out.push({ seq: (0xfffffff0 + o) >>> 0, data: bytes.subarray(o, o + n) }); // wraps past 2^32
    o += n;
  }
  return out;
}

describe('TCP reassembly and frame splitting', () => {
  it('returns frames split across segments whole and in order, across a sequence-number wrap', () => {
    const r = new TcpReassembler();
    const out = cut(stream, [5, 1, 17, 40, 3]).flatMap((s) => r.push('a', s.seq, 0x18, s.data));
    assert.deepEqual(
      out.map((f) => hex(f.bytes)),
      frames.map(hex),
    );
    assert.deepEqual(r.stats, { skipped: 0, lost: 0, outOfSequence: 0 });
  });

  it('reorders early segments and ignores retransmitted bytes', () => {
    const segs = cut(stream, [7, 13, 29]);
    const order = [0, 2, 1, 3, 3, 5, 4, 6, 2, ...segs.keys()].filter((i) => i < segs.length);
    const r = new TcpReassembler();
    const out = order.flatMap((i) => r.push('a', segs[i]!.seq, 0x18, segs[i]!.data));
    assert.deepEqual(
      out.map((f) => hex(f.bytes)),
      frames.map(hex),
    );
  });

  it('delivers a retransmitted segment holding whole frames once more, marked out of sequence', () => {
    const r = new TcpReassembler();
    const first = frames[1]!;
    r.push('a', 1000, 0x18, first);
    const again = r.push('a', 1000, 0x18, first);
    assert.equal(again.length, 1);
    assert.equal(again[0]!.outOfSequence, true);
  });

  it('gives up on a hole at the end and resynchronises on the next frame', () => {
    const segs = cut(stream, [50]);
    const r = new TcpReassembler();
    const out = segs.filter((_, i) => i !== 1).flatMap((s) => r.push('a', s.seq, 0x18, s.data));
    const rest = r.finish().map((x) => x.frame);
    const got = [...out, ...rest].map((f) => hex(f.bytes));
    assert.ok(got.length >= frames.length - 3 && got.length < frames.length);
    for (const g of got) assert.ok(frames.map(hex).includes(g));
    assert.equal(r.stats.lost, 50);
  });

  it('skips garbage between frames and reports the skipped bytes', () => {
    const s = new FrameSplitter();
    const out = s.push(Uint8Array.from([1, 2, 0xaa, 3, ...frames[1]!, 9, ...frames[2]!]));
    assert.deepEqual(
      out.map((f) => hex(f.bytes)),
      [hex(frames[1]!), hex(frames[2]!)],
    );
    assert.equal(s.skipped, 5);
    assert.deepEqual(
      out.map((f) => f.offset),
      [4, 4 + frames[1]!.length + 1],
    );
  });
});

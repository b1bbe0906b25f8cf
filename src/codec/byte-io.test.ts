import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isDbError } from '../core/errors.ts';
import { ByteReader } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { joinBig, splitBig, varintLength, zigzagVarintLength64 } from './int64.ts';

const arbI64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

describe('byte writer and reader', () => {
  it('round-trip zigzag varints of every int64, in the predicted length', () => {
    fc.assert(
      fc.property(arbI64, (v) => {
        const w = new ByteWriter(1);
        const [hi, lo] = splitBig(v);
        w.zigzag64(hi, lo);
        const bytes = w.finish();
        assert.equal(bytes.length, zigzagVarintLength64(hi, lo));
        const r = new ByteReader(bytes, 'test');
        r.zigzag64('v');
        assert.equal(joinBig(r.hi, r.lo), v);
        assert.equal(r.pos, bytes.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('write the same bytes for an integer below 2^52 as a number and as halves', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }), (v) => {
        const a = new ByteWriter();
        a.zigzag(v);
        const b = new ByteWriter();
        b.zigzag64(...splitBig(BigInt(v)));
        assert.deepEqual(a.finish(), b.finish());
        const c = new ByteWriter();
        c.varint(Math.abs(v));
        assert.equal(c.finish().length, varintLength(Math.abs(v)));
      }),
      { numRuns: 2000 },
    );
  });

  it('encode 300 as ac 02 (protobuf LEB128)', () => {
    const w = new ByteWriter();
    w.varint(300);
    assert.deepEqual(Array.from(w.finish()), [0xac, 0x02]);
  });

  it('reject truncated and over-long varints with the offset', () => {
    const cases: [number[], RegExp][] = [
      [[0x80], /truncated v at byte 0 of 1/],
      [[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], /varint longer than 10 bytes/],
      [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], /varint exceeds 64 bits/],
    ];
    for (const [bytes, message] of cases) {
      const r = new ByteReader(Uint8Array.from(bytes), 'test');
      assert.throws(
        () => r.varint64('v'),
        (e) => isDbError(e, 500) && message.test(e.message),
      );
    }
    const r = new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), 'test');
    assert.throws(
      () => r.varint('count', 1000),
      (e) => isDbError(e, 500) && /count .* exceeds 1000/.test(e.message),
    );
  });

  it('copy float bits exactly, NaN payloads included', () => {
    const src = new Float64Array(
      BigUint64Array.of(0x7ff0000000000001n, 0xfff8dead0000beefn, 0x8000000000000000n).buffer,
    );
    const w = new ByteWriter();
    w.f64Array(src, 3);
    const r = new ByteReader(w.finish(), 'test');
    const out = new Float64Array(3);
    for (let i = 0; i < 3; i++) r.f64Bits(out, i, 'v');
    assert.deepEqual(Array.from(new BigUint64Array(out.buffer)), [
      0x7ff0000000000001n,
      0xfff8dead0000beefn,
      0x8000000000000000n,
    ]);
  });
});

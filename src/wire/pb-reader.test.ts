import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { mergePolicyFromWire, mergePolicyToWire } from './enums.ts';
import { ProtoReader } from './pb-reader.ts';
import { ProtoWriter } from './pb-writer.ts';

const varint = (v: bigint): Uint8Array => {
  const w = new ProtoWriter(1);
  w.bigVarint(v);
  return w.finish();
};

describe('protobuf varints', () => {
  test('round-trip at every length boundary up to 2^64 − 1', () => {
    for (const v of [
      0n,
      127n,
      128n,
      16383n,
      16384n,
      2n ** 28n,
      2n ** 32n - 1n,
      2n ** 35n,
      2n ** 53n,
      2n ** 63n,
      2n ** 64n - 1n,
    ]) {
      const bytes = varint(v);
      const r = new ProtoReader(bytes);
      assert.equal(r.uint64('v'), v);
      assert.equal(r.pos, bytes.length);
      assert.equal(bytes.length, Math.max(1, Math.ceil(v.toString(2).length / 7)));
    }
  });

  test('write negative int32 as ten bytes and read it back', () => {
    const w = new ProtoWriter(1);
    w.int32(-2);
    const bytes = w.finish();
    assert.equal(bytes.length, 10);
    assert.equal(new ProtoReader(bytes).int32('v'), -2);
    assert.equal(new ProtoReader(bytes).int64('v'), -2n);
  });

  test('uint32 writes safe integers above 2^32 and numbers agree with bigints', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        const w = new ProtoWriter(1);
        w.uint32(n);
        assert.deepEqual(w.finish(), varint(BigInt(n)));
        assert.equal(new ProtoReader(varint(BigInt(n))).safeUint('v', Number.MAX_SAFE_INTEGER), n);
      }),
    );
  });

  test('safeUint rejects values above its maximum', () => {
    assert.throws(
      () => new ProtoReader(varint(2n ** 53n)).safeUint('count', Number.MAX_SAFE_INTEGER),
      /count: .* exceeds/,
    );
  });

  test('strings encode as UTF-8 with a correct length prefix, short and long', () => {
    for (const s of ['', 'a', 'é€𝄞', 'x'.repeat(42), 'y'.repeat(43), '€'.repeat(200)]) {
      const w = new ProtoWriter(1);
      w.string(s);
      assert.equal(new ProtoReader(w.finish()).string('s', 1 << 20), s);
    }
  });
});

describe('merge policy names', () => {
  test('map both ways and leave unknown values undefined', () => {
    for (const p of ['never', 'equal', 'retain', 'replace'] as const)
      assert.equal(mergePolicyFromWire(mergePolicyToWire(p)), p);
    assert.equal(mergePolicyToWire('replace'), 3);
    assert.equal(mergePolicyFromWire(7), undefined);
    assert.equal(mergePolicyFromWire(-1), undefined);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type EncodingKind, emptyPair, type HistorianPair, PairDecoder, PairEncoder } from './pair-codec.ts';
import { Guid } from './protocol.ts';
import { bytesToGuid, guidToBytes, Underflow, WireReader, WireWriter } from './wire-io.ts';

// Bytes produced by the unmodified openhistorian-python encoder (historianKeyValueEncoder.Encode
// into a binaryStream, then the 0xFF end symbol) for PAIRS below.
const REFERENCE_HEX =
  'c88080ccb5eab3a8ed08010000803f43000000400189000100807f20000080f6c084c503450500000000010000000900000000000000' +
  '000000000100000089b9ffffffffffffffff0100000001000000ff';

const pair = (time: bigint, pointId: bigint, entry: bigint, value1: bigint, value2: bigint, value3: bigint) => ({
  time,
  pointId,
  entry,
  value1,
  value2,
  value3,
});
const T = 638000000000000000n;
const PAIRS: HistorianPair[] = [
  pair(T, 1n, 0n, 0x3f800000n, 0n, 0n),
  pair(T, 2n, 0n, 0x40000000n, 0n, 0n),
  pair(T, 3n, 0n, 0n, 0n, 0n),
  pair(T, 3n, 0n, 0x7f800001n, 0n, 0x80000020n),
  pair(T + 1000000n, 70n, 5n, 0x1_0000_0000n, 9n, 0x1_0000_0000n),
  pair(T + 1000000n, (1n << 64n) - 1n, 0n, 1n, 0n, 1n),
];

function encodeAll(kind: EncodingKind, pairs: readonly HistorianPair[]): Buffer {
  const enc = new PairEncoder(kind);
  const w = new WireWriter(16);
  for (const p of pairs) enc.encode(w, p);
  enc.end(w);
  return w.take();
}

function decodeAll(kind: EncodingKind, bytes: Buffer): HistorianPair[] {
  const dec = new PairDecoder(kind);
  const r = new WireReader(bytes);
  const out: HistorianPair[] = [];
  const p = emptyPair();
  while (dec.decode(r, p)) out.push({ ...p });
  assert.equal(r.available, 0, 'bytes left after the end symbol');
  return out;
}

test('the historian stream encoding produces the bytes of the reference client encoder', () => {
  assert.equal(encodeAll('historian', PAIRS).toString('hex'), REFERENCE_HEX);
});

test('decoding the reference bytes gives back every pair, short and long forms alike', () => {
  assert.deepEqual(decodeAll('historian', Buffer.from(REFERENCE_HEX, 'hex')), PAIRS);
});

test('fixed-size pairs are a 1 byte then six little-endian u64, and the stream ends with byte 0', () => {
  const bytes = encodeAll('fixed', PAIRS.slice(0, 1));
  assert.equal(bytes.length, 49 + 1);
  assert.equal(bytes[0], 1);
  assert.equal(bytes.readBigUInt64LE(1), T);
  assert.equal(bytes.readBigUInt64LE(9), 1n);
  assert.equal(bytes.readBigUInt64LE(25), 0x3f800000n);
  assert.equal(bytes[49], 0);
  assert.deepEqual(decodeAll('fixed', encodeAll('fixed', PAIRS)), PAIRS);
});

test('a 64-bit varint takes at most 9 bytes and its 9th byte carries 8 full bits', () => {
  const w = new WireWriter();
  w.varU64((1n << 64n) - 1n)
    .varU64(1n << 56n)
    .varU64(128n)
    .varU64(0n)
    .varU64(127n);
  const hex = w.take().toString('hex');
  // Reference: the Python client's Write7BitUInt64 of the same values.
  assert.equal(hex, `${'ff'.repeat(9)}${'80'.repeat(8)}01800100${'7f'}`);
  const r = new WireReader(Buffer.from(hex, 'hex'));
  assert.deepEqual(
    [r.varU64(), r.varU64(), r.varU64(), r.varU64(), r.varU64()],
    [(1n << 64n) - 1n, 1n << 56n, 128n, 0n, 127n],
  );
});

test('GUIDs are written in the .NET byte order (first three groups little-endian)', () => {
  // Reference: Python uuid.UUID('6527d41b-…').bytes_le
  assert.equal(Buffer.from(guidToBytes(Guid.historianKey)).toString('hex'), '1bd42765049dfa4b813305273d521d46');
  assert.equal(bytesToGuid(guidToBytes(Guid.pointIdMatchFilter)), Guid.pointIdMatchFilter);
});

test('strings are a 7-bit byte count then UTF-8', () => {
  const w = new WireWriter().string('Good bye!').string('é'.repeat(100));
  const b = w.take();
  assert.equal(b[0], 9);
  assert.equal(b.subarray(1, 10).toString(), 'Good bye!');
  assert.deepEqual([...b.subarray(10, 12)], [(200 & 0x7f) | 0x80, 1]);
  const r = new WireReader(b);
  assert.equal(r.string(), 'Good bye!');
  assert.equal(r.string(), 'é'.repeat(100));
});

test('a pair cut at any byte raises Underflow and decodes once the rest arrives', () => {
  const bytes = Buffer.from(REFERENCE_HEX, 'hex');
  for (let cut = 0; cut < bytes.length; cut++) {
    const dec = new PairDecoder('historian');
    const r = new WireReader(bytes.subarray(0, cut));
    const got: HistorianPair[] = [];
    const p = emptyPair();
    let ended = false;
    for (;;) {
      const mark = r.pos;
      try {
        if (!dec.decode(r, p)) {
          ended = true;
          break;
        }
        got.push({ ...p });
      } catch (e) {
        assert.ok(e instanceof Underflow);
        r.pos = mark;
        break;
      }
    }
    assert.equal(ended, false);
    r.buf = bytes;
    while (dec.decode(r, p)) got.push({ ...p });
    assert.deepEqual(got, PAIRS, `cut at ${cut}`);
  }
});

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const arbPair = fc
  .record({
    time: fc.oneof(u64, fc.constant(T)),
    pointId: fc.oneof(u64, fc.bigInt({ min: 0n, max: 100n })),
    entry: fc.oneof(fc.constant(0n), u64),
    value1: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 0xffffffffn }), u64),
    value2: fc.oneof(fc.constant(0n), u64),
    value3: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 0xffffffffn }), u64),
  })
  .map((p): HistorianPair => ({ ...p }));

test('any sequence of pairs survives both encodings', () => {
  fc.assert(
    fc.property(fc.array(arbPair, { maxLength: 40 }), (pairs) => {
      for (const kind of ['historian', 'fixed'] as const)
        assert.deepEqual(decodeAll(kind, encodeAll(kind, pairs)), pairs);
    }),
    { numRuns: 300 },
  );
});

test('the historian encoder never emits the end symbol as a code byte', () => {
  fc.assert(
    fc.property(fc.array(arbPair, { minLength: 1, maxLength: 20 }), (pairs) => {
      const enc = new PairEncoder('historian');
      const dec = new PairDecoder('historian');
      for (const p of pairs) {
        const w = new WireWriter();
        enc.encode(w, p);
        const b = w.take();
        assert.notEqual(b[0], 0xff);
        const q = emptyPair();
        assert.equal(dec.decode(new WireReader(b), q), true);
        assert.deepEqual(q, p);
      }
    }),
    { numRuns: 200 },
  );
});

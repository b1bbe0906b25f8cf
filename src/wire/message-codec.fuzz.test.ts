import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { describeTally, fuzzDecoder, fuzzSeed, hostileBytes } from '../../test/fuzz/fuzz.ts';
import { messageArb } from '../../test/fuzz/wire-messages.ts';
import { decodeInsertParams, encodeInsertParams } from './insert-codec.ts';
import type { MessageCodec } from './message-codec.ts';
import { MESSAGE_CODECS } from './message-registry.ts';
import { canonicalOf, reflectionDecodeCanonical, reflectionEncode, reflectionType } from './reflection-reference.ts';
import { WireFormatError } from './wire-error.ts';

const expected = (e: unknown): boolean => e instanceof WireFormatError && / at byte \d+ of \d+$/.test(e.message);

/** Valid encodings of `name`: ours and protobufjs's (which lays some fields out differently). */
function samples(name: string, codec: MessageCodec<unknown>): Uint8Array[] {
  const values = fc.sample(messageArb(reflectionType(name)), { numRuns: 10, seed: fuzzSeed(`samples ${name}`) });
  return [...values.map((v) => codec.encode(v)), ...values.slice(0, 3).map((v) => reflectionEncode(name, v))];
}

/**
 * An accepted message must re-encode and decode to itself, and protobufjs reflection (an
 * independent decoder) must read the same hostile bytes to the same message.
 */
function reValidate(name: string, codec: MessageCodec<unknown>, m: unknown, input: Uint8Array): void {
  assert.deepStrictEqual(codec.decode(codec.encode(m)), m, 'round trip');
  let theirs: unknown;
  try {
    theirs = reflectionDecodeCanonical(name, input);
  } catch (e) {
    assert.fail(`${name}: we accept what protobufjs rejects (${(e as Error).message})`);
  }
  assert.deepStrictEqual(canonicalOf(name, m), theirs, 'agrees with protobufjs');
}

describe('protobuf decoders under fuzzing', () => {
  const names = Object.keys(MESSAGE_CODECS).sort();

  it('covers all 70 messages of the schema', () => {
    assert.equal(names.length, 70);
  });

  for (const name of names) {
    it(`${name}: mutations decode to what protobufjs reads, or fail with a WireFormatError`, (t) => {
      const codec = MESSAGE_CODECS[name]!;
      const tally = fuzzDecoder({
        name: `protobuf ${name}`,
        inputs: hostileBytes(samples(name, codec), 96),
        decode: (b) => codec.decode(b),
        expected,
        check: (m, input) => reValidate(name, codec, m, input),
        runs: 250,
      });
      t.diagnostic(describeTally(tally));
    });
  }

  it('InsertParams with a point limit: counts are checked before the columns are allocated', (t) => {
    const points = (n: number) => ({
      uuid: new Uint8Array(16).fill(7),
      sync: false,
      merge_policy: 1,
      values: {
        times: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1000n),
        values: Float64Array.from({ length: n }, (_, i) => i / 3),
      },
    });
    const valid = [encodeInsertParams(points(3)), encodeInsertParams(points(10)), encodeInsertParams(points(0))];
    const tally = fuzzDecoder({
      name: 'protobuf InsertParams max 8',
      inputs: hostileBytes(valid, 300),
      decode: (b) => decodeInsertParams(b, { maxPoints: 8 }),
      expected: (e) => expected(e) || (e instanceof WireFormatError && /exceed the limit of 8/.test(e.message)),
      check: (m) => {
        assert.ok(m.values.times.length <= 8);
        assert.equal(m.values.values.length, m.values.times.length);
      },
      runs: 2000,
    });
    t.diagnostic(describeTally(tally));
  });

  it('a 4 GiB length prefix on a bytes field is rejected before anything is allocated', () => {
    for (const name of names) {
      // Field 1 of every message as a LEN field claiming 2^32 − 1 bytes.
      const bytes = Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3);
      try {
        MESSAGE_CODECS[name]!.decode(bytes);
        assert.fail(`${name} accepted a 4 GiB length`);
      } catch (e) {
        assert.ok(expected(e), `${name}: ${String(e)}`);
      }
    }
  });
});

describe('protobuf decoder regressions found by fuzzing', () => {
  it('names the byte offset of a window count ≥ 2^53 on the fast path too', () => {
    const codec = MESSAGE_CODECS.WindowsResponse!;
    const window = { time: 5n, min: 1, mean: 2, max: 3, count: 7, stddev: 0.5 };
    const bytes = codec.encode({ versionMajor: 1n, versionMinor: 0n, values: [window] });
    const at = bytes.length - 13; // the count's high word, just before the stddev (tag + 8 bytes)
    bytes.set([0, 0, 0x20, 0], at);
    assert.throws(
      () => codec.decode(bytes),
      (e) => expected(e) && /values\[0\]\.count exceeds 2\^53 at byte \d+ of \d+$/.test((e as Error).message),
    );
  });
});

describe('protobuf varint regressions found by fuzzing', () => {
  // Redundant continuation bytes: a tag or length padded past 5 bytes was accepted here but is
  // rejected by protobufjs and upb (btrdb-python); now rejected by name, like theirs.
  const cases: [string, number[], RegExp][] = [
    [
      'ArrowInsertParams',
      [10, 128, 128, 128, 128, 128, 0, 128, 128, 128, 128, 1, 1],
      /length varint longer than 5 bytes/,
    ],
    ['KeyValue', [128, 144, 196, 128, 128, 0, 240, 127], /tag varint longer than 5 bytes/],
    ['Status', [0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 1], /tag varint longer than 5 bytes/],
  ];
  for (const [name, bytes, message] of cases) {
    it(`${name}: rejects ${Buffer.from(bytes).toString('hex')}`, () => {
      assert.throws(
        () => MESSAGE_CODECS[name]!.decode(Uint8Array.from(bytes)),
        (e) => expected(e) && message.test((e as Error).message),
      );
      assert.throws(() => reflectionDecodeCanonical(name, Uint8Array.from(bytes)));
    });
  }

  it('still accepts 5-byte tags and lengths', () => {
    // Status.code (field 1) as a 5-byte tag, and a 5-byte length of 1 for Status.msg (field 2).
    const m = MESSAGE_CODECS.Status!.decode(
      Uint8Array.of(0x88, 0x80, 0x80, 0x80, 0x00, 7, 0x12, 0x81, 0x80, 0x80, 0x80, 0x00, 0x61),
    );
    assert.deepEqual(m, { code: 7, msg: 'a' });
  });
});

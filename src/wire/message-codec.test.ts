import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { MAX_STRING_BYTES } from './message-codec.ts';
import { MESSAGE_CODECS } from './message-registry.ts';
import { KeyOptValueCodec, RoundSpecCodec, StatusCodec, StreamDescriptorCodec } from './messages-common.ts';
import { ArrowMultiValuesParamsCodec, NearestResponseCodec, RawValuesParamsCodec } from './messages-data.ts';
import { CreateParamsCodec, InfoResponseCodec, LookupStreamsParamsCodec } from './messages-meta.ts';
import { canonicalOf, reflectionDecodeCanonical, reflectionEncode, reflectionRoot } from './reflection-reference.ts';
import { WireFormatError } from './wire-error.ts';

const I64 = { min: -(1n << 63n), max: (1n << 63n) - 1n };
const U64 = { min: 0n, max: (1n << 64n) - 1n };

/** Drop undefined properties: decoders omit absent sub-messages instead of setting undefined. */
const compact = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const points = fc
  .array(fc.tuple(fc.bigInt(I64), fc.double()), { maxLength: 20 })
  .map((ps) => ({ times: BigInt64Array.from(ps.map((p) => p[0])), values: Float64Array.from(ps.map((p) => p[1])) }));

const statPoint = fc.record(
  {
    time: fc.bigInt(I64),
    min: fc.double(),
    mean: fc.double(),
    max: fc.double(),
    count: fc.maxSafeNat(),
    stddev: fc.double(),
  },
  { noNullPrototype: true },
);

function scalarArb(field: protobuf.Field): fc.Arbitrary<unknown> {
  if (field.resolvedType instanceof protobuf.Enum) return fc.integer({ min: -0x80000000, max: 0x7fffffff });
  switch (field.type) {
    case 'bytes':
      return fc.uint8Array({ maxLength: 20 });
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 12 });
    case 'bool':
      return fc.boolean();
    case 'uint32':
      return fc.bigInt({ min: 0n, max: 0xffffffffn }).map(Number);
    case 'int32':
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case 'double':
      return fc.double();
    case 'uint64':
    case 'fixed64':
      return fc.bigInt(U64);
    case 'int64':
    case 'sfixed64':
      return fc.bigInt(I64);
    default:
      throw new Error(`no arbitrary for ${field.type}`);
  }
}

/** Random values of message `type` in our representation, derived from the reflection schema. */
function messageArb(type: protobuf.Type, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) {
    let a: fc.Arbitrary<unknown>;
    if (field.name === 'values' && ['RawValuesResponse', 'InsertParams'].includes(type.name)) a = points;
    else if (field.name === 'values' && type.name.endsWith('WindowsResponse') && !type.name.startsWith('Arrow')) {
      a = fc.array(statPoint, { maxLength: 8 });
    } else if (type.name === 'StatPoint' && field.name === 'count') a = fc.maxSafeNat();
    else if (field.resolvedType instanceof protobuf.Type) {
      const sub = field.resolvedType;
      a = depth > 3 ? fc.constant(undefined) : fc.constant(null).chain(() => messageArb(sub, depth + 1));
      a = field.repeated
        ? fc.array(
            a.filter((x) => x !== undefined),
            { maxLength: 3 },
          )
        : fc.option(a, { nil: undefined });
    } else {
      a = scalarArb(field);
      if (field.repeated) a = fc.array(a, { maxLength: 5 });
      else if (field.partOf) a = fc.option(a, { nil: undefined });
    }
    shape[field.name] = a;
  }
  return fc.record(shape, { noNullPrototype: true }).map(compact);
}

const ALL_NAMES = Object.keys(MESSAGE_CODECS).sort();

describe('every message codec', () => {
  test('covers every message of proto/btrdb.proto', () => {
    const names: string[] = [];
    const walk = (ns: protobuf.NamespaceBase): void => {
      for (const n of ns.nestedArray) {
        if (n instanceof protobuf.Type) names.push(n.name);
        if (n instanceof protobuf.Namespace || n instanceof protobuf.Type) walk(n);
      }
    };
    walk(reflectionRoot());
    assert.deepEqual(ALL_NAMES, names.sort());
    assert.equal(names.length, 70);
  });

  for (const name of ALL_NAMES) {
    test(`${name} round-trips and agrees with protobufjs reflection both ways`, () => {
      const codec = MESSAGE_CODECS[name]!;
      const type = reflectionRoot().lookupType(`v5api.${name}`);
      fc.assert(
        fc.property(messageArb(type), (m) => {
          const ours = codec.encode(m);
          assert.deepStrictEqual(codec.decode(ours), m, 'own round trip');
          assert.deepStrictEqual(reflectionDecodeCanonical(name, ours), canonicalOf(name, m), 'reflection reads ours');
          const theirs = reflectionEncode(name, m);
          assert.deepStrictEqual(codec.decode(theirs), m, 'ours reads reflection');
        }),
        { numRuns: 60 },
      );
    });
  }
});

describe('the table-driven codec', () => {
  test('omits default scalars and absent sub-messages, like protobuf encoders', () => {
    const empty = RawValuesParamsCodec.encode({ uuid: new Uint8Array(0), start: 0n, end: 0n, versionMajor: 0n });
    assert.equal(empty.length, 0);
    assert.deepEqual([...StatusCodec.encode({ code: 404, msg: '' })], [0x08, 0x94, 0x03]);
  });

  test('writes -0.0 but omits +0.0', () => {
    const m = (readPreference: number) => ({
      hash: 0,
      nodename: '',
      up: false,
      in: false,
      enabled: false,
      start: 0n,
      end: 0n,
      weight: 0n,
      readPreference,
      httpEndpoints: '',
      grpcEndpoints: '',
    });
    const codec = MESSAGE_CODECS.Member!;
    assert.equal(codec.encode(m(0)).length, 0);
    assert.equal(codec.encode(m(-0)).length, 9);
    assert.ok(Object.is((codec.decode(codec.encode(m(-0))) as { readPreference: number }).readPreference, -0));
  });

  test('keeps KeyOptValue.val presence: absent, empty string and a value differ', () => {
    const absent = KeyOptValueCodec.encode({ key: 'name' });
    const empty = KeyOptValueCodec.encode({ key: 'name', val: { value: '' } });
    assert.deepEqual(KeyOptValueCodec.decode(absent), { key: 'name' });
    assert.deepEqual(KeyOptValueCodec.decode(empty), { key: 'name', val: { value: '' } });
    assert.equal(empty.length, absent.length + 2);
  });

  test('keeps RoundSpec.bits presence: a set zero is written', () => {
    assert.deepEqual([...RoundSpecCodec.encode({ bits: 0 })], [0x10, 0x00]);
    assert.deepEqual(RoundSpecCodec.decode(new Uint8Array([0x10, 0x00])), { bits: 0 });
    assert.deepEqual(RoundSpecCodec.decode(new Uint8Array(0)), {});
  });

  test('encodes role as field 100 (a two-byte tag)', () => {
    const bytes = MESSAGE_CODECS.ListCollectionsParams!.encode({ prefix: 'a', role: { name: 'r' } });
    assert.deepEqual([...bytes], [0x0a, 0x01, 0x61, 0xa2, 0x06, 0x03, 0x0a, 0x01, 0x72]);
  });

  test('packs repeated uint64 and accepts the unpacked form', () => {
    const m = {
      uuid: [],
      versionMajor: [1n, 300n],
      start: 0n,
      end: 0n,
      snapPeriodNs: 0n,
      templateBytes: new Uint8Array(0),
    };
    assert.deepEqual([...ArrowMultiValuesParamsCodec.encode(m)], [0x12, 0x03, 0x01, 0xac, 0x02]);
    assert.deepEqual(ArrowMultiValuesParamsCodec.decode(new Uint8Array([0x10, 0x01, 0x10, 0xac, 0x02])), m);
    // Both forms mixed, as the spec allows.
    const mixed = ArrowMultiValuesParamsCodec.decode(new Uint8Array([0x10, 0x01, 0x12, 0x02, 0xac, 0x02]));
    assert.deepEqual(mixed.versionMajor, [1n, 300n]);
  });

  test('accepts fields in any order, repeats (last wins) and unknown fields of every wire type', () => {
    const bytes = new Uint8Array([
      0x20,
      0x07, // versionMajor = 7 (field 4)
      0x19,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // end = 1 (field 3)
      0x78,
      0x05, // unknown field 15, varint
      0x81,
      0x01,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8, // unknown field 16, fixed64
      0x8a,
      0x01,
      0x02,
      0xff,
      0xff, // unknown field 17, bytes
      0x95,
      0x01,
      1,
      2,
      3,
      4, // unknown field 18, fixed32
      0x9b,
      0x01,
      0x08,
      0x01,
      0x9c,
      0x01, // unknown group 19 { 1: 1 }
      0x11,
      5,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // start = 5 (field 2)
      0x20,
      0x09, // versionMajor again = 9
      0x0a,
      0x01,
      0xab, // uuid
    ]);
    assert.deepEqual(RawValuesParamsCodec.decode(bytes), {
      uuid: new Uint8Array([0xab]),
      start: 5n,
      end: 1n,
      versionMajor: 9n,
    });
  });

  test('merges a sub-message that occurs twice, as protobuf does', () => {
    // stat { code: 404 } then stat { msg: "x" } → stat { code: 404, msg: "x" }
    const bytes = new Uint8Array([0x0a, 0x03, 0x08, 0x94, 0x03, 0x0a, 0x03, 0x12, 0x01, 0x78]);
    assert.deepEqual(NearestResponseCodec.decode(bytes), {
      stat: { code: 404, msg: 'x' },
      versionMajor: 0n,
      versionMinor: 0n,
    });
  });

  test('decodes negative int32 enums and 64-bit values at the extremes', () => {
    const m = {
      queryType: -1,
      startTime: -(1n << 63n),
      endTime: (1n << 63n) - 1n,
      windowSize: (1n << 64n) - 1n,
      depth: 0xffffffff,
      includeVersions: true,
      streams: [],
    };
    const codec = MESSAGE_CODECS.GenerateCSVParams!;
    assert.deepStrictEqual(codec.decode(codec.encode(m)), m);
  });

  test('decodes a StreamDescriptor as btrdb-python would send it in a Create', () => {
    const uuid = new Uint8Array(16).fill(0x11);
    const create = {
      uuid,
      collection: 'btrdb_python_integration_tests/test_x/tmp',
      tags: [{ key: 'name', val: { value: 's1' } }],
      annotations: [{ key: 'test', val: { value: '' } }],
    };
    assert.deepStrictEqual(CreateParamsCodec.decode(reflectionEncode('CreateParams', create)), create);
    const desc = { uuid, collection: 'c', tags: [], annotations: [], propertyVersion: 1n };
    assert.deepStrictEqual(StreamDescriptorCodec.decode(StreamDescriptorCodec.encode(desc)), desc);
  });
});

describe('malformed input', () => {
  const rejects = (
    bytes: number[],
    pattern: RegExp,
    codec = RawValuesParamsCodec as { decode(b: Uint8Array): unknown },
  ) =>
    assert.throws(
      () => codec.decode(new Uint8Array(bytes)),
      (e: unknown) => e instanceof WireFormatError && pattern.test(e.message),
    );

  test('a truncated varint is reported with its offset', () => {
    rejects([0x20, 0x80, 0x80], /truncated varint in RawValuesParams.versionMajor.* at byte 1/);
    rejects([0x80], /truncated varint in RawValuesParams/);
  });

  test('a varint longer than 10 bytes is rejected', () => {
    rejects([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], /longer than 64 bits/);
    rejects([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /longer than 64 bits/);
  });

  test('a known field with the wrong wire type is rejected', () => {
    rejects([0x10, 0x05], /RawValuesParams.start \(field 2\): wire type 0, expected 1/);
    rejects([0x09, 1, 2, 3, 4, 5, 6, 7, 8], /RawValuesParams.uuid \(field 1\): wire type 1, expected 2/);
    rejects([0x10, 0x01], /KeyOptValue.val \(field 2\): wire type 0, expected 2/, KeyOptValueCodec);
  });

  test('a length past the end is rejected', () => {
    rejects([0x0a, 0x10, 1, 2], /length 16 runs past the end \(2 bytes left\)/);
    rejects([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], /length 4294967295 runs past the end/);
    rejects([0x11, 1, 2, 3], /truncated 64-bit value in RawValuesParams.start/);
  });

  test('a sub-message longer than its parent is rejected', () => {
    // LookupStreams.tags: length 3 inside a message that ends after 2 bytes of it.
    rejects([0x1a, 0x02, 0x0a, 0x05], /runs past the end/, LookupStreamsParamsCodec);
  });

  test('field number 0 and invalid wire types are rejected', () => {
    rejects([0x00, 0x01], /field number 0/);
    rejects([0x7e, 0x01], /invalid wire type 6/);
    rejects([0x0e, 0x01], /uuid \(field 1\): wire type 6, expected 2/);
    rejects([0x7c], /invalid wire type 4/);
    rejects([0x7b, 0x08, 0x01], /unterminated group 15/);
  });

  test('a 10 MB string is rejected with its size, not decoded', () => {
    const n = 10 * 1024 * 1024;
    const bytes = new Uint8Array(5 + n).fill(0x61);
    bytes.set([0x0a, 0x80, 0x80, 0x80, 0x05], 0); // field 1 (prefix), length 10485760
    assert.throws(
      () => MESSAGE_CODECS.ListCollectionsParams!.decode(bytes),
      (e: unknown) =>
        e instanceof WireFormatError &&
        /prefix .*string of 10485760 bytes exceeds the 1048576-byte limit/.test(e.message),
    );
    assert.equal(MAX_STRING_BYTES, 1 << 20);
  });

  test('invalid UTF-8 in a string field is rejected', () => {
    assert.throws(
      () => MESSAGE_CODECS.ListCollectionsParams!.decode(new Uint8Array([0x0a, 0x02, 0xc3, 0x28])),
      /ListCollectionsParams.prefix \(field 1\): string is not valid UTF-8/,
    );
  });

  test('encoding a value of the wrong type fails with the field name', () => {
    assert.throws(
      () => InfoResponseCodec.encode({ majorVersion: 5, minorVersion: -1, build: '' }),
      /InfoResponse.minorVersion: expected an integer in \[0, 2\^32\)/,
    );
    assert.throws(
      () =>
        RawValuesParamsCodec.encode({
          uuid: new Uint8Array(0),
          start: 1 as unknown as bigint,
          end: 0n,
          versionMajor: 0n,
        }),
      /RawValuesParams.start: expected a bigint/,
    );
  });

  test('random bytes never crash the decoders with anything but a WireFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...ALL_NAMES), (bytes, name) => {
        try {
          MESSAGE_CODECS[name]!.decode(bytes);
        } catch (e) {
          if (!(e instanceof WireFormatError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

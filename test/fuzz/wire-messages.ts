/**
 * Valid values of every BTrDB v5 message, in our representation, derived from the protobufjs
 * reflection schema (proto/btrdb.proto) — the seeds the protobuf fuzz suite mutates. Shaped like
 * the arbitraries of src/wire/message-codec.test.ts (kept separate so that test stays as it is).
 */
import fc from 'fast-check';
import protobuf from 'protobufjs';

const I64 = { min: -(1n << 63n), max: (1n << 63n) - 1n };
const U64 = { min: 0n, max: (1n << 64n) - 1n };

const compact = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const points = fc
  .array(fc.tuple(fc.bigInt(I64), fc.double()), { maxLength: 12 })
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

/** Random valid values of message `type` (our representation: bigint, Uint8Array, point columns). */
export function messageArb(type: protobuf.Type, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) {
    let a: fc.Arbitrary<unknown>;
    if (field.name === 'values' && ['RawValuesResponse', 'InsertParams'].includes(type.name)) a = points;
    else if (field.name === 'values' && type.name.endsWith('WindowsResponse') && !type.name.startsWith('Arrow')) {
      a = fc.array(statPoint, { maxLength: 6 });
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

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Field,
  Float32,
  Float64,
  Int64,
  Schema,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { DbError } from '../core/errors.ts';
import { decodeArrowMultiValues, decodeArrowPoints, decodeArrowWindows } from './arrow-read.ts';
import { multiValuesSchema, rawSchema, windowsSchema } from './arrow-schemas.ts';
import { parseArrowTemplate } from './arrow-template.ts';
import { arrowStream, multiValuesToArrow, rawValuesToArrow, windowsToArrow } from './arrow-write.ts';

const describeSchema = (s: Schema) =>
  s.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable ? 'null' : 'notnull'}`);
const templateOf = (fields: Field[]) => arrowStream(new Schema(fields), fields.map(() => new Float64Array(0)) as never);
const is438 = (pattern: RegExp) => (e: unknown) => e instanceof DbError && e.code === 438 && pattern.test(e.message);
const NEAR = [-(1n << 62n) - 1n, -(1n << 62n), -1n, 0n, 1n, (1n << 62n) - 1n, (1n << 62n) + 3n];

function emptyTemplate(schema: Schema): Uint8Array {
  return tableToIPC(new Table(schema), 'stream');
}

describe('Arrow IPC answers', () => {
  test('raw answers use the default schema and keep int64 ns times exact near ±2^62', () => {
    const times = BigInt64Array.from(NEAR);
    const values = Float64Array.from(NEAR.map((_, i) => i / 3));
    const bytes = rawValuesToArrow({ times, values });
    const table = tableFromIPC(bytes);
    assert.deepEqual(describeSchema(table.schema), [
      'time:Timestamp<NANOSECOND, UTC>:notnull',
      'value:Float64:notnull',
    ]);
    assert.deepStrictEqual(decodeArrowPoints(bytes), { times, values });
    // A stream ends with the end-of-stream marker (continuation token + zero length).
    assert.deepEqual([...bytes.subarray(bytes.length - 8)], [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
  });

  test('empty answers keep the full schema with zero rows', () => {
    const none = new BigInt64Array(0);
    const raw = tableFromIPC(rawValuesToArrow({ times: none, values: new Float64Array(0) }));
    assert.equal(raw.numRows, 0);
    assert.deepEqual(describeSchema(raw.schema), describeSchema(rawSchema()));
    const win = tableFromIPC(windowsToArrow([]));
    assert.equal(win.numRows, 0);
    assert.deepEqual(describeSchema(win.schema), [
      'time:Timestamp<NANOSECOND, UTC>:notnull',
      'min:Float64:notnull',
      'mean:Float64:notnull',
      'max:Float64:notnull',
      'count:Uint64:notnull',
      'stddev:Float64:notnull',
    ]);
    const ids = ['0d2d6e5a-94f4-4a1e-9e3f-1b2c3d4e5f60', 'ffffffff-0000-4000-8000-000000000001'];
    const multi = tableFromIPC(multiValuesToArrow(none, [new Float64Array(0), new Float64Array(0)], ids));
    assert.equal(multi.numRows, 0);
    assert.deepEqual(describeSchema(multi.schema), describeSchema(multiValuesSchema(ids)));
  });

  test('window answers carry uint64 counts and round-trip through the client reader', () => {
    const stats = [
      { time: -(1n << 60n), min: -1, mean: 0, max: 1, count: 2 ** 53 - 1, stddev: 0.5 },
      { time: 1n << 61n, min: 2, mean: 3, max: 4, count: 3, stddev: 0.816496580927726 },
    ];
    const cols = decodeArrowWindows(windowsToArrow(stats));
    assert.deepStrictEqual([...cols.times], [-(1n << 60n), 1n << 61n]);
    assert.deepStrictEqual([...cols.count], [2n ** 53n - 1n, 3n]);
    assert.deepStrictEqual([...cols.stddev], [0.5, 0.816496580927726]);
    assert.deepEqual(describeSchema(tableFromIPC(windowsToArrow(stats)).schema), describeSchema(windowsSchema()));
  });

  test('multi-value answers name columns by uuid and carry NaN (not null) for missing cells', () => {
    const ids = ['6ba7b810-9dad-11d1-80b4-00c04fd430c8', '6ba7b811-9dad-11d1-80b4-00c04fd430c8'];
    const times = BigInt64Array.from([100n, 101n, 105n]);
    const a = Float64Array.from([0, Number.NaN, 1]);
    const b = Float64Array.from([Number.NaN, 5, Number.NaN]);
    const table = tableFromIPC(multiValuesToArrow(times, [a, b], ids));
    assert.deepEqual(
      table.schema.fields.map((f) => f.name),
      ['time', ...ids],
    );
    assert.equal(table.getChild(ids[0]!)!.nullCount, 0);
    const back = decodeArrowMultiValues(multiValuesToArrow(times, [a, b], ids));
    assert.deepStrictEqual(back, { times, names: ids, columns: [a, b] });
  });
});

describe('Arrow templates', () => {
  test('an empty template means the default schema', () => {
    assert.equal(parseArrowTemplate(new Uint8Array(0), 2), undefined);
  });

  test('casts raw answers to int64 times and float32 values, with the template names', () => {
    const t = parseArrowTemplate(
      emptyTemplate(new Schema([new Field('t', new Int64(), false), new Field('v', new Float32(), false)])),
      2,
    )!;
    const bytes = rawValuesToArrow(
      { times: BigInt64Array.from(NEAR), values: Float64Array.from(NEAR.map((_, i) => i + 0.1)) },
      t,
    );
    const table = tableFromIPC(bytes);
    assert.deepEqual(describeSchema(table.schema), ['t:Int64:notnull', 'v:Float32:notnull']);
    const back = decodeArrowPoints(bytes);
    assert.deepStrictEqual([...back.times], NEAR);
    assert.deepStrictEqual(
      [...back.values],
      NEAR.map((_, i) => Math.fround(i + 0.1)),
    );
  });

  test('casts multi answers to a timestamp template with mixed float widths and nullability', () => {
    const t = parseArrowTemplate(
      emptyTemplate(
        new Schema([
          new Field('t', new TimestampNanosecond('UTC'), false),
          new Field('a', new Float64(), false),
          new Field('b', new Float32(), true),
        ]),
      ),
      3,
    )!;
    const times = BigInt64Array.from([1n, 2n]);
    const table = tableFromIPC(
      multiValuesToArrow(times, [Float64Array.from([1, 2]), Float64Array.from([Number.NaN, 0.1])], ['x', 'y'], t),
    );
    assert.deepEqual(describeSchema(table.schema), [
      't:Timestamp<NANOSECOND, UTC>:notnull',
      'a:Float64:notnull',
      'b:Float32:null',
    ]);
    assert.ok(Number.isNaN(table.getChild('b')!.get(0)));
  });

  test('casts times to a coarser unit by floor division, keeping the time zone', () => {
    const t = parseArrowTemplate(
      emptyTemplate(
        new Schema([
          new Field('ts', new TimestampMillisecond('Europe/Paris'), true),
          new Field('v', new Float64(), true),
        ]),
      ),
      2,
    )!;
    const bytes = rawValuesToArrow(
      { times: BigInt64Array.from([1_999_999n, -1n, -1_000_000n]), values: new Float64Array(3) },
      t,
    );
    const table = tableFromIPC(bytes);
    assert.deepEqual(describeSchema(table.schema), ['ts:Timestamp<MILLISECOND, Europe/Paris>:null', 'v:Float64:null']);
    assert.deepStrictEqual([...(table.getChild('ts')!.data[0]!.values as BigInt64Array)], [1n, -1n, -1n]);
    // Reading it back scales to ns.
    assert.deepStrictEqual([...decodeArrowPoints(bytes).times], [1_000_000n, -1_000_000n, -1_000_000n]);
  });

  test('rejects templates with the wrong field count, unsupported types or garbage bytes', () => {
    const two = emptyTemplate(rawSchema());
    assert.throws(() => parseArrowTemplate(two, 3), is438(/has 2 fields, the answer has 3/));
    const utf8 = emptyTemplate(new Schema([new Field('t', new Utf8()), new Field('v', new Float64())]));
    assert.throws(() => parseArrowTemplate(utf8, 2), is438(/time can be a timestamp or int64/));
    const intValue = emptyTemplate(new Schema([new Field('t', new Int64()), new Field('v', new Int64())]));
    assert.throws(() => parseArrowTemplate(intValue, 2), is438(/values can be float64 or float32/));
    assert.throws(
      () => parseArrowTemplate(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), 2),
      is438(/not an Arrow IPC stream/),
    );
  });
});

describe('ArrowInsert payloads', () => {
  const stream = (time: Field, value: Field, times: BigInt64Array, values: Float64Array | Float32Array) =>
    arrowStream(new Schema([time, value]), [times, values]);

  test('accept timestamps of every unit (scaled to ns), int64 ns and float32 values', () => {
    const v = Float64Array.from([1.5, -2]);
    for (const [type, scale] of [
      [new TimestampSecond('UTC'), 1_000_000_000n],
      [new TimestampMillisecond(), 1_000_000n],
      [new TimestampMicrosecond('UTC'), 1_000n],
      [new TimestampNanosecond('UTC'), 1n],
      [new Int64(), 1n],
    ] as const) {
      const bytes = stream(
        new Field('time', type, false),
        new Field('value', new Float64(), false),
        BigInt64Array.from([3n, -4n]),
        v,
      );
      assert.deepStrictEqual(decodeArrowPoints(bytes), {
        times: BigInt64Array.from([3n * scale, -4n * scale]),
        values: v,
      });
    }
    const f32 = stream(
      new Field('a', new Int64()),
      new Field('b', new Float32()),
      BigInt64Array.from([1n]),
      Float32Array.from([0.1]),
    );
    assert.deepStrictEqual([...decodeArrowPoints(f32).values], [Math.fround(0.1)]);
  });

  test('accept several record batches and zero batches', () => {
    const schema = rawSchema();
    const one = tableFromIPC(
      rawValuesToArrow({ times: BigInt64Array.from([1n, 2n]), values: Float64Array.from([1, 2]) }),
    );
    const two = tableFromIPC(rawValuesToArrow({ times: BigInt64Array.from([3n]), values: Float64Array.from([3]) }));
    const both = tableToIPC(new Table([...one.batches, ...two.batches]), 'stream');
    assert.deepStrictEqual(decodeArrowPoints(both), {
      times: BigInt64Array.from([1n, 2n, 3n]),
      values: Float64Array.from([1, 2, 3]),
    });
    const none = decodeArrowPoints(emptyTemplate(schema));
    assert.equal(none.times.length, 0);
  });

  test('find time and value by name in any order', () => {
    const bytes = arrowStream(
      new Schema([new Field('value', new Float64()), new Field('time', new TimestampNanosecond('UTC'))]),
      [Float64Array.from([7]), BigInt64Array.from([9n])],
    );
    assert.deepStrictEqual(decodeArrowPoints(bytes), {
      times: BigInt64Array.from([9n]),
      values: Float64Array.from([7]),
    });
  });

  test('reject other types, nulls, overflow and garbage with a clear error', () => {
    const utf8 = tableToIPC(
      new Table({ time: vectorFromArray([1n, 2n]), value: vectorFromArray(['a', 'b'], new Utf8()) }),
      'stream',
    );
    assert.throws(() => decodeArrowPoints(utf8), is438(/value column "value" is Utf8; expected float64 or float32/));
    const withNull = tableToIPC(
      new Table({ time: vectorFromArray([1n, 2n]), value: vectorFromArray([1.5, null], new Float64()) }),
      'stream',
    );
    assert.throws(() => decodeArrowPoints(withNull), is438(/column "value" has 1 nulls/));
    const overflow = stream(
      new Field('time', new TimestampSecond()),
      new Field('value', new Float64()),
      BigInt64Array.from([1n << 40n]),
      new Float64Array(1),
    );
    assert.throws(() => decodeArrowPoints(overflow), is438(/overflows int64 nanoseconds/));
    const three = arrowStream(
      new Schema([new Field('a', new Int64()), new Field('b', new Float64()), new Field('c', new Float64())]),
      [new BigInt64Array(0), new Float64Array(0), new Float64Array(0)],
    );
    assert.throws(() => decodeArrowPoints(three), is438(/expected columns "time" and "value"/));
    assert.throws(
      () => decodeArrowPoints(new Uint8Array([0xff, 0xff, 0xff, 0xff, 9, 0, 0, 0, 1])),
      is438(/not an Arrow IPC stream/),
    );
  });

  test('a template made by templateOf is itself a schema-only stream', () => {
    const bytes = templateOf([new Field('t', new Int64(), false), new Field('v', new Float32(), false)]);
    assert.equal(tableFromIPC(bytes).numRows, 0);
  });
});

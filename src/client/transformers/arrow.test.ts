import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Field,
  Float32,
  Float64,
  Int64,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { isDbError } from '../../core/errors.ts';
import { arrowToPoints, frameToArrow, rawToArrow, readTimes, statsToArrow } from './arrow.ts';

const BIG = [-1152921504606846976n, 9007199254740993n, 3458764513820540926n];

function columnTimes(t: Table, name = 'time'): bigint[] {
  return [...readTimes(t.getChild(name)!)];
}

test('raw points become time timestamp[ns, UTC] and value float64, both non-nullable', () => {
  const t = rawToArrow({ times: BigInt64Array.from(BIG), values: Float64Array.of(1, -0, 2.5) });
  assert.deepEqual(
    t.schema.fields.map((f) => [f.name, String(f.type), f.nullable]),
    [
      ['time', 'Timestamp<NANOSECOND, UTC>', false],
      ['value', 'Float64', false],
    ],
  );
  assert.deepEqual(columnTimes(t), BIG);
});

test('int64 ns times survive an Arrow IPC round trip exactly', () => {
  const t = tableFromIPC(
    tableToIPC(rawToArrow({ times: BigInt64Array.from(BIG), values: Float64Array.of(1, 2, 3) }), 'stream'),
  );
  const p = arrowToPoints(t);
  assert.deepEqual([...p.times], BIG);
  assert.deepEqual([...p.values], [1, 2, 3]);
});

test('flags become a uint32 column only when asked for and present', () => {
  const pts = { times: BigInt64Array.of(1n), values: Float64Array.of(1), flags: Uint32Array.of(0xffffffff) };
  assert.equal(rawToArrow(pts).schema.fields.length, 2);
  const t = rawToArrow(pts, { includeFlags: true });
  assert.equal(String(t.schema.fields[2]!.type), 'Uint32');
  assert.deepEqual([...arrowToPoints(t).flags!], [0xffffffff]);
});

test('window statistics use the BTrDB window schema with count as uint64', () => {
  const t = statsToArrow([{ time: 9007199254740993n, min: 1, mean: 2, max: 3, count: 3, stddev: 0.5 }]);
  assert.deepEqual(
    t.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
    ['time:Timestamp<NANOSECOND, UTC>', 'min:Float64', 'mean:Float64', 'max:Float64', 'count:Uint64', 'stddev:Float64'],
  );
  assert.deepEqual(columnTimes(t), [9007199254740993n]);
  assert.deepEqual([...(t.getChild('count')!.data[0]!.values as BigUint64Array)], [3n]);
});

test('a frame keeps column order and NaN for missing values', () => {
  const t = frameToArrow({
    times: BigInt64Array.of(1n, 2n),
    columns: [
      { name: 'a/x', data: Float64Array.of(1, Number.NaN) },
      { name: 'a/x/flags', data: Uint32Array.of(3, 0) },
    ],
  });
  assert.deepEqual(
    t.schema.fields.map((f) => f.name),
    ['time', 'a/x', 'a/x/flags'],
  );
  assert.ok(Number.isNaN((t.getChild('a/x')!.data[0]!.values as Float64Array)[1]!));
});

test('an insert table may use int64 ns or another timestamp unit and float32 values', () => {
  const fields = [new Field('t', new Int64(), false), new Field('v', new Float32(), false)];
  const struct = makeData({
    type: new Struct(fields),
    length: 2,
    nullCount: 0,
    children: [
      makeData({ type: new Int64(), length: 2, nullCount: 0, data: BigInt64Array.of(9007199254740993n, 5n) }),
      makeData({ type: new Float32(), length: 2, nullCount: 0, data: Float32Array.of(0.5, 1.5) }),
    ],
  });
  const schema = new Schema(fields);
  const p = arrowToPoints(new Table(schema, [new RecordBatch(schema, struct)]));
  assert.deepEqual([...p.times], [9007199254740993n, 5n]);
  assert.deepEqual([...p.values], [0.5, 1.5]);

  const us = makeData({ type: new TimestampMicrosecond(), length: 1, nullCount: 0, data: BigInt64Array.of(-3n) });
  assert.deepEqual([...readTimes(makeVector(us))], [-3000n]);
});

test('an insert table without a value column is rejected with 438, one with a text value column with 425', () => {
  const time = makeVector(makeData({ type: new Int64(), length: 1, nullCount: 0, data: BigInt64Array.of(1n) }));
  assert.throws(
    () => arrowToPoints(new Table({ time })),
    (e) => isDbError(e, 438),
  );
  assert.throws(
    () => arrowToPoints(new Table({ time, value: vectorFromArray(['x']) })),
    (e) => isDbError(e, 425),
  );
});

test('empty tables keep the full schema', () => {
  const t = rawToArrow({ times: new BigInt64Array(0), values: new Float64Array(0) });
  assert.equal(t.numRows, 0);
  assert.equal(t.schema.fields.length, 2);
  assert.equal(new Float64().typeId, t.schema.fields[1]!.type.typeId);
});

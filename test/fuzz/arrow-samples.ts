/**
 * Valid Arrow IPC inputs — streams and a file, several batches, timestamp/int64 times, float64/
 * float32 values, nulls, extra columns, an empty table, and the answers our server writes — the
 * seeds the Arrow fuzz suites mutate.
 */
import {
  Field,
  Float32,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  TimestampNanosecond,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { multiValuesToArrow, rawValuesToArrow, windowsToArrow } from '../../src/wire/arrow-write.ts';

export const SAMPLE_ROWS = 6;
const times = BigInt64Array.from(
  { length: SAMPLE_ROWS },
  (_, i) => 1_704_067_200_000_000_000n + BigInt(i) * 8_333_333n,
);
const values = Float64Array.from({ length: SAMPLE_ROWS }, (_, i) => i * 1.25 - 2);

type Column = BigInt64Array | Float64Array | Float32Array | string[];

/** A table of the given columns split into two record batches of 3 rows. */
function twoBatches(fields: Field[], columns: Column[], nulls?: Uint8Array): Table {
  const schema = new Schema(fields);
  const batches = [0, 1].map((b) => {
    const children = fields.map((f, i) => {
      const c = columns[i]!;
      if (Array.isArray(c)) return vectorFromArray(c.slice(b * 3, b * 3 + 3), new Utf8()).data[0]!;
      const data = c.subarray(b * 3, b * 3 + 3);
      return f.nullable && nulls !== undefined
        ? makeData({ type: f.type, length: 3, nullCount: 1, data, nullBitmap: nulls } as never)
        : makeData({ type: f.type, length: 3, nullCount: 0, data } as never);
    });
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: 3, nullCount: 0, children }));
  });
  return new Table(schema, batches);
}

/** Valid IPC streams and files of every shape the readers meet. */
export function arrowSamples(): Uint8Array[] {
  const tsMs = times.map((t) => t / 1_000_000n);
  const tables = [
    twoBatches([new Field('time', new TimestampNanosecond()), new Field('value', new Float64())], [times, values]),
    twoBatches([new Field('t', new Int64()), new Field('v', new Float32())], [times, Float32Array.from(values)]),
    twoBatches(
      [
        new Field('time', new TimestampMillisecond(), true),
        new Field('value', new Float64(), true),
        new Field('note', new Utf8()),
      ],
      [tsMs, values, ['a', 'b', 'c', 'd', 'e', 'f']],
      Uint8Array.of(0b101),
    ),
    new Table(new Schema([new Field('time', new TimestampNanosecond()), new Field('value', new Float64())])),
  ];
  const stat = { time: 5n, min: 1, mean: 2, max: 3, count: 4, stddev: 0.5 };
  return [
    ...tables.map((t) => tableToIPC(t, 'stream')),
    tableToIPC(tables[0]!, 'file'),
    rawValuesToArrow({ times, values }),
    windowsToArrow([stat, { ...stat, time: 6n }]),
    multiValuesToArrow(times, [values, values.map((v) => -v)], ['a', 'b']),
  ];
}

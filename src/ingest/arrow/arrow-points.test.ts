import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  type DataType,
  Float64,
  Int32,
  Int64,
  makeData,
  makeVector,
  Table,
  TimestampMicrosecond,
  TimestampNanosecond,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { MAX_INSERT_TIME } from '../../core/time.ts';
import { readArrowPoints } from './arrow-points.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-arrow-points-'));
let n = 0;
/** A non-null time column from bigints (vectorFromArray would take numbers of ms). */
const timeVector = (type: DataType, ts: bigint[]) =>
  makeVector(makeData({ type, length: ts.length, nullCount: 0, data: BigInt64Array.from(ts) } as never));

function file(table: Table, format: 'file' | 'stream' = 'file'): string {
  const f = path.join(dir, `t${n++}.arrow`);
  fs.writeFileSync(f, tableToIPC(table, format));
  return f;
}

describe('readArrowPoints', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('timestamps of any unit scale to ns exactly; columns by name in any order', () => {
    const t = new Table({
      value: vectorFromArray([1.25, -0.5], new Float64()),
      time: timeVector(new TimestampMicrosecond(), [1_700_000_000_000_001n, 2n]),
    });
    for (const format of ['file', 'stream'] as const) {
      const r = readArrowPoints(file(t, format));
      assert.deepEqual([...r.times], [1_700_000_000_000_001_000n, 2_000n]);
      assert.deepEqual([...r.values], [1.25, -0.5]);
      assert.equal(r.bad.total, 0);
    }
  });

  test('columns can be picked by name or index, integer values convert', () => {
    const t = new Table({
      a: vectorFromArray(['x', 'y'], new Utf8()),
      ts: vectorFromArray([5n, 6n], new Int64()),
      v: vectorFromArray([7, 8], new Int32()),
    });
    const r = readArrowPoints(file(t), { timeColumn: 'ts', valueColumn: '2' });
    assert.deepEqual(
      [[...r.times], [...r.values]],
      [
        [5n, 6n],
        [7, 8],
      ],
    );
    assert.throws(() => readArrowPoints(file(t)), /time column "a" must be a timestamp or int64 ns/);
  });

  test('nulls, unstorable times and NaN are bad rows with 1-based row numbers', () => {
    const times = timeVector(new TimestampNanosecond(), [1n, 0n, MAX_INSERT_TIME, 4n]);
    const nullBitmap = new Uint8Array([0b1101]); // row 2 (index 1) is null
    const withNull = makeVector(
      makeData({ type: times.type, length: 4, nullCount: 1, nullBitmap, data: times.data[0]!.values } as never),
    );
    const t = new Table({
      time: withNull,
      value: vectorFromArray([1, 2, 3, Number.NaN], new Float64()),
    });
    const r = readArrowPoints(file(t));
    assert.deepEqual(
      r.bad.kept.map((b) => [b.at, b.code]),
      [
        [2, 413],
        [3, 413],
        [4, 425],
      ],
    );
    assert.match(r.bad.toError('t.arrow').message, /3 bad rows, nothing was imported:\n {2}row 2: time is null/);
    assert.equal(
      readArrowPoints(file(new Table({ time: t.getChild('time')!, value: t.getChild('value')! })), {
        allowNonFinite: true,
      }).bad.total,
      2,
    );
  });

  test('a file that is not Arrow is refused', () => {
    const f = path.join(dir, 'not.arrow');
    fs.writeFileSync(f, 'time,value\n1,2\n');
    assert.throws(() => readArrowPoints(f), /not an Arrow IPC file or stream/);
  });
});

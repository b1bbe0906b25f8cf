/** Conformance: inserting and reading raw points, nearest, merge policies (guide §4.1, §4.3, §4.4, §4.8). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
} from 'apache-arrow';
import { Stream } from '../../src/client/stream.ts';
import { currentlyAsNs, MAX_INSERT_TIME, MIN_TIME, SECOND } from '../../src/core/time.ts';
import type { MergePolicy } from '../../src/core/types.ts';
import type { Backend } from '../../src/db/backend.ts';
import { assertPointsEqual } from '../model/reference-stream.ts';
import type { Ctx } from './context.ts';
import { BIG_T, columns, modelOf, P, refPoints, rejectsWith, scattered, series, T0 } from './helpers.ts';

export function dataCases(ctx: Ctx): void {
  describe('insert and raw values', () => {
    test('points inserted as pairs read back ascending with exact ns times and values (incl. -0)', async () => {
      const s = await ctx.stream();
      const pts = [P(T0 + 2n, 2.5), P(BIG_T, -0), P(T0, 1e-300), P(MIN_TIME, -1), P(MAX_INSERT_TIME - 1n, 7)];
      await s.insert(pts.map((p) => [p.t, p.v] as const));
      const got = await s.valuesArray(MIN_TIME, MAX_INSERT_TIME);
      assertPointsEqual(got, modelOf(pts).values(MIN_TIME, MAX_INSERT_TIME), 'values');
    });

    test('points given as ISO strings, Dates and numbers are stored at the right ns', async () => {
      const s = await ctx.stream();
      await s.insert([
        ['2017-07-14T02:40:00.000000001Z', 1],
        [new Date(Number(T0 / 1_000_000n) + 1), 2],
        [1_000_000, 3],
      ]);
      const got = await s.valuesArray(0n, MAX_INSERT_TIME);
      assert.deepEqual([...got.times], [1_000_000n, T0 + 1n, T0 + 1_000_000n]);
    });

    test('insert returns the new version, which version() then reports', async () => {
      const s = await ctx.stream();
      const v0 = await s.version();
      const v1 = await s.insert([[T0, 1]]);
      assert.ok(v1 > v0, `version ${v1} after ${v0}`);
      assert.equal(await s.version(), v1);
      const r = await s.valuesArray(T0, T0 + 1n);
      assert.equal(r.version, v1);
    });

    test('an empty insert stores nothing and answers the current version', async () => {
      const s = await ctx.stream();
      const v = await s.insert([[T0, 1]]);
      assert.equal(await s.insert([]), v);
      assert.equal(await s.insert({ times: new BigInt64Array(0), values: new Float64Array(0) }), v);
      assert.equal(await s.count(), 1);
    });

    test('ranges are half-open: start included, end excluded; an empty range answers no points', async () => {
      const s = await ctx.stream();
      await s.insert(columns(series(10, 10n)));
      const r = await s.valuesArray(T0 + 20n, T0 + 50n);
      assert.deepEqual([...r.times], [T0 + 20n, T0 + 30n, T0 + 40n]);
      const none = await s.valuesArray(T0 + 1n, T0 + 10n);
      assert.equal(none.times.length, 0);
      assert.equal(none.values.length, 0);
      assert.equal((await s.valuesArray(T0 - 100n, T0)).times.length, 0);
    });

    test('values() streams ascending chunks whose concatenation equals valuesArray()', async () => {
      const s = await ctx.stream();
      const pts = scattered(30_000, 7);
      await s.insert(columns(pts));
      let last = MIN_TIME - 1n;
      const chunks: { times: BigInt64Array; values: Float64Array }[] = [];
      for await (const chunk of s.values(MIN_TIME, MAX_INSERT_TIME)) {
        for (const t of chunk.times) {
          assert.ok(t >= last, 'chunks ascending');
          last = t;
        }
        // Copies: a chunk may be a view of a buffer the reader reuses.
        chunks.push({ times: chunk.times.slice(), values: chunk.values.slice() });
      }
      // 30 000 points are more than one leaf (embedded) and one 5 000-point message (remote).
      assert.ok(chunks.length > 1, `a large read arrives in several chunks, got ${chunks.length}`);
      const joined = {
        times: BigInt64Array.from(chunks.flatMap((c) => [...c.times])),
        values: Float64Array.from(chunks.flatMap((c) => [...c.values])),
      };
      const model = modelOf(pts).values(MIN_TIME, MAX_INSERT_TIME);
      assert.equal(joined.times.length, pts.length);
      assertPointsEqual(joined, model, 'chunks joined');
      const whole = await s.valuesArray(MIN_TIME, MAX_INSERT_TIME);
      assert.deepEqual(whole.times, joined.times);
      assert.deepEqual(whole.values, joined.values);
      assertPointsEqual(whole, model, 'valuesArray');
    });

    test('an insert of more than 50 000 points is sent as batches of 50 000 and reads back whole', async () => {
      const s = await ctx.stream();
      const calls: number[] = [];
      const real = ctx.conn.backend;
      const insert: Backend['insert'] = (id, batch, policy) => {
        calls.push(batch.times.length);
        return real.insert(id, batch, policy);
      };
      const counting = new Proxy(real, {
        get(target, prop) {
          if (prop === 'insert') return insert;
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const handle = new Stream(counting, s.uuid);
      const pts = series(120_001, 1_000n, (i) => i * 0.5);
      await handle.insert(columns(pts));
      assert.deepEqual(calls, [50_000, 50_000, 20_001]);
      assertPointsEqual(await s.valuesArray(MIN_TIME, MAX_INSERT_TIME), pts, 'all points');
      assert.equal(await s.count({ precise: true }), 120_001);
    });

    test('times outside [MINIMUM_TIME, MAXIMUM_TIME) are rejected with 413 and the whole batch is dropped', async () => {
      const s = await ctx.stream();
      await rejectsWith(
        () =>
          s.insert([
            [T0, 1],
            [MIN_TIME - 1n, 2],
          ]),
        413,
        'before MIN_TIME',
      );
      await rejectsWith(
        () =>
          s.insert([
            [T0, 1],
            [MAX_INSERT_TIME, 2],
          ]),
        413,
        'at MAXIMUM_TIME',
      );
      assert.equal(await s.count({ precise: true }), 0);
    });

    test('NaN and ±Infinity are rejected with 425 and the whole batch is dropped', async () => {
      const s = await ctx.stream();
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        await rejectsWith(
          () =>
            s.insert([
              [T0, 1],
              [T0 + 1n, bad],
            ]),
          425,
          String(bad),
        );
      }
      assert.equal(await s.count({ precise: true }), 0);
    });

    test('a stream created with allowNonFinite stores NaN and ±Infinity (a backend without it refuses: 501)', async () => {
      if (!ctx.features.nonFinite) {
        await rejectsWith(() => ctx.stream({ allowNonFinite: true }), 501, 'allowNonFinite over this backend');
        return;
      }
      const s = await ctx.stream({ allowNonFinite: true });
      await s.insert([
        [T0, Number.NaN],
        [T0 + 1n, Number.POSITIVE_INFINITY],
        [T0 + 2n, Number.NEGATIVE_INFINITY],
      ]);
      const r = await s.valuesArray(T0, T0 + 3n);
      assert.ok(Number.isNaN(r.values[0]!));
      assert.deepEqual([...r.values.subarray(1)], [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    });

    test('reads with start >= end are rejected with 413', async () => {
      const s = await ctx.stream();
      await rejectsWith(() => s.valuesArray(T0, T0), 413, 'values start = end');
      await rejectsWith(() => s.valuesArray(T0 + 1n, T0), 413, 'values start > end');
      await rejectsWith(() => s.delete(T0, T0), 413, 'delete start = end');
      await rejectsWith(() => s.alignedWindows(T0 + 8n, T0, 2), 413, 'aligned windows start > end');
    });

    test('per-point quality flags are stored and read back with the points (a backend without them refuses: 501)', async () => {
      const s = await ctx.stream();
      if (!ctx.features.flags) {
        const flagged = { times: BigInt64Array.of(T0), values: Float64Array.of(1), flags: Uint32Array.of(5) };
        await rejectsWith(() => s.insert(flagged), 501, 'flags over this backend');
        assert.equal(await s.count({ precise: true }), 0);
        return;
      }
      await s.insert({
        times: BigInt64Array.of(T0, T0 + 1n),
        values: Float64Array.of(1, 2),
        flags: Uint32Array.of(0, 0xffffffff),
      });
      const r = await s.valuesArray(T0, T0 + 2n);
      assert.deepEqual([...(r.flags ?? [])], [0, 0xffffffff]);
      const table = await s.arrowValues(T0, T0 + 2n, { includeFlags: true });
      assert.deepEqual(
        table.schema.fields.map((f) => f.name),
        ['time', 'value', 'flags'],
      );
    });
  });

  describe('merge policies', () => {
    const expected: Record<MergePolicy, [bigint, number][]> = {
      never: [
        [110n, 2],
        [110n, 3],
      ],
      equal: [
        [110n, 2],
        [110n, 3],
      ],
      retain: [[110n, 2]],
      replace: [[110n, 3]],
    };
    for (const policy of ['never', 'equal', 'retain', 'replace'] as const) {
      test(`${policy}: one batch [110→2.0, 110→3.0] keeps ${expected[policy].length === 2 ? 'both' : 'one'} (guide §4.3)`, async () => {
        const s = await ctx.stream();
        const batch = [P(110, 2), P(110, 3)];
        await s.insert(columns(batch), { mergePolicy: policy });
        const got = await s.valuesArray(0n, 1000n);
        assert.deepEqual(
          Array.from(got.times, (t, i) => [t, got.values[i]]),
          expected[policy],
        );
        assertPointsEqual(got, modelOf(batch, policy).values(0n, 1000n), policy);
        assert.equal(await s.count({ start: 0n, end: 1000n, precise: true }), expected[policy].length);
      });
    }

    for (const policy of ['never', 'equal', 'retain', 'replace'] as const) {
      test(`${policy}: a second batch meets stored points (duplicates, equal values, new times) like the model`, async () => {
        const s = await ctx.stream();
        const first = [P(100, 1), P(100, 1.5), P(200, 2), P(300, 3)];
        const second = [P(100, 1), P(200, 20), P(250, 25), P(300, 3), P(300, 30)];
        const model = modelOf(first);
        await s.insert(columns(first));
        await s.insert(columns(second), { mergePolicy: policy });
        model.insert(second, policy);
        assertPointsEqual(await s.valuesArray(0n, 1000n), model.values(0n, 1000n), policy);
      });
    }

    test('an unknown merge policy is rejected with 438 before anything is sent', async () => {
      const s = await ctx.stream();
      await rejectsWith(() => s.insert([[T0, 1]], { mergePolicy: 'newest' as MergePolicy }), 438);
      assert.equal(await s.count(), 0);
    });
  });

  describe('nearest, earliest, latest, current', () => {
    test('nearest forward finds the first point at or after the time', async () => {
      const s = await ctx.stream();
      await s.insert(columns([P(T0 + 10n, 1), P(T0 + 20n, 2)]));
      assert.deepEqual(await pick(s.nearest(T0 + 10n)), [T0 + 10n, 1]);
      assert.deepEqual(await pick(s.nearest(T0 + 11n)), [T0 + 20n, 2]);
      assert.equal(await s.nearest(T0 + 21n), null);
    });

    test('nearest backward finds the last point strictly before the time; none → null (401)', async () => {
      const s = await ctx.stream();
      await s.insert(columns([P(T0 + 10n, 1), P(T0 + 20n, 2)]));
      assert.deepEqual(await pick(s.nearest(T0 + 20n, { backward: true })), [T0 + 10n, 1]);
      assert.deepEqual(await pick(s.nearest(T0 + 21n, { backward: true })), [T0 + 20n, 2]);
      assert.equal(await s.nearest(T0 + 10n, { backward: true }), null);
    });

    test('nearest agrees with the model on duplicates: forward the first stored, backward the last', async () => {
      const s = await ctx.stream();
      const pts = [P(T0, 1), P(T0, 2), P(T0 + 5n, 3), P(T0 + 5n, 4)];
      await s.insert(columns(pts));
      const m = modelOf(pts);
      for (const [time, backward] of [
        [T0, false],
        [T0 + 1n, false],
        [T0 + 5n, true],
        [T0 + 6n, true],
      ] as const) {
        const want = m.nearest(time, backward);
        const got = await s.nearest(time, { backward });
        assert.deepEqual(
          got === null ? null : [got.time, got.value],
          want === undefined ? null : [want.t, want.v],
          `${time} ${backward}`,
        );
      }
    });

    test('nearest reports the version it read at', async () => {
      const s = await ctx.stream();
      const v = await s.insert([[T0, 1]]);
      assert.equal((await s.nearest(T0))?.version, v);
    });

    test('earliest and latest find the extreme points, even at MINIMUM_TIME and just below MAXIMUM_TIME', async () => {
      const s = await ctx.stream();
      await s.insert(columns([P(T0, 5), P(MIN_TIME, 1), P(MAX_INSERT_TIME - 1n, 9)]));
      assert.deepEqual(await pick(s.earliest()), [MIN_TIME, 1]);
      assert.deepEqual(await pick(s.latest()), [MAX_INSERT_TIME - 1n, 9]);
    });

    test('current finds the last point before now and ignores future points', async () => {
      const s = await ctx.stream();
      const now = currentlyAsNs();
      await s.insert(columns([P(now - 10n * SECOND, 1), P(now + 3600n * SECOND, 2)]));
      assert.deepEqual(await pick(s.current()), [now - 10n * SECOND, 1]);
      assert.deepEqual(await pick(s.latest()), [now + 3600n * SECOND, 2]);
      const future = await ctx.stream();
      await future.insert([[now + 3600n * SECOND, 1]]);
      assert.equal(await future.current(), null);
    });

    test('nearest outside the time range is rejected with 413', async () => {
      const s = await ctx.stream();
      await rejectsWith(() => s.nearest(MIN_TIME - 1n), 413);
    });
  });

  describe('arrow insert and values', () => {
    test('arrowInsert of a timestamp/int64 table and arrowValues round-trip exactly in the BTrDB schema', async () => {
      const s = await ctx.stream();
      const times = BigInt64Array.of(BIG_T, T0, T0 + 1n);
      const values = Float64Array.of(1.25, -0, 3);
      const fields = [new Field('time', new Int64(), false), new Field('value', new Float64(), false)];
      const struct = makeData({
        type: new Struct(fields),
        length: 3,
        nullCount: 0,
        children: [
          makeData({ type: new Int64(), length: 3, nullCount: 0, data: times }),
          makeData({ type: new Float64(), length: 3, nullCount: 0, data: values }),
        ],
      });
      const schema = new Schema(fields);
      await s.arrowInsert(new Table(schema, [new RecordBatch(schema, struct)]));
      const table = tableFromIPC(tableToIPC(await s.arrowValues(MIN_TIME, MAX_INSERT_TIME), 'stream'));
      assert.deepEqual(
        table.schema.fields.map((f) => [f.name, String(f.type), f.nullable]),
        [
          ['time', 'Timestamp<NANOSECOND, UTC>', false],
          ['value', 'Float64', false],
        ],
      );
      const t = table.getChild('time')!.data.flatMap((d) => [...(d.values as BigInt64Array).subarray(0, d.length)]);
      const v = table.getChild('value')!.data.flatMap((d) => [...(d.values as Float64Array).subarray(0, d.length)]);
      assert.deepEqual(t, [BIG_T, T0, T0 + 1n]);
      assert.ok(Object.is(v[1], -0));
      // and the table reinserts into another stream unchanged
      const copy = await ctx.stream();
      await copy.arrowInsert(table);
      assert.deepEqual(
        refPoints(await copy.valuesArray(MIN_TIME, MAX_INSERT_TIME)),
        refPoints(await s.valuesArray(MIN_TIME, MAX_INSERT_TIME)),
      );
    });

    test('arrowValues of an empty range has zero rows and the full schema', async () => {
      const s = await ctx.stream();
      const t = await s.arrowValues(T0, T0 + 10n);
      assert.equal(t.numRows, 0);
      assert.deepEqual(
        t.schema.fields.map((f) => f.name),
        ['time', 'value'],
      );
    });
  });
}

async function pick(p: Promise<{ time: bigint; value: number } | null>): Promise<[bigint, number] | null> {
  const r = await p;
  return r === null ? null : [r.time, r.value];
}

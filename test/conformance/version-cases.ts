/**
 * Conformance: versions, delete, flush, changes (guide §4.2, §4.9, §4.10), and a model-based run of
 * random operation sequences through the user API, every answer compared with the reference model.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_INSERT_TIME, MIN_TIME } from '../../src/core/time.ts';
import { randomOps } from '../model/random-ops.ts';
import { assertPointsEqual, assertStatsEqual, ReferenceStream } from '../model/reference-stream.ts';
import type { Ctx } from './context.ts';
import { columns, modelOf, P, rejectsWith, series, T0 } from './helpers.ts';

export function versionCases(ctx: Ctx): void {
  describe('versions', () => {
    test('an older version keeps answering as it was after later inserts and deletes', async () => {
      const s = await ctx.stream();
      const first = series(10, 10n);
      await s.insert(columns(first));
      const v1 = await s.version(); // StreamInfo materializes the version it reports
      await s.insert(columns([P(T0 + 5n, 99)]));
      const v2 = await s.version();
      const v3 = await s.delete(T0, T0 + 50n);
      assert.ok(v1 < v2 && v2 < v3, `versions ${v1} < ${v2} < ${v3}`);
      assertPointsEqual(await s.valuesArray(MIN_TIME, MAX_INSERT_TIME, { version: v1 }), first, 'at v1');
      assert.equal((await s.valuesArray(MIN_TIME, MAX_INSERT_TIME, { version: v2 })).times.length, 11);
      assert.equal((await s.valuesArray(MIN_TIME, MAX_INSERT_TIME)).times.length, 5);
      assert.equal((await s.nearest(MIN_TIME, { version: v1 }))?.time, T0);
      assert.equal((await s.nearest(MIN_TIME))?.time, T0 + 50n);
      assert.equal((await s.alignedWindows(T0, T0 + 128n, 7, { version: v2 })).points[0]?.count, 11);
      assert.equal((await s.windows(T0, T0 + 100n, 100n, { version: v1 })).points[0]?.count, 10);
    });

    test('a version handed out by an insert reads back exactly until a later commit folds it, then answers 450', async () => {
      const s = await ctx.stream();
      const v1 = await s.insert([[T0, 1]]);
      const v2 = await s.insert([[T0 + 1n, 2]]);
      assert.ok(v1 < v2);
      // Reading v1 while it is pending commits exactly up to it: v1 never gains v2's point.
      assert.deepEqual([...(await s.valuesArray(T0, T0 + 2n, { version: v1 })).times], [T0]);
      const v3 = await s.insert([[T0 + 2n, 3]]);
      const v4 = await s.insert([[T0 + 3n, 4]]);
      await s.flush(); // commits v3 and v4 together: v3 is folded into v4
      assert.deepEqual([...(await s.valuesArray(T0, T0 + 9n, { version: v1 })).times], [T0]);
      assert.equal((await s.valuesArray(T0, T0 + 9n, { version: v4 })).times.length, 4);
      await rejectsWith(() => s.valuesArray(T0, T0 + 9n, { version: v3 }), 450, 'folded version');
    });

    test('reads report the version they were answered at', async () => {
      const s = await ctx.stream();
      const v1 = await s.insert([[T0, 1]]);
      const v2 = await s.insert([[T0 + 1n, 2]]);
      assert.equal((await s.valuesArray(T0, T0 + 2n, { version: v1 })).version, v1);
      assert.equal((await s.valuesArray(T0, T0 + 2n)).version, v2);
      assert.equal((await s.alignedWindows(T0, T0 + 2n, 0)).version, v2);
      assert.equal((await s.windows(T0, T0 + 2n, 1n, { version: v1 })).version, v1);
    });

    test('a version that never existed is rejected with 450 by every read', async () => {
      const s = await ctx.stream();
      const v = await s.insert([[T0, 1]]);
      const bad = v + 1000;
      await rejectsWith(() => s.valuesArray(T0, T0 + 1n, { version: bad }), 450, 'values');
      await rejectsWith(() => s.alignedWindows(T0, T0 + 1n, 0, { version: bad }), 450, 'alignedWindows');
      await rejectsWith(() => s.windows(T0, T0 + 1n, 1n, { version: bad }), 450, 'windows');
      await rejectsWith(() => s.nearest(T0, { version: bad }), 450, 'nearest');
      await rejectsWith(() => s.count({ version: bad }), 450, 'count');
      await rejectsWith(() => s.valuesArray(T0, T0 + 1n, { version: -1 }), 450, 'negative');
    });

    test('unflushed points are visible at version 0 and at the version insert returned', async () => {
      const s = await ctx.stream();
      const v = await s.insert(columns(series(3, 1n)));
      assert.equal((await s.valuesArray(T0, T0 + 3n)).times.length, 3);
      assert.equal((await s.valuesArray(T0, T0 + 3n, { version: v })).times.length, 3);
      assert.equal((await s.valuesArray(T0, T0 + 3n, { version: await s.version() })).times.length, 3);
    });

    test('flush keeps the data, is idempotent and returns a version', async () => {
      const s = await ctx.stream();
      await s.insert(columns(series(3, 1n)));
      const f1 = await s.flush();
      const f2 = await s.flush();
      assert.equal(typeof f1, 'number');
      assert.equal(f2, f1);
      assert.equal(await s.count({ precise: true }), 3);
    });
  });

  describe('delete', () => {
    test('delete removes exactly [start, end) and agrees with the model', async () => {
      const s = await ctx.stream();
      const pts = series(20, 5n, (i) => i * 1.5);
      await s.insert(columns(pts));
      const m = modelOf(pts);
      await s.delete(T0 + 10n, T0 + 40n);
      m.deleteRange(T0 + 10n, T0 + 40n);
      assertPointsEqual(
        await s.valuesArray(MIN_TIME, MAX_INSERT_TIME),
        m.values(MIN_TIME, MAX_INSERT_TIME),
        'after delete',
      );
      assert.equal((await s.nearest(T0 + 10n))?.time, T0 + 40n);
    });

    test('deleting an empty range still makes a new version; out-of-range deletes fail with 413', async () => {
      const s = await ctx.stream();
      const v = await s.insert([[T0, 1]]);
      const after = await s.delete(T0 + 100n, T0 + 200n);
      assert.ok(after >= v);
      assert.equal(await s.count(), 1);
      await rejectsWith(() => s.delete(MIN_TIME - 1n, T0), 413);
    });
  });

  describe('changes', () => {
    test('changes between two versions cover every inserted and deleted time, sorted and disjoint', async () => {
      const s = await ctx.stream();
      await s.insert([[T0, 1]]);
      const v1 = await s.version();
      await s.insert(columns([P(T0 + 1_000_000n, 2), P(T0 + 5_000_000_000n, 3)]));
      await s.delete(T0 - 10n, T0 + 1n);
      const { ranges } = await s.changes(v1, 0, 0);
      for (const t of [T0 + 1_000_000n, T0 + 5_000_000_000n, T0]) {
        assert.ok(
          ranges.some((r) => r.start <= t && t < r.end),
          `${t} not covered by ${ranges.map((r) => `[${r.start},${r.end})`).join(' ')}`,
        );
      }
      for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i - 1]!.end <= ranges[i]!.start, 'sorted and disjoint');
      await rejectsWith(() => s.changes(v1, 0, 64), 415, 'resolution 64');
    });
  });

  describe('model-based: random operation sequences', () => {
    for (const seed of [1, 2, 3, 4]) {
      test(`seed ${seed}: 80 random inserts, deletes, flushes and reads agree with the reference model`, async () => {
        const s = await ctx.stream();
        let model = new ReferenceStream();
        const history: { version: number; model: ReferenceStream }[] = [
          { version: await s.version(), model: model.snapshot() },
        ];
        const ops = randomOps(seed, 80);
        for (const [i, op] of ops.entries()) {
          const where = `seed ${seed} op ${i} (${op.kind})`;
          const at = (choice: 'latest' | 'old'): { version: number; model: ReferenceStream } =>
            choice === 'latest' ? { version: 0, model } : history[Math.floor(history.length / 2)]!;
          switch (op.kind) {
            case 'insert': {
              await s.insert(columns(op.points), { mergePolicy: op.policy });
              model = model.snapshot();
              model.insert(op.points, op.policy);
              // Pin versions the way btrdb-python does: from StreamInfo, which is always materialized.
              if (i % 3 === 0) history.push({ version: await s.version(), model });
              break;
            }
            case 'delete': {
              const v = await s.delete(op.start, op.end);
              model = model.snapshot();
              model.deleteRange(op.start, op.end);
              history.push({ version: v, model });
              break;
            }
            case 'flush':
              await s.flush();
              break;
            case 'values': {
              const { version, model: m } = at(op.version);
              assertPointsEqual(await s.valuesArray(op.start, op.end, { version }), m.values(op.start, op.end), where);
              break;
            }
            case 'count': {
              const { version, model: m } = at(op.version);
              assert.equal(
                await s.count({ start: op.start, end: op.end, version, precise: true }),
                m.count(op.start, op.end),
                where,
              );
              break;
            }
            case 'aligned': {
              const { version, model: m } = at(op.version);
              assertStatsEqual(
                (await s.alignedWindows(op.start, op.end, op.pw, { version })).points,
                m.alignedWindows(op.start, op.end, op.pw),
                where,
              );
              break;
            }
            case 'windows': {
              const { version, model: m } = at(op.version);
              assertStatsEqual(
                (await s.windows(op.start, op.end, op.width, { version })).points,
                m.windows(op.start, op.end, op.width),
                where,
              );
              break;
            }
            case 'nearest': {
              const { version, model: m } = at(op.version);
              const want = m.nearest(op.time, op.backward);
              const got = await s.nearest(op.time, { backward: op.backward, version });
              assert.deepEqual(
                got === null ? null : [got.time, got.value],
                want === undefined ? null : [want.t, want.v],
                where,
              );
              break;
            }
          }
        }
      });
    }
  });
}

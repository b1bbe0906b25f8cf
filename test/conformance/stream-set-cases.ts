/** Conformance: StreamSet — filters, pinned versions, set reads, rows join and snapping (guide §4.14). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Stream } from '../../src/client/stream.ts';
import { StreamSet } from '../../src/client/stream-set.ts';
import { currentlyAsNs, SECOND } from '../../src/core/time.ts';
import { assertPointsEqual, assertStatsEqual } from '../model/reference-stream.ts';
import type { Ctx } from './context.ts';
import { columns, modelOf, P, rejectsWith, series, T0 } from './helpers.ts';

/** Three streams in one collection: volts/L1, volts/L2, amps/I1, with a little data each. */
async function trio(ctx: Ctx): Promise<{ collection: string; l1: Stream; l2: Stream; i1: Stream; set: StreamSet }> {
  const collection = ctx.collection('set');
  const l1 = await ctx.conn.create({ collection, tags: { name: 'L1', unit: 'volts' }, annotations: { phase: 'A' } });
  const l2 = await ctx.conn.create({ collection, tags: { name: 'L2', unit: 'Volts' }, annotations: { phase: 'B' } });
  const i1 = await ctx.conn.create({
    collection,
    tags: { name: 'I1', unit: 'amps' },
    annotations: { phase: 'A', ct: '400' },
  });
  await l1.insert(columns([P(T0, 1), P(T0 + 20n, 3)]));
  await l2.insert(columns([P(T0 + 10n, 2), P(T0 + 20n, 4)]));
  await i1.insert(columns([P(T0 + 30n, 5)]));
  return { collection, l1, l2, i1, set: await ctx.conn.streams(l1.uuid, l2.uuid, i1.uuid) };
}

const ids = (set: Iterable<Stream>): string[] => [...set].map((s) => s.uuid);

export function streamSetCases(ctx: Ctx): void {
  describe('stream set: members and filters', () => {
    test('a set iterates its streams in order and a new StreamSet wraps any streams', async () => {
      const { l1, l2, i1, set } = await trio(ctx);
      assert.deepEqual(ids(set), [l1.uuid, l2.uuid, i1.uuid]);
      assert.equal(set.length, 3);
      const wrapped = new StreamSet([i1, l1]);
      assert.deepEqual(ids(wrapped), [i1.uuid, l1.uuid]);
      assert.equal((await wrapped.count()) > 0, true);
    });

    test('filter by unit: a string matches exactly ignoring case, a RegExp matches anywhere', async () => {
      const { l1, l2, i1, set } = await trio(ctx);
      assert.deepEqual(ids(await set.filter({ unit: 'VOLTS' })), [l1.uuid, l2.uuid]);
      assert.deepEqual(ids(await set.filter({ unit: 'volt' })), []);
      assert.deepEqual(ids(await set.filter({ unit: /amp|^V/ })), [l2.uuid, i1.uuid]);
      assert.equal(set.length, 3, 'filter returns a new set');
    });

    test('filter by name, collection, tags and annotations', async () => {
      const { collection, l1, i1, set } = await trio(ctx);
      assert.deepEqual(ids(await set.filter({ name: 'l1' })), [l1.uuid]);
      assert.deepEqual(ids(await set.filter({ collection: collection.toUpperCase() })), ids(set));
      assert.deepEqual(ids(await set.filter({ collection: /nomatch/ })), []);
      assert.deepEqual(ids(await set.filter({ tags: { unit: 'amps' } })), [i1.uuid]);
      assert.deepEqual(ids(await set.filter({ annotations: { phase: 'A' } })), [l1.uuid, i1.uuid]);
      assert.deepEqual(ids(await set.filter({ annotations: { phase: 'A', ct: 400 } })), [i1.uuid]);
    });

    test('filter start and end narrow every read; start >= end is rejected with 413', async () => {
      const { set } = await trio(ctx);
      const narrow = await set.filter({ start: T0 + 10n, end: T0 + 30n });
      const values = await narrow.values();
      assert.deepEqual(
        values.map((v) => [...v.times]),
        [[T0 + 20n], [T0 + 10n, T0 + 20n], []],
      );
      assert.equal(await narrow.count({ precise: true }), 3);
      await rejectsWith(() => set.filter({ start: T0, end: T0 }), 413);
    });
  });

  describe('stream set: versions', () => {
    test('the first read pins versions; later inserts are invisible until pinVersions() is called again', async () => {
      const { l1, set } = await trio(ctx);
      const before = await set.count({ precise: true });
      const pinned = await set.versions();
      await l1.insert([[T0 + 100n, 9]]);
      assert.equal(await set.count({ precise: true }), before, 'still the pinned snapshot');
      assert.deepEqual(await set.versions(), pinned);
      await set.pinVersions();
      assert.equal(await set.count({ precise: true }), before + 1);
      assert.equal((await set.versions()).get(l1.uuid), await l1.version());
    });

    test('versions() of an unpinned set reports the latest versions without pinning', async () => {
      const { l1, set } = await trio(ctx);
      const v = await set.versions();
      assert.equal(v.get(l1.uuid), await l1.version());
      await l1.insert([[T0 + 100n, 9]]);
      assert.equal((await set.versions()).get(l1.uuid), await l1.version());
    });

    test('pinVersions with explicit versions reads those versions; a missing member fails with 438', async () => {
      const s = await ctx.stream();
      const v1 = await s.insert([[T0, 1]]);
      await s.insert([[T0 + 1n, 2]]);
      const set = new StreamSet([s]);
      await set.pinVersions({ [s.uuid]: v1 });
      assert.equal((await set.values())[0]!.times.length, 1);
      assert.equal((await set.values())[0]!.version, v1);
      const other = await ctx.stream();
      await rejectsWith(() => new StreamSet([s, other]).pinVersions(new Map([[s.uuid, v1]])), 438);
    });

    test('filter keeps the pins of the members it keeps', async () => {
      const { l1, set } = await trio(ctx);
      await set.pinVersions();
      await l1.insert([[T0 + 100n, 9]]);
      const volts = await set.filter({ unit: 'volts' });
      assert.equal((await volts.values())[0]!.times.length, 2);
    });
  });

  describe('stream set: reads', () => {
    test('count, earliest and latest respect the filter range', async () => {
      const { set } = await trio(ctx);
      assert.equal(await set.count(), 5);
      const narrow = await set.filter({ start: T0 + 10n, end: T0 + 30n });
      assert.deepEqual(
        (await narrow.earliest()).map((p) => p?.time ?? null),
        [T0 + 20n, T0 + 10n, null],
      );
      assert.deepEqual(
        (await narrow.latest()).map((p) => p?.time ?? null),
        [T0 + 20n, T0 + 20n, null],
      );
      assert.deepEqual(
        (await set.earliest()).map((p) => p?.value ?? null),
        [1, 2, 5],
      );
    });

    test('current finds each last point before now; a range that excludes now is rejected with 413', async () => {
      const s = await ctx.stream();
      const now = currentlyAsNs();
      await s.insert([[now - SECOND, 1]]);
      const set = new StreamSet([s]);
      assert.equal((await set.current())[0]?.time, now - SECOND);
      await rejectsWith(async () => (await set.filter({ end: T0 })).current(), 413);
    });

    test('values() answers each member’s points; after alignedWindows/windows it answers statistics', async () => {
      const { l1, l2, set } = await trio(ctx);
      const raw = await set.values();
      assertPointsEqual(raw[0]!, [P(T0, 1), P(T0 + 20n, 3)], 'l1');
      assert.equal(raw[1]!.stream.uuid, l2.uuid);
      const aligned = await (await set.filter({ start: T0, end: T0 + 64n })).alignedWindows(4).values();
      const direct = (await l1.alignedWindows(T0, T0 + 64n, 4)).points;
      assert.deepEqual(
        [...aligned[0]!.times],
        direct.map((p) => p.time),
      );
      assert.deepEqual(
        [...aligned[0]!.mean],
        direct.map((p) => p.mean),
      );
      const win = await (await set.filter({ start: T0, end: T0 + 40n })).windows(20n).values();
      assert.deepEqual([...win[1]!.count], [1, 1]);
      assert.deepEqual([...win[2]!.count], [0, 1]);
      assertStatsEqual(
        Array.from(win[0]!.times, (time, i) => ({
          time,
          min: win[0]!.min[i]!,
          mean: win[0]!.mean[i]!,
          max: win[0]!.max[i]!,
          count: win[0]!.count[i]!,
          stddev: win[0]!.stddev[i]!,
        })),
        modelOf([P(T0, 1), P(T0 + 20n, 3)]).windows(T0, T0 + 40n, 20n),
        'windows l1',
      );
    });

    test('insert of a table writes each member’s column, skipping NaN cells', async () => {
      const a = await ctx.stream();
      const b = await ctx.stream();
      const set = new StreamSet([a, b]);
      const versions = await set.insert({
        times: BigInt64Array.of(T0, T0 + 1n, T0 + 2n),
        columns: [Float64Array.of(1, Number.NaN, 3), Float64Array.of(Number.NaN, 20, 30)],
      });
      assert.deepEqual([...versions.keys()], [a.uuid, b.uuid]);
      assert.deepEqual([...(await a.valuesArray(T0, T0 + 3n)).values], [1, 3]);
      assert.deepEqual([...(await b.valuesArray(T0, T0 + 3n)).times], [T0 + 1n, T0 + 2n]);
      await set.insert(new Map([[b.uuid, [[T0 + 5n, 50] as const]]]), { mergePolicy: 'replace' });
      assert.equal(await b.count({ precise: true }), 3);
      const stranger = await ctx.stream();
      await rejectsWith(() => set.insert(new Map([[stranger.uuid, [[T0, 1] as const]]])), 438);
    });
  });

  describe('stream set: rows', () => {
    test('rows join members on exact times with NaN where a member has no point', async () => {
      const { set } = await trio(ctx);
      const rows = await set.rows();
      assert.deepEqual([...rows.times], [T0, T0 + 10n, T0 + 20n, T0 + 30n]);
      assert.deepEqual(
        rows.columns.map((c) => [...c]),
        [
          [1, Number.NaN, 3, Number.NaN],
          [Number.NaN, 2, 4, Number.NaN],
          [Number.NaN, Number.NaN, Number.NaN, 5],
        ],
      );
    });

    test('duplicate times of one member get one row each', async () => {
      const a = await ctx.stream();
      const b = await ctx.stream();
      await a.insert(columns([P(T0, 1), P(T0, 2)]));
      await b.insert(columns([P(T0, 10)]));
      const rows = await new StreamSet([a, b]).rows();
      assert.deepEqual([...rows.times], [T0, T0]);
      assert.deepEqual(
        rows.columns.map((c) => [...c]),
        [
          [1, 2],
          [10, Number.NaN],
        ],
      );
    });

    test('rows of an empty range have no rows', async () => {
      const { set } = await trio(ctx);
      const rows = await (await set.filter({ start: T0 + 1000n, end: T0 + 2000n })).rows();
      assert.equal(rows.times.length, 0);
      assert.equal(rows.columns.length, 3);
    });

    test('rows after alignedWindows join window starts and pick the agg statistic', async () => {
      const { set } = await trio(ctx);
      const windowed = (await set.filter({ start: T0, end: T0 + 64n })).alignedWindows(5);
      const rows = await windowed.rows({ agg: 'count' });
      // T0 is a multiple of 32: every point falls in the window [T0, T0 + 32)
      assert.deepEqual([...rows.times], [T0]);
      assert.deepEqual(
        rows.columns.map((c) => [...c]),
        [[2], [2], [1]],
      );
      const means = await windowed.rows();
      assert.deepEqual(
        means.columns.map((c) => [...c]),
        [[2], [3], [5]],
      );
    });

    test('snapping moves points to the nearest grid time start + k·period, halves up, pulling in points before start', async () => {
      const a = await ctx.stream();
      const b = await ctx.stream();
      // 1 Hz grid from T0: T0 - 0.5 s snaps up to T0 (backward extends the range), T0 + 1.4 s to T0 + 1 s,
      // T0 + 2.5 s up to T0 + 3 s, which is at end and so dropped (forward restricts the range).
      await a.insert(
        columns([P(T0 - SECOND / 2n, 1), P(T0 + (14n * SECOND) / 10n, 2), P(T0 + (25n * SECOND) / 10n, 3)]),
      );
      await b.insert(columns([P(T0 + SECOND - 1n, 10), P(T0 + SECOND + 2n, 11), P(T0 - SECOND / 2n - 1n, 12)]));
      const set = await new StreamSet([a, b]).filter({ start: T0, end: T0 + 3n * SECOND, samplingFrequency: 1 });
      const rows = await set.rows();
      assert.deepEqual([...rows.times], [T0, T0 + SECOND]);
      assert.deepEqual(
        rows.columns.map((c) => [...c]),
        [
          [1, 2],
          [Number.NaN, 10],
        ],
      );
    });

    test('snapping 30 Hz data at lower frequencies gives one row per grid period', async () => {
      const s = await ctx.stream();
      const period30 = 33_333_333n;
      await s.insert(columns(series(300, period30, (i) => i))); // 10 s of 30 Hz
      const base = new StreamSet([s]);
      for (const [hz, expected] of [
        [30, 300],
        [15, 150],
        [1, 10],
        [0.1, 1],
      ] as const) {
        // about points × hz / 30; at 15 Hz the last point rounds up to one more grid time
        const rows = await (await base.filter({ start: T0, end: T0 + 10n * SECOND, samplingFrequency: hz })).rows();
        assert.ok(
          Math.abs(rows.times.length - expected) <= 1,
          `${hz} Hz: ${rows.times.length} rows, about ${expected}`,
        );
        const period = BigInt(Math.floor(1e9 / hz));
        assert.ok(
          rows.times.every((t) => (t - T0) % period === 0n),
          `${hz} Hz: rows on the grid`,
        );
      }
      const unsnapped = await (await base.filter({ samplingFrequency: 0 })).rows();
      assert.equal(unsnapped.times.length, 300);
    });
  });
}

/** Conformance: aligned windows, windows, statistics and count (guide §4.5–4.7). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { alignDown, MAX_INSERT_TIME, MIN_TIME } from '../../src/core/time.ts';
import { assertStatsEqual, floorToMultiple } from '../model/reference-stream.ts';
import type { Ctx } from './context.ts';
import { columns, modelOf, P, rejectsWith, scattered, series, T0 } from './helpers.ts';

export function windowCases(ctx: Ctx): void {
  describe('aligned windows', () => {
    test('the docs example: ten points from 1.5e18 at pw 28 give four windows, stddev 0.816496580927726', async () => {
      const s = await ctx.stream();
      await s.insert(columns(series(10, 100_000_000n, (i) => i + 1)));
      const r = await s.alignedWindows(T0, T0 + 1_000_000_000n, 28);
      const got = r.points.map((p) => [p.time, p.min, p.mean, p.max, p.count]);
      assert.deepEqual(got, [
        [1499999999814008832n, 1, 1, 1, 1],
        [1500000000082444288n, 2, 3, 4, 3],
        [1500000000350879744n, 5, 6, 7, 3],
        [1500000000619315200n, 8, 8.5, 9, 2],
      ]);
      assert.ok(Math.abs(r.points[1]!.stddev - 0.816496580927726) < 1e-12);
      assert.equal(r.points[3]!.stddev, 0.5);
    });

    for (const pw of [0, 5, 20, 33, 40]) {
      test(`pw ${pw} agrees with the reference model on scattered data with unaligned edges`, async () => {
        const s = await ctx.stream();
        const pts = scattered(5_000, pw + 1, T0, 1n << 38n);
        await s.insert(columns(pts));
        const m = modelOf(pts);
        const start = T0 + 12_345n;
        const end = T0 + (1n << 38n) - 777n;
        // keep pw 0 cheap: a small range
        const [a, b] = pw === 0 ? [start, start + 3_000_000_000n] : [start, end];
        assertStatsEqual((await s.alignedWindows(a, b, pw)).points, m.alignedWindows(a, b, pw), `pw ${pw}`);
      });
    }

    test('windows without points are omitted', async () => {
      const s = await ctx.stream();
      await s.insert(columns([P(T0, 1), P(T0 + 1000n, 2)]));
      const r = await s.alignedWindows(T0 - 4096n, T0 + 4096n, 4);
      assert.deepEqual(
        r.points.map((p) => p.time),
        [alignDown(T0, 4), alignDown(T0 + 1000n, 4)],
      );
    });

    test('points before start in the first window count; points in the last partial window do not', async () => {
      const s = await ctx.stream();
      const base = alignDown(T0, 10);
      const pts = [P(base + 1n, 1), P(base + 600n, 2), P(base + 1024n + 5n, 3), P(base + 2048n + 10n, 4)];
      await s.insert(columns(pts));
      const r = await s.alignedWindows(base + 500n, base + 2048n + 100n, 10);
      assert.deepEqual(
        r.points.map((p) => [p.time, p.count]),
        [
          [base, 2],
          [base + 1024n, 1],
        ],
      );
      assertStatsEqual(r.points, modelOf(pts).alignedWindows(base + 500n, base + 2148n, 10), 'edges');
    });

    test('pw 63 over the whole time range agrees with the model (one window below 0)', async () => {
      const s = await ctx.stream();
      const pts = [P(MIN_TIME, 1), P(-5n, 2), P(T0, 3)];
      await s.insert(columns(pts));
      const r = await s.alignedWindows(MIN_TIME, MAX_INSERT_TIME, 63);
      assertStatsEqual(r.points, modelOf(pts).alignedWindows(MIN_TIME, MAX_INSERT_TIME, 63), 'pw 63');
    });

    test('pw 62 over the whole time range covers every point', async () => {
      const s = await ctx.stream();
      const pts = [P(MIN_TIME, 1), P(-5n, 2), P(T0, 3), P(MAX_INSERT_TIME - 1n, 4)];
      await s.insert(columns(pts));
      const r = await s.alignedWindows(MIN_TIME, MAX_INSERT_TIME, 62);
      assertStatsEqual(r.points, modelOf(pts).alignedWindows(MIN_TIME, MAX_INSERT_TIME, 62), 'pw 62');
    });

    test('a point width outside 0–63 or not an integer is rejected with 415', async () => {
      const s = await ctx.stream();
      for (const pw of [64, -1, 2.5]) await rejectsWith(() => s.alignedWindows(T0, T0 + 100n, pw), 415, `pw ${pw}`);
    });

    test('a range that rounds to nothing answers no windows', async () => {
      const s = await ctx.stream();
      await s.insert([[T0, 1]]);
      const base = alignDown(T0, 20);
      const r = await s.alignedWindows(base + 1n, base + 5n, 20);
      assert.deepEqual(r.points, []);
    });

    test('arrowAlignedWindows equals alignedWindows bit for bit, in the BTrDB window schema', async () => {
      const s = await ctx.stream();
      const pts = scattered(2_000, 99);
      await s.insert(columns(pts));
      const plain = (await s.alignedWindows(T0, T0 + (1n << 36n), 30)).points;
      const t = tableFromIPC(tableToIPC(await s.arrowAlignedWindows(T0, T0 + (1n << 36n), 30), 'stream'));
      assert.deepEqual(
        t.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`),
        [
          'time:Timestamp<NANOSECOND, UTC>:false',
          'min:Float64:false',
          'mean:Float64:false',
          'max:Float64:false',
          'count:Uint64:false',
          'stddev:Float64:false',
        ],
      );
      const col = <T>(name: string): T[] =>
        t.getChild(name)!.data.flatMap((d) => Array.from(d.values as unknown as ArrayLike<T>).slice(0, d.length));
      assert.deepEqual(
        col<bigint>('time'),
        plain.map((p) => p.time),
      );
      assert.deepEqual(
        col<bigint>('count'),
        plain.map((p) => BigInt(p.count)),
      );
      for (const f of ['min', 'mean', 'max', 'stddev'] as const) {
        assert.deepEqual(
          col<number>(f),
          plain.map((p) => p[f]),
          f,
        );
      }
    });
  });

  describe('windows', () => {
    test('windows agree with the model, including empty windows with count 0', async () => {
      const s = await ctx.stream();
      const pts = scattered(3_000, 5, T0, 1n << 34n);
      await s.insert(columns(pts));
      const m = modelOf(pts);
      const start = T0 - 1_000_000_000n;
      const end = T0 + (1n << 34n) + 3_000_000_000n;
      const width = 700_000_001n;
      const got = (await s.windows(start, end, width)).points;
      assertStatsEqual(got, m.windows(start, end, width), 'windows');
      assert.ok(
        got.some((p) => p.count === 0),
        'some windows are empty',
      );
      const empty = got.find((p) => p.count === 0)!;
      assert.deepEqual([empty.min, empty.mean, empty.max, empty.stddev], [0, 0, 0, 0]);
    });

    test('a window crossing end is dropped: end is lowered to start + k·width', async () => {
      const s = await ctx.stream();
      await s.insert(columns(series(10, 10n))); // T0 .. T0+90
      const r = await s.windows(T0, T0 + 95n, 30n);
      assert.deepEqual(
        r.points.map((p) => [p.time, p.count]),
        [
          [T0, 3],
          [T0 + 30n, 3],
          [T0 + 60n, 3],
        ],
      );
      assert.deepEqual((await s.windows(T0, T0 + 29n, 30n)).points, []);
    });

    test('windows of width 1 ns and of a huge width agree with the model', async () => {
      const s = await ctx.stream();
      const pts = [P(T0, 1), P(T0, 2), P(T0 + 2n, 3)];
      await s.insert(columns(pts));
      const m = modelOf(pts);
      assertStatsEqual((await s.windows(T0, T0 + 4n, 1n)).points, m.windows(T0, T0 + 4n, 1n), 'width 1');
      const big = 1n << 61n;
      assertStatsEqual(
        (await s.windows(MIN_TIME, MIN_TIME + big, big)).points,
        m.windows(MIN_TIME, MIN_TIME + big, big),
        'width 2^61',
      );
    });

    test('width 0 and depth over 63 are rejected with 415', async () => {
      const s = await ctx.stream();
      await rejectsWith(() => s.windows(T0, T0 + 100n, 0n), 415, 'width 0');
      await rejectsWith(() => s.windows(T0, T0 + 100n, 10n, { depth: 64 }), 415, 'depth 64');
    });

    test('arrowWindows equals windows', async () => {
      const s = await ctx.stream();
      await s.insert(columns(series(50, 7n, (i) => Math.sin(i))));
      const plain = (await s.windows(T0, T0 + 350n, 10n)).points;
      const t = await s.arrowWindows(T0, T0 + 350n, 10n);
      assert.equal(t.numRows, plain.length);
      const means = t.getChild('mean')!.data.flatMap((d) => [...(d.values as Float64Array).subarray(0, d.length)]);
      assert.deepEqual(
        means,
        plain.map((p) => p.mean),
      );
    });
  });

  describe('count', () => {
    test('count sums aligned windows at pw = min(62, floor(log2(end - start)) - 1), so edges round down to 2^pw', async () => {
      const s = await ctx.stream();
      const pts = scattered(4_000, 11, T0, 1n << 40n);
      await s.insert(columns(pts));
      const m = modelOf(pts);
      const start = T0 + 123_456_789n;
      const end = T0 + (1n << 40n) - 987_654_321n;
      const pw = Math.min(62, (end - start).toString(2).length - 1 - 1);
      const lo = floorToMultiple(start, 1n << BigInt(pw));
      const hi = floorToMultiple(end, 1n << BigInt(pw));
      assert.equal(await s.count({ start, end }), m.count(lo, hi));
      assert.equal(await s.count({ start, end, precise: true }), m.count(start, end));
      assert.equal(await s.count(), pts.length);
    });

    test('by default count covers [-2^60, 2^61) like btrdb-python; precise counts everything', async () => {
      const s = await ctx.stream();
      await s.insert(
        columns([P(MIN_TIME, 1), P(0n, 2), P((1n << 61n) - 1n, 3), P(1n << 61n, 4), P(MAX_INSERT_TIME - 1n, 5)]),
      );
      assert.equal(await s.count(), 3);
      assert.equal(await s.count({ precise: true }), 5);
    });

    test('a smaller pointWidth option makes the default count tighter', async () => {
      const s = await ctx.stream();
      await s.insert(columns(series(100, 1n)));
      assert.equal(await s.count({ start: T0 + 10n, end: T0 + 20n, pointWidth: 0 }), 10);
    });

    test('count at a version counts that version', async () => {
      const s = await ctx.stream();
      const v1 = await s.insert(columns(series(5, 1n)));
      await s.insert(columns(series(5, 1n, (i) => i, T0 + 100n)));
      assert.equal(await s.count({ version: v1 }), 5);
      assert.equal(await s.count({ version: v1, precise: true }), 5);
      assert.equal(await s.count(), 10);
    });
  });
}

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StatPoint } from '../../src/core/stat.ts';
import { MAX_TIME, MIN_TIME } from '../../src/core/time.ts';
import type { MergePolicy } from '../../src/core/types.ts';
import { type Op, randomOps } from './random-ops.ts';
import {
  assertPointsEqual,
  assertStatsEqual,
  floorToMultiple,
  ReferenceStream,
  type RefPoint,
  sameBits,
} from './reference-stream.ts';

const P = (t: number | bigint, v: number): RefPoint => ({ t: BigInt(t), v });
const streamOf = (points: readonly RefPoint[], policy: MergePolicy = 'never'): ReferenceStream => {
  const s = new ReferenceStream();
  s.insert(points, policy);
  return s;
};
const pairs = (points: readonly RefPoint[]): [bigint, number][] => points.map((p) => [p.t, p.v]);
const columns = (points: readonly RefPoint[]): { times: BigInt64Array; values: Float64Array } => ({
  times: BigInt64Array.from(points.map((p) => p.t)),
  values: Float64Array.from(points.map((p) => p.v)),
});
const stat = (time: bigint, count: number, min: number, mean: number, max: number, stddev: number): StatPoint => ({
  time,
  count,
  min,
  mean,
  max,
  stddev,
});

describe('reference stream: statistics', () => {
  test('stddev of 2, 3, 4 is the population deviation 0.816496580927726 (guide §4.7)', () => {
    const s = streamOf([P(0, 2), P(1, 3), P(2, 4)]);
    const [w] = s.windows(0n, 3n, 3n);
    assert.ok(w);
    assert.equal(w.count, 3);
    assert.equal(w.min, 2);
    assert.equal(w.max, 4);
    assert.equal(w.mean, 3);
    assert.ok(Math.abs(w.stddev - 0.816496580927726) < 1e-15, `stddev ${w.stddev}`);
  });

  test('a single point has stddev 0 and min = mean = max = its value', () => {
    const [w] = streamOf([P(7, -12.5)]).alignedWindows(0n, 16n, 4);
    assert.deepEqual(w, stat(0n, 1, -12.5, -12.5, -12.5, 0));
  });
});

describe('reference stream: merge policies (guide §4.3)', () => {
  const batch = [P(110, 2.0), P(110, 3.0)];

  test('never keeps both points of the batch [110→2, 110→3], in arrival order', () => {
    assert.deepEqual(pairs(streamOf(batch, 'never').all()), [
      [110n, 2],
      [110n, 3],
    ]);
  });

  test('equal keeps both points of the batch [110→2, 110→3] because the values differ', () => {
    assert.deepEqual(pairs(streamOf(batch, 'equal').all()), [
      [110n, 2],
      [110n, 3],
    ]);
  });

  test('retain keeps only the first point (2.0) of the batch', () => {
    assert.deepEqual(pairs(streamOf(batch, 'retain').all()), [[110n, 2]]);
  });

  test('replace keeps only the last point (3.0) of the batch', () => {
    assert.deepEqual(pairs(streamOf(batch, 'replace').all()), [[110n, 3]]);
  });

  test('equal drops a point identical to a stored one or to an earlier one in the batch', () => {
    const s = streamOf([P(110, 2)]);
    s.insert([P(110, 2), P(110, 3), P(110, 3), P(120, 1), P(120, 1)], 'equal');
    assert.deepEqual(pairs(s.all()), [
      [110n, 2],
      [110n, 3],
      [120n, 1],
    ]);
  });

  test('equal compares float64 bits, so 0 and -0 are different values', () => {
    const s = streamOf([P(5, 0)]);
    s.insert([P(5, -0), P(5, 0)], 'equal');
    const values = s.all().map((p) => p.v);
    assert.equal(values.length, 2);
    assert.ok(Object.is(values[0], 0) && Object.is(values[1], -0));
  });

  test('never keeps a point identical to a stored one', () => {
    const s = streamOf([P(110, 2)]);
    s.insert([P(110, 2)], 'never');
    assert.equal(s.count(110n, 111n), 2);
  });

  test('retain keeps the stored point and drops every new point at that time', () => {
    const s = streamOf([P(110, 2)]);
    s.insert([P(110, 5), P(111, 6), P(111, 7)], 'retain');
    assert.deepEqual(pairs(s.all()), [
      [110n, 2],
      [111n, 6],
    ]);
  });

  test('replace removes every stored point at that time, duplicates included', () => {
    const s = streamOf([P(110, 2), P(110, 3), P(109, 1), P(111, 4)]);
    s.insert([P(110, 7)], 'replace');
    assert.deepEqual(pairs(s.all()), [
      [109n, 1],
      [110n, 7],
      [111n, 4],
    ]);
  });

  test('an unsorted batch is stored by time, equal times in arrival order after stored ones', () => {
    const s = streamOf([P(5, 0)]);
    s.insert([P(5, 1), P(1, 2), P(5, 3), P(3, 4), P(-2, 5)], 'never');
    assert.deepEqual(pairs(s.all()), [
      [-2n, 5],
      [1n, 2],
      [3n, 4],
      [5n, 0],
      [5n, 1],
      [5n, 3],
    ]);
  });
});

describe('reference stream: raw values, delete, snapshot', () => {
  test('values and delete use half-open ranges [start, end)', () => {
    const s = streamOf([1, 2, 3, 4, 5].map((t) => P(t, t * 10)));
    assert.deepEqual(pairs(s.values(2n, 4n)), [
      [2n, 20],
      [3n, 30],
    ]);
    s.deleteRange(2n, 4n);
    assert.deepEqual(
      s.all().map((p) => p.t),
      [1n, 4n, 5n],
    );
    assert.equal(s.count(MIN_TIME, MAX_TIME), 3);
  });

  test('a snapshot does not change when the stream changes, nor the other way round', () => {
    const s = streamOf([P(1, 1)]);
    const old = s.snapshot();
    s.insert([P(2, 2)], 'never');
    old.deleteRange(MIN_TIME, MAX_TIME);
    assert.deepEqual(pairs(s.all()), [
      [1n, 1],
      [2n, 2],
    ]);
    assert.deepEqual(old.all(), []);
  });

  test('returned points are copies that cannot change the stream', () => {
    const s = streamOf([P(1, 1)]);
    const [p] = s.values(0n, 10n);
    assert.ok(p);
    p.v = 99;
    assert.equal(s.all()[0]?.v, 1);
  });
});

describe('reference stream: aligned windows (guide §4.5)', () => {
  test('start and end are floored to 2^pw, also for negative times', () => {
    const s = streamOf([-5, -4, -1, 0, 3, 4, 7].map((t) => P(t, t)));
    // start' = floor(-3 / 4)·4 = -4, end' = floor(5 / 4)·4 = 4: -4 counts though < start, 4 does not.
    assertStatsEqual(
      s.alignedWindows(-3n, 5n, 2),
      [stat(-4n, 2, -4, -2.5, -1, 1.5), stat(0n, 2, 0, 1.5, 3, 1.5)],
      'negative flooring',
    );
  });

  test('the docs example: start 1.5e18 at pw 28 gives a first window at 1499999999814008832', () => {
    const start = 1_500_000_000_000_000_000n;
    const [w] = streamOf([P(start, 1)]).alignedWindows(start, start + (1n << 28n), 28);
    assert.equal(w?.time, 1499999999814008832n);
  });

  test('windows without points are omitted', () => {
    const s = streamOf([P(0, 1), P(9, 2)]);
    assert.deepEqual(
      s.alignedWindows(0n, 12n, 2).map((w) => w.time),
      [0n, 8n],
    );
  });

  test('start and end in the same window give no windows', () => {
    assert.deepEqual(streamOf([P(5, 1)]).alignedWindows(4n, 7n, 2), []);
  });

  test('pw 63 over the whole range floors start to -2^63 and end to 0', () => {
    const s = streamOf([P(MIN_TIME, 1), P(-1, 2), P(5, 3)]);
    assertStatsEqual(s.alignedWindows(MIN_TIME, MAX_TIME - 1n, 63), [stat(-(1n << 63n), 2, 1, 1.5, 2, 0.5)], 'pw 63');
  });

  test('pw 0 gives one window per distinct time, duplicates together', () => {
    const s = streamOf([P(3, 1), P(3, 3), P(4, 5)]);
    assertStatsEqual(s.alignedWindows(0n, 10n, 0), [stat(3n, 2, 1, 2, 3, 1), stat(4n, 1, 5, 5, 5, 0)], 'pw 0');
  });
});

describe('reference stream: windows (guide §4.6)', () => {
  test('the window crossing end is dropped', () => {
    const s = streamOf(Array.from({ length: 10 }, (_, t) => P(t, t)));
    const ws = s.windows(0n, 10n, 3n);
    assert.deepEqual(
      ws.map((w) => [w.time, w.count, w.mean]),
      [
        [0n, 3, 1],
        [3n, 3, 4],
        [6n, 3, 7],
      ],
    );
  });

  test('empty windows are emitted with count 0 and zeros', () => {
    const s = streamOf([P(103, 8)]);
    assert.deepEqual(s.windows(95n, 110n, 5n), [
      stat(95n, 0, 0, 0, 0, 0),
      stat(100n, 1, 8, 8, 8, 0),
      stat(105n, 0, 0, 0, 0, 0),
    ]);
  });

  test('a width larger than the range gives no windows', () => {
    assert.deepEqual(streamOf([P(1, 1)]).windows(0n, 10n, 11n), []);
  });

  test('windows start at start, not at a multiple of the width, also for negative times', () => {
    const s = streamOf([-8, -7, -3, -2, 2, 3].map((t) => P(t, 1)));
    assert.deepEqual(
      s.windows(-7n, 3n, 5n).map((w) => [w.time, w.count]),
      [
        [-7n, 2],
        [-2n, 2],
      ],
    );
  });

  test('count(precise) is one window of width end - start over the whole range', () => {
    const s = streamOf([P(MIN_TIME, 1), P(MAX_TIME - 2n, 2)]);
    const ws = s.windows(MIN_TIME, MAX_TIME - 1n, MAX_TIME - 1n - MIN_TIME);
    assert.deepEqual(
      ws.map((w) => [w.time, w.count]),
      [[MIN_TIME, 2]],
    );
  });
});

describe('reference stream: nearest (guide §4.8)', () => {
  const s = streamOf([P(10, 1), P(10, 2), P(20, 3)]);

  test('forward finds the smallest time >= time, the first stored at that time', () => {
    assert.deepEqual(s.nearest(10n, false), P(10, 1));
    assert.deepEqual(s.nearest(-100n, false), P(10, 1));
    assert.deepEqual(s.nearest(11n, false), P(20, 3));
    assert.equal(s.nearest(21n, false), undefined);
  });

  test('backward finds the largest time strictly < time, the last stored at that time', () => {
    assert.deepEqual(s.nearest(20n, true), P(10, 2));
    assert.deepEqual(s.nearest(21n, true), P(20, 3));
    assert.equal(s.nearest(10n, true), undefined);
  });

  test('an empty stream has no nearest point', () => {
    assert.equal(new ReferenceStream().nearest(0n, false), undefined);
    assert.equal(new ReferenceStream().nearest(0n, true), undefined);
  });
});

describe('reference stream: helpers', () => {
  test('floorToMultiple rounds toward minus infinity', () => {
    assert.equal(floorToMultiple(-1n, 4n), -4n);
    assert.equal(floorToMultiple(-4n, 4n), -4n);
    assert.equal(floorToMultiple(5n, 4n), 4n);
    assert.equal(floorToMultiple(MIN_TIME + 1n, 1n << 63n), -(1n << 63n));
  });

  test('sameBits tells 0 from -0 and equal values apart from different ones', () => {
    assert.ok(sameBits(1.5, 1.5));
    assert.ok(!sameBits(0, -0));
    assert.ok(!sameBits(1, 1 + Number.EPSILON));
  });

  test('assertStatsEqual accepts rounding differences in mean and stddev', () => {
    const e = stat(0n, 3, 1, 2, 3, 0.816496580927726);
    assertStatsEqual([{ ...e, mean: 2 * (1 + 1e-12), stddev: 0.816496580927726 * (1 - 1e-12) }], [e], 'close');
  });

  test('assertStatsEqual tolerates rounding relative to the values when large values cancel', () => {
    const e = stat(0n, 2, -1e15, 0, 1e15, 1e15);
    assertStatsEqual([{ ...e, mean: 0.125 }], [e], 'cancel');
  });

  test('assertStatsEqual names the first mismatching window and field', () => {
    const e = [stat(0n, 1, 1, 1, 1, 0), stat(4n, 2, 1, 2, 3, 1)];
    assert.throws(
      () => assertStatsEqual([e[0]!, { ...e[1]!, count: 3 }], e, 'ctx'),
      /ctx: window 1 .*count: actual 3, expected 2/,
    );
    assert.throws(() => assertStatsEqual([e[0]!, { ...e[1]!, mean: 2.001 }], e, 'ctx'), /window 1 .*mean/);
    assert.throws(() => assertStatsEqual([e[0]!, { ...e[1]!, min: 0 }], e, 'ctx'), /window 1 .*min/);
    assert.throws(() => assertStatsEqual([e[0]!], e, 'ctx'), /ctx: 1 windows, expected 2/);
    assert.throws(() => assertStatsEqual([e[1]!], e, 'ctx'), /window 0 field time: actual 4, expected 0/);
  });

  test('assertPointsEqual compares times exactly and values with Object.is', () => {
    const e = [P(1, 0), P(2, 1.5)];
    assertPointsEqual(columns(e), e, 'same');
    assert.throws(() => assertPointsEqual(columns([P(1, -0), P(2, 1.5)]), e, 'ctx'), /ctx: point 0 .*value/);
    assert.throws(() => assertPointsEqual(columns([P(1, 0), P(3, 1.5)]), e, 'ctx'), /point 1 field time/);
    assert.throws(() => assertPointsEqual(columns([P(1, 0)]), e, 'ctx'), /1 points, expected 2/);
  });
});

/** Apply the mutating ops of a random sequence to a model and return the model. */
function build(ops: readonly Op[]): ReferenceStream {
  const s = new ReferenceStream();
  for (const op of ops) {
    if (op.kind === 'insert') s.insert(op.points, op.policy);
    else if (op.kind === 'delete') s.deleteRange(op.start, op.end);
  }
  return s;
}

const SEEDS = [1, 2, 3, 42, 2024];

describe('reference stream: invariants on random data', () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}: stored points are sorted and every query agrees with the raw values`, () => {
      const ops = randomOps(seed, 150);
      const s = build(ops);
      const all = s.all();
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.t <= all[i]!.t, `unsorted at ${i}`);
      for (const op of ops) {
        if (op.kind === 'values' || op.kind === 'count') {
          const vs = s.values(op.start, op.end);
          assert.equal(vs.length, s.count(op.start, op.end));
          assertPointsEqual(
            columns(vs),
            all.filter((p) => op.start <= p.t && p.t < op.end),
            'values',
          );
        } else if (op.kind === 'windows') {
          const ws = s.windows(op.start, op.end, op.width);
          const n = (op.end - op.start) / op.width;
          assert.equal(ws.length, Number(n));
          const covered = s.count(op.start, op.start + n * op.width);
          assert.equal(
            ws.reduce((a, w) => a + w.count, 0),
            covered,
            'window counts sum to the count of the covered range',
          );
          for (const w of ws) checkStatBounds(w);
        } else if (op.kind === 'aligned') {
          const ws = s.alignedWindows(op.start, op.end, op.pw);
          const size = 1n << BigInt(op.pw);
          const lo = floorToMultiple(op.start, size);
          const hi = floorToMultiple(op.end, size);
          assert.equal(
            ws.reduce((a, w) => a + w.count, 0),
            s.count(lo, hi),
          );
          for (const w of ws) {
            assert.ok(w.count > 0, 'no empty aligned windows');
            assert.equal(floorToMultiple(w.time, size), w.time, 'aligned window time is aligned');
            checkStatBounds(w);
          }
          // Two independent code paths: aligned windows = non-empty windows of width 2^pw from start'.
          if (hi > lo && (hi - lo) / size <= 5000n) {
            assertStatsEqual(
              ws,
              s.windows(lo, hi, size).filter((w) => w.count > 0),
              'aligned vs windows',
            );
          }
        } else if (op.kind === 'nearest') {
          const got = s.nearest(op.time, op.backward);
          const expected = op.backward ? all.filter((p) => p.t < op.time).at(-1) : all.find((p) => p.t >= op.time);
          assert.deepEqual(got, expected);
        }
      }
    });
  }

  test('after replace each batch time holds exactly one point, the last one of the batch', () => {
    const ops = randomOps(7, 120);
    const s = new ReferenceStream();
    for (const op of ops) {
      if (op.kind !== 'insert') continue;
      s.insert(op.points, 'replace');
      const last = new Map<bigint, number>();
      for (const p of op.points) last.set(p.t, p.v);
      for (const [t, v] of last) assert.deepEqual(pairs(s.values(t, t + 1n)), [[t, v]]);
    }
  });

  test('retain leaves stored times untouched and adds the first batch point at new times', () => {
    const ops = randomOps(8, 120);
    const s = new ReferenceStream();
    for (const op of ops) {
      if (op.kind !== 'insert') continue;
      const before = s.snapshot();
      s.insert(op.points, 'retain');
      const first = new Map<bigint, number>();
      for (const p of op.points) if (!first.has(p.t)) first.set(p.t, p.v);
      for (const [t, v] of first) {
        const old = before.values(t, t + 1n);
        assert.deepEqual(s.values(t, t + 1n), old.length > 0 ? old : [P(t, v)]);
      }
    }
  });

  test('equal never stores a second copy of an identical point', () => {
    const ops = randomOps(9, 120);
    const s = new ReferenceStream();
    for (const op of ops) if (op.kind === 'insert') s.insert(op.points, 'equal');
    const all = s.all();
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length && all[j]!.t === all[i]!.t; j++) {
        assert.ok(!sameBits(all[i]!.v, all[j]!.v), `identical points at ${all[i]!.t}`);
      }
    }
  });
});

/** min ≤ mean ≤ max and 0 ≤ stddev ≤ (max − min) / 2 (population deviation), up to rounding. */
function checkStatBounds(w: StatPoint): void {
  if (w.count === 0) {
    assert.deepEqual(w, stat(w.time, 0, 0, 0, 0, 0));
    return;
  }
  const slack = 1e-12 * Math.max(1, Math.abs(w.min), Math.abs(w.max));
  assert.ok(w.min <= w.max);
  assert.ok(w.min - slack <= w.mean && w.mean <= w.max + slack, `mean ${w.mean} outside [${w.min}, ${w.max}]`);
  assert.ok(w.stddev >= 0 && w.stddev <= (w.max - w.min) / 2 + slack, `stddev ${w.stddev}`);
}

describe('random ops', () => {
  test('the same seed gives the same ops and another seed different ones', () => {
    assert.deepEqual(randomOps(5, 60), randomOps(5, 60));
    assert.notDeepEqual(randomOps(5, 60), randomOps(6, 60));
  });

  test('every op is valid for the engine', () => {
    for (const seed of SEEDS) {
      for (const op of randomOps(seed, 400)) {
        switch (op.kind) {
          case 'insert':
            assert.ok(op.points.length >= 1 && op.points.length <= 3000, `batch of ${op.points.length}`);
            for (const p of op.points) {
              assert.ok(MIN_TIME <= p.t && p.t <= MAX_TIME - 2n, `time ${p.t}`);
              assert.ok(Number.isFinite(p.v), `value ${p.v}`);
            }
            break;
          case 'flush':
            break;
          case 'nearest':
            assert.ok(MIN_TIME <= op.time && op.time < MAX_TIME);
            break;
          default: {
            assert.ok(MIN_TIME <= op.start && op.start < op.end && op.end < MAX_TIME, `range ${op.start}..${op.end}`);
            if (op.kind === 'aligned') assert.ok(Number.isInteger(op.pw) && op.pw >= 0 && op.pw <= 63);
            if (op.kind === 'windows') {
              assert.ok(op.width >= 1n && op.width <= 1n << 62n, `width ${op.width}`);
              assert.ok((op.end - op.start) / op.width <= 5000n, `${(op.end - op.start) / op.width} windows`);
            }
          }
        }
      }
    }
  });

  test('the mix covers every op kind, policy and the awkward cases', () => {
    const ops = SEEDS.flatMap((seed) => randomOps(seed, 400));
    const kinds = new Set(ops.map((op) => op.kind));
    assert.deepEqual([...kinds].sort(), [
      'aligned',
      'count',
      'delete',
      'flush',
      'insert',
      'nearest',
      'values',
      'windows',
    ]);
    const inserts = ops.filter((op) => op.kind === 'insert');
    assert.equal(new Set(inserts.map((op) => op.policy)).size, 4);
    const maxAtOneTime = (points: readonly RefPoint[]): number => {
      const n = new Map<bigint, number>();
      for (const p of points) n.set(p.t, (n.get(p.t) ?? 0) + 1);
      return Math.max(...n.values());
    };
    assert.ok(
      inserts.some((op) => maxAtOneTime(op.points) > 1024),
      'a batch with > 1024 points at one timestamp',
    );
    assert.ok(
      inserts.some((op) => op.points.some((p) => p.t < 0n)),
      'negative times',
    );
    assert.ok(
      inserts.some((op) => op.points.some((p, i) => i > 0 && p.t < op.points[i - 1]!.t)),
      'unsorted batches',
    );
    assert.ok(
      inserts.some((op) => {
        const ts = op.points.map((p) => p.t).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        return ts.at(-1)! - ts[0]! > 1n << 61n;
      }),
      'a batch spread over a huge span',
    );
    assert.ok(
      ops.some((op) => op.kind === 'windows' && (op.end - op.start) / op.width === 0n),
      'windows queries with no window',
    );
    assert.ok(
      ops.some((op) => op.kind === 'values' && op.version === 'old'),
      'queries at old versions',
    );
  });
});

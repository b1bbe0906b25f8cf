import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Guid, Resp } from './protocol.ts';
import {
  FilterError,
  readMatchFilter,
  readReaderOptions,
  readSeekFilter,
  type TimeFilter,
  tickBounds,
  timeSelected,
  windowFilter,
} from './read-filters.ts';
import { WireReader, WireWriter } from './wire-io.ts';

/**
 * Reference: enumerate SNAPdb's windows one by one as its interval filter does (centre =
 * current + sub·count; stop at the first window starting after `last`; after `perMain` windows
 * advance `current` by `main`), and test membership window by window.
 */
function referenceSelected(first: bigint, last: bigint, main: bigint, sub: bigint, tol: bigint, t: bigint): boolean {
  const perMain = BigInt(Math.round(Number(main) / Number(sub)) - (isHalfOdd(Number(main) / Number(sub)) ? 1 : 0));
  let current = first;
  let count = 0n;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const middle = current + sub * count;
    const start = middle > tol ? middle - tol : 0n;
    const end = middle + tol;
    if (start > last) return false;
    if (t >= start && t <= end) return true;
    if (count + 1n === perMain) {
      current += main;
      count = 0n;
    } else count++;
  }
  throw new Error('reference did not finish');
}
/** Math.round rounds .5 up; .NET rounds .5 to even: correct when x = n + 0.5 with n even. */
function isHalfOdd(x: number): boolean {
  return x - Math.floor(x) === 0.5 && Math.floor(x) % 2 === 0;
}

test('a time range selects first and last inclusively', () => {
  const f: TimeFilter = { kind: 'range', first: 10n, last: 20n };
  assert.deepEqual(
    [9n, 10n, 15n, 20n, 21n].map((t) => timeSelected(f, t)),
    [false, true, true, true, false],
  );
});

test('strided windows of 1 s / 0.3 s restart at each main interval (+1.0 s, not +0.9 s)', () => {
  const s = 10_000_000n; // ticks per second
  const f = windowFilter(0n, 10n * s, s, (3n * s) / 10n, 0n);
  const at = (x: number) => timeSelected(f, BigInt(Math.round(x * 1e7)));
  assert.deepEqual(
    [at(0), at(0.3), at(0.6), at(0.9), at(1.0), at(1.3), at(1.6), at(1.9)],
    [true, true, true, false, true, true, true, false],
  );
});

test('windows per main interval round half to even, as .NET Math.Round', () => {
  const two = windowFilter(0n, 100n, 5n, 2n, 0n); // 2.5 → 2
  assert.equal(two.kind === 'windows' && two.perMain, 2n);
  const four = windowFilter(0n, 100n, 7n, 2n, 0n); // 3.5 → 4
  assert.equal(four.kind === 'windows' && four.perMain, 4n);
});

test('strided windows select exactly what window-by-window enumeration selects', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 200n }),
      fc.bigInt({ min: 0n, max: 300n }),
      fc.bigInt({ min: 1n, max: 40n }),
      fc.bigInt({ min: 1n, max: 5n }),
      fc.bigInt({ min: 0n, max: 40n }),
      (first, span, sub, mult, tolRaw) => {
        const main = sub * mult + (mult > 1n ? tolRaw % sub : 0n);
        const tol = tolRaw % (sub + 1n);
        const last = first + span;
        const f = windowFilter(first, last, main, sub, tol);
        const { lo, hi } = tickBounds(f);
        for (let t = 0n; t <= last + main + 50n; t++) {
          const want = referenceSelected(first, last, main, sub, tol, t);
          assert.equal(
            timeSelected(f, t),
            want,
            `t=${t} first=${first} last=${last} main=${main} sub=${sub} tol=${tol}`,
          );
          if (want) assert.ok(t >= lo && t <= hi, `bounds miss ${t}`);
        }
      },
    ),
    { numRuns: 150 },
  );
});

test('window arguments SNAPdb refuses are a corrupt seek filter (14)', () => {
  for (const [first, last, main, sub, tol] of [
    [5n, 4n, 10n, 5n, 0n],
    [0n, 9n, 4n, 5n, 0n],
    [0n, 9n, 10n, 5n, 6n],
    [0n, 9n, 0n, 0n, 0n],
  ] as const) {
    assert.throws(
      () => windowFilter(first, last, main, sub, tol),
      (e: unknown) => e instanceof FilterError && e.response === Resp.unknownOrCorruptSeekFilter,
    );
  }
});

test('seek, match and reader-option payloads parse as the client writes them', () => {
  const w = new WireWriter()
    .guid(Guid.timestampSeekFilter)
    .u8(1)
    .u64(100n)
    .u64(200n)
    .guid(Guid.timestampSeekFilter)
    .u8(2)
    .u64(0n)
    .u64(10n)
    .u64(4n)
    .u64(2n)
    .u64(1n)
    .guid(Guid.pointIdMatchFilter)
    .u8(1)
    .u64(9n)
    .i32(2)
    .u32(9)
    .u32(3)
    .guid(Guid.pointIdMatchFilter)
    .u8(2)
    .u64((1n << 64n) - 1n)
    .i32(1)
    .u64((1n << 64n) - 1n)
    .u8(0)
    .u64(0n)
    .u64(7n)
    .u64(0n)
    .u64(0n);
  const r = new WireReader(w.take());
  assert.deepEqual(readSeekFilter(r), { kind: 'range', first: 100n, last: 200n });
  const win = readSeekFilter(r);
  assert.equal(win.kind, 'windows');
  assert.deepEqual(readMatchFilter(r), new Set([9n, 3n]));
  assert.deepEqual(readMatchFilter(r), new Set([(1n << 64n) - 1n]));
  assert.equal(readReaderOptions(r).maxReturned, 7n);
  assert.equal(r.available, 0);
});

test('unknown filter GUIDs and versions are refused with their response codes', () => {
  const bad = (w: WireWriter, read: (r: WireReader) => unknown, code: number) =>
    assert.throws(
      () => read(new WireReader(w.take())),
      (e: unknown) => e instanceof FilterError && e.response === code,
    );
  bad(new WireWriter().guid(Guid.pointIdMatchFilter).u8(1), readSeekFilter, Resp.unknownOrCorruptSeekFilter);
  bad(new WireWriter().guid(Guid.timestampSeekFilter).u8(3), readSeekFilter, Resp.unknownOrCorruptSeekFilter);
  bad(new WireWriter().guid(Guid.timestampSeekFilter).u8(1), readMatchFilter, Resp.unknownOrCorruptMatchFilter);
  bad(
    new WireWriter().guid(Guid.pointIdMatchFilter).u8(1).u64(1n).i32(-1),
    readMatchFilter,
    Resp.unknownOrCorruptMatchFilter,
  );
  bad(new WireWriter().u8(1), readReaderOptions, Resp.unknownOrCorruptReaderOptions);
});

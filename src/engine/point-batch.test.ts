import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ReferenceStream, type RefPoint } from '../../test/model/reference-stream.ts';
import { MERGE_POLICIES, type MergePolicy } from '../core/types.ts';
import { deleteRange, isSorted, mergePoints, type PointBatch, sortStable } from './point-batch.ts';

const toBatch = (pts: readonly RefPoint[]): PointBatch => ({
  times: BigInt64Array.from(pts.map((p) => p.t)),
  values: Float64Array.from(pts.map((p) => p.v)),
});
const toPoints = (b: PointBatch): RefPoint[] => Array.from(b.times, (t, i) => ({ t, v: b.values[i]! }));

const arbPoints = fc.array(
  fc.record({ t: fc.bigInt({ min: 0n, max: 20n }), v: fc.constantFrom(1, 2, 3, -0, 0, 2.5) }),
  { maxLength: 40 },
);

describe('point batches', () => {
  it('stable sort keeps arrival order within equal times', () => {
    const b = sortStable(
      toBatch([
        { t: 5n, v: 1 },
        { t: 3n, v: 2 },
        { t: 5n, v: 3 },
        { t: 3n, v: 4 },
      ]),
    );
    assert.deepEqual(toPoints(b), [
      { t: 3n, v: 2 },
      { t: 3n, v: 4 },
      { t: 5n, v: 1 },
      { t: 5n, v: 3 },
    ]);
    assert.ok(isSorted(b.times));
  });

  it('merge policies resolve duplicates like the reference model, for every policy', () => {
    fc.assert(
      fc.property(arbPoints, arbPoints, fc.constantFrom(...MERGE_POLICIES), (stored, incoming, policy: MergePolicy) => {
        const model = new ReferenceStream();
        model.insert(stored, 'never');
        const base = sortStable(toBatch(stored));
        model.insert(incoming, policy);
        const got = mergePoints(base, sortStable(toBatch(incoming)), policy);
        assert.deepEqual(toPoints(got), model.all());
      }),
      { numRuns: 2000 },
    );
  });

  it('the guide example: one batch with time 110 twice keeps 2, 2, 1, 1 points', () => {
    const batch = sortStable(
      toBatch([
        { t: 110n, v: 2 },
        { t: 110n, v: 3 },
      ]),
    );
    const empty = toBatch([]);
    assert.equal(mergePoints(empty, batch, 'never').times.length, 2);
    assert.equal(mergePoints(empty, batch, 'equal').times.length, 2);
    assert.deepEqual(toPoints(mergePoints(empty, batch, 'retain')), [{ t: 110n, v: 2 }]);
    assert.deepEqual(toPoints(mergePoints(empty, batch, 'replace')), [{ t: 110n, v: 3 }]);
  });

  it('delete range removes exactly [start, end)', () => {
    fc.assert(
      fc.property(arbPoints, fc.bigInt({ min: 0n, max: 21n }), fc.bigInt({ min: 0n, max: 21n }), (pts, a, b) => {
        const [s, e] = a < b ? [a, b] : [b, a + 1n];
        const model = new ReferenceStream();
        model.insert(pts, 'never');
        model.deleteRange(s, e);
        assert.deepEqual(toPoints(deleteRange(sortStable(toBatch(pts)), s, e)), model.all());
      }),
    );
  });
});

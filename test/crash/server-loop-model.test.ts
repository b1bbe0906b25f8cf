import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PointBatch, StreamId } from '../../src/core/types.ts';
import {
  judgeMeta,
  judgeSlab,
  type Meta,
  type Slab,
  STEP,
  type StreamModel,
  slabPoints,
  slabStart,
  slabValue,
} from './server-loop-model.ts';

const ID = '00000000-0000-4000-8000-000000000001' as StreamId;
const slab = (over: Partial<Slab> = {}): Slab => ({
  k: 7,
  stream: ID,
  n: 5,
  state: { present: true, gen: 0 },
  pending: null,
  touched: true,
  ...over,
});
const none: PointBatch = { times: new BigInt64Array(0), values: new Float64Array(0) };
/** Slab 7's points of generation `gen`, with point `i` changed by `edit`. */
const edited = (gen: number, edit: (p: PointBatch) => PointBatch): PointBatch => edit(slabPoints(7, 5, gen));

test('an acknowledged slab read back whole and of its generation is right', () => {
  const v = judgeSlab(slab(), slabPoints(7, 5, 0));
  assert.deepEqual(v, { found: { present: true, gen: 0 }, lost: 0, duplicated: 0, problem: null });
});

test('missing points of an acknowledged slab are counted as lost', () => {
  const v = judgeSlab(
    slab(),
    edited(0, (p) => ({ times: p.times.subarray(0, 3), values: p.values.subarray(0, 3) })),
  );
  assert.equal(v.lost, 2);
  assert.equal(v.duplicated, 0);
  assert.match(v.problem ?? '', /half-made/);
  assert.equal(judgeSlab(slab(), none).lost, 5);
});

test('a point stored twice is counted as duplicated', () => {
  const p = slabPoints(7, 5, 0);
  const times = BigInt64Array.from([...p.times, p.times[4]!].sort((a, b) => (a < b ? -1 : 1)));
  const values = Float64Array.from([...p.values, p.values[4]!]);
  const v = judgeSlab(slab(), { times, values });
  assert.equal(v.duplicated, 1);
  assert.equal(v.lost, 0);
  assert.notEqual(v.problem, null);
});

test('a wrong value or a stale generation is a problem', () => {
  const wrong = edited(0, (p) => {
    p.values[2] = 1;
    return p;
  });
  assert.notEqual(judgeSlab(slab(), wrong).problem, null);
  // Generation 1 was acknowledged: generation 0 (the old replace) must not come back.
  assert.notEqual(judgeSlab(slab({ state: { present: true, gen: 1 } }), slabPoints(7, 5, 0)).problem, null);
});

test('a write in doubt may show the state before or after it, never a mix', () => {
  const doubt = slab({ state: { present: true, gen: 0 }, pending: { present: true, gen: 1 } });
  assert.deepEqual(judgeSlab(doubt, slabPoints(7, 5, 0)).found, { present: true, gen: 0 });
  assert.deepEqual(judgeSlab(doubt, slabPoints(7, 5, 1)).found, { present: true, gen: 1 });
  const mix = slabPoints(7, 5, 0);
  mix.values[4] = slabValue(7, 1, 4);
  assert.match(judgeSlab(doubt, mix).problem ?? '', /in doubt/);
  const insert = slab({ state: { present: false, gen: 0 }, pending: { present: true, gen: 0 } });
  assert.deepEqual(judgeSlab(insert, none).found, { present: false, gen: 0 });
  const half = slabPoints(7, 5, 0);
  assert.notEqual(
    judgeSlab(insert, { times: half.times.subarray(0, 2), values: half.values.subarray(0, 2) }).problem,
    null,
  );
});

test('a deleted slab must read empty', () => {
  const gone = slab({ state: { present: false, gen: 0 } });
  assert.equal(judgeSlab(gone, none).problem, null);
  const v = judgeSlab(gone, slabPoints(7, 5, 0));
  assert.equal(v.duplicated, 5);
});

test('slab points are 1 µs apart from the slab start with exact values', () => {
  const p = slabPoints(3, 4, 2);
  assert.equal(p.times[3], slabStart(3) + 3n * STEP);
  assert.equal(p.values[3], 3 * 65536 + 3 + 0.25);
});

const meta = (pv: number, unit = 'V'): Meta => ({
  collection: 'crash/w0',
  tags: { name: 's1', unit, ingress: '' },
  annotations: { writer: '0' },
  propertyVersion: pv,
});
const model = (over: Partial<StreamModel>): StreamModel => ({
  id: ID,
  meta: meta(1),
  pendingMeta: null,
  gone: false,
  slabs: [],
  touched: true,
  ...over,
});

test('acknowledged metadata must be found exactly; a change in doubt may or may not have landed', () => {
  assert.equal(judgeMeta(model({}), meta(1)).problem, null);
  assert.notEqual(judgeMeta(model({}), meta(2, 'kV')).problem, null);
  assert.notEqual(judgeMeta(model({}), null).problem, null, 'an acknowledged stream vanished');
  const changing = model({ pendingMeta: meta(2, 'kV') });
  assert.equal(judgeMeta(changing, meta(1)).problem, null);
  assert.equal(judgeMeta(changing, meta(2, 'kV')).problem, null);
  assert.notEqual(judgeMeta(changing, meta(2, 'V')).problem, null, 'version raised without the change');
});

test('a create in doubt leaves the stream absent or whole; once absent it stays absent', () => {
  const creating = model({ meta: null, pendingMeta: meta(1) });
  assert.equal(judgeMeta(creating, null).problem, null);
  assert.equal(judgeMeta(creating, meta(1)).problem, null);
  assert.notEqual(judgeMeta(creating, { ...meta(1), annotations: {} }).problem, null);
  assert.notEqual(judgeMeta(model({ meta: null, gone: true }), meta(1)).problem, null);
});

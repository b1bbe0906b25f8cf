import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamId } from '../core/types.ts';
import { parseStreamId } from '../core/uuid.ts';
import { assignment, ownerOf, shardOf, shardsOwnedBy, weightOf } from './placement.ts';

const id = (s: string): StreamId => parseStreamId(s);

// Golden values computed independently with Python:
//   int.from_bytes(hashlib.sha1(uuid.UUID(s).bytes).digest()[:4], 'big') % shards
//   int.from_bytes(hashlib.sha1(f"{shard}\n{member}".encode()).digest()[:8], 'big')
// They pin the layout of every cluster: if this test fails, existing data would be looked up
// in the wrong shard — do not "fix" the values.
test('shardOf gives the pinned golden shard for known stream ids', () => {
  const golden: [string, number, number][] = [
    ['00000000-0000-0000-0000-000000000000', 60, 6],
    ['11111111-2222-3333-4444-555555555555', 42, 0],
    ['7f9c2ba4-e88f-427d-a4c6-0e8b9f4f1a2b', 62, 4],
    ['ffffffff-ffff-ffff-ffff-ffffffffffff', 20, 1],
    ['D2B4F6A8-1C3E-4A5B-9C7D-E8F0A1B2C3D4', 56, 6],
  ];
  for (const [s, of64, of7] of golden) {
    assert.equal(shardOf(id(s), 64), of64, s);
    assert.equal(shardOf(id(s), 7), of7, s);
    assert.equal(shardOf(id(s), 1), 0, s);
  }
});

test('rendezvous weights and owners equal the pinned golden values', () => {
  assert.equal(weightOf(0, 'node-a'), 5884362757571423879n);
  assert.equal(weightOf(5, 'node-b'), 18408196911896231860n);
  assert.equal(weightOf(63, 'node-c'), 2155314961614426095n);
  assert.equal(weightOf(17, 'n1'), 3813272663060443953n);
  const owners = assignment(16, ['node-a', 'node-b', 'node-c']);
  assert.deepEqual(owners, [
    'node-c',
    'node-a',
    'node-b',
    'node-a',
    'node-a',
    'node-b',
    'node-c',
    'node-a',
    'node-c',
    'node-c',
    'node-a',
    'node-b',
    'node-a',
    'node-b',
    'node-c',
    'node-c',
  ]);
});

test('a bad shard count is refused with code 438', () => {
  for (const n of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => shardOf(id('11111111-2222-3333-4444-555555555555'), n),
      (e: unknown) => {
        return e instanceof Error && 'code' in e && e.code === 438;
      },
    );
  }
});

test('streams spread evenly over 64 shards', () => {
  const counts = new Array<number>(64).fill(0);
  const n = 64_000;
  for (let i = 0; i < n; i++) {
    const hex = i.toString(16).padStart(32, '0');
    const s = shardOf(id(hex), 64);
    counts[s] = counts[s]! + 1;
  }
  // Expected 1000 per shard, binomial sd ≈ 31; 6 sd either side.
  for (const c of counts) assert.ok(c > 810 && c < 1190, `uneven shard sizes: ${counts.join(',')}`);
});

test('the owner of a shard does not depend on the order of the member list', () => {
  const a = ['node-a', 'node-b', 'node-c', 'node-d'];
  const b = ['node-d', 'node-b', 'node-a', 'node-c', 'node-b'];
  assert.deepEqual(assignment(64, a), assignment(64, b));
  assert.equal(ownerOf(3, []), null);
  assert.deepEqual(assignment(2, []), [null, null]);
});

test('64 shards over 3 members give every member a fair share', () => {
  for (const members of [
    ['node-a', 'node-b', 'node-c'],
    ['n1', 'n2', 'n3'],
    ['10.0.0.1:7000', '10.0.0.2:7000', '10.0.0.3:7000'],
  ]) {
    const counts = members.map((m) => shardsOwnedBy(m, 64, members).length);
    assert.equal(
      counts.reduce((x, y) => x + y, 0),
      64,
    );
    // Expected 21.3 each (binomial sd ≈ 3.8).
    for (const c of counts) assert.ok(c >= 12 && c <= 31, `${members.join(',')}: ${counts.join(',')}`);
  }
  // Over many shards the shares converge to a third each.
  const members = ['node-a', 'node-b', 'node-c'];
  const big = members.map((m) => shardsOwnedBy(m, 30_000, members).length);
  for (const c of big) assert.ok(Math.abs(c - 10_000) < 500, big.join(','));
});

test('a member leaving moves only its own shards, and joining again moves them back', () => {
  const before = assignment(64, ['node-a', 'node-b', 'node-c']);
  const after = assignment(64, ['node-a', 'node-c']);
  for (let s = 0; s < 64; s++) {
    if (before[s] !== 'node-b') assert.equal(after[s], before[s], `shard ${s} moved though its owner stayed`);
    else assert.notEqual(after[s], 'node-b');
  }
  assert.deepEqual(assignment(64, ['node-c', 'node-b', 'node-a']), before);
});

test('a member joining takes only shards and leaves every other shard where it was', () => {
  const before = assignment(64, ['node-a', 'node-b', 'node-c']);
  const after = assignment(64, ['node-a', 'node-b', 'node-c', 'node-d']);
  let moved = 0;
  for (let s = 0; s < 64; s++) {
    if (after[s] !== before[s]) {
      assert.equal(after[s], 'node-d', `shard ${s} moved between old members`);
      moved++;
    }
  }
  // The newcomer takes about a quarter (16); it must take some and not most.
  assert.ok(moved >= 6 && moved <= 28, `moved ${moved}`);
});

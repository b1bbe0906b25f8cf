import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeTally, fuzzDecoder, hostileBytes, mutated } from '../../test/fuzz/fuzz.ts';
import { isDbError } from '../core/errors.ts';
import { mulberry32 } from '../core/random.ts';
import { decodeCoreNode, encodeCoreNode } from './core-node.ts';
import { type CoreNode, emptyCoreNode, FANOUT } from './types.ts';

const bits = (a: Float64Array): string[] =>
  Array.from(new BigUint64Array(a.buffer, a.byteOffset, a.length), (b) => b.toString(16));

/** Valid nodes: empty, one slot, full, mixed leaves, extreme starts and widths. */
function samples(): Uint8Array[] {
  const rnd = mulberry32(64);
  const out: Uint8Array[] = [];
  const shapes: [bigint, number, number][] = [
    [0n, 0, 0],
    [-(2n ** 62n), 56, 1],
    [1_704_067_200_000_000_000n, 24, 64],
    [2n ** 63n - 1n, 30, 17],
    [-(2n ** 63n), 10, 40],
  ];
  for (const [start, childPw, used] of shapes) {
    const node = emptyCoreNode(start, childPw);
    for (let i = 0; i < FANOUT; i++) {
      if (rnd() * FANOUT >= used) continue;
      node.addr[i] = Math.floor(rnd() * 2 ** 40);
      node.len[i] = Math.floor(rnd() * 2 ** 32);
      node.leaf[i] = rnd() < 0.5 ? 1 : 0;
      node.count[i] = Math.floor(rnd() * 2 ** 33);
      node.min[i] = -rnd() * 100;
      node.max[i] = rnd() * 100;
      node.mean[i] = rnd();
      node.m2[i] = rnd() * 1e9;
    }
    out.push(encodeCoreNode(node));
  }
  return out;
}

function reValidate(node: CoreNode): void {
  const again = decodeCoreNode(encodeCoreNode(node));
  assert.equal(again.start, node.start);
  assert.equal(again.childPw, node.childPw);
  assert.deepEqual(Array.from(again.len), Array.from(node.len));
  assert.deepEqual(Array.from(again.leaf), Array.from(node.leaf));
  for (const k of ['addr', 'count', 'min', 'max', 'mean', 'm2'] as const)
    assert.deepEqual(bits(again[k]), bits(node[k]));
}

const expected = (e: unknown): boolean => isDbError(e, 500) && /^core node: .* at byte \d+ of \d+$/s.test(e.message);

describe('core node decoder under fuzzing', () => {
  const valid = samples();

  it('accepts or rejects with DbError 500 any mutation of a valid node', (t) => {
    const tally = fuzzDecoder({
      name: 'core node mutations',
      inputs: mutated(valid, 5),
      decode: decodeCoreNode,
      expected,
      check: reValidate,
      runs: 4000,
    });
    t.diagnostic(describeTally(tally));
    assert.ok(tally.rejected > 0 && tally.decoded > 0);
  });

  it('accepts or rejects with DbError 500 random bytes behind a core header', (t) => {
    const tally = fuzzDecoder({
      name: 'core node random bytes',
      inputs: hostileBytes([Uint8Array.of(0x43, 1)], 600).map((b) => Uint8Array.of(0x43, 1, ...b)),
      decode: decodeCoreNode,
      expected,
      check: reValidate,
      runs: 2000,
    });
    t.diagnostic(describeTally(tally));
  });
});

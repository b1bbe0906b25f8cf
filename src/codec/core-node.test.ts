import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isDbError } from '../core/errors.ts';
import { CORE_HEADER_BYTES, CORE_SLOT_BYTES, decodeCoreNode, encodeCoreNode } from './core-node.ts';
import { type CoreNode, emptyCoreNode, FANOUT } from './types.ts';

function bits(a: Float64Array): string[] {
  return Array.from(new BigUint64Array(a.buffer, a.byteOffset, a.length), (b) => b.toString(16));
}

function assertSameNode(actual: CoreNode, expected: CoreNode): void {
  assert.equal(actual.start, expected.start);
  assert.equal(actual.childPw, expected.childPw);
  assert.deepEqual(Array.from(actual.len), Array.from(expected.len));
  assert.deepEqual(Array.from(actual.leaf), Array.from(expected.leaf));
  for (const k of ['addr', 'count', 'min', 'max', 'mean', 'm2'] as const)
    assert.deepEqual(bits(actual[k]), bits(expected[k]), k);
}

const arbFloat = fc.oneof(
  fc.double(),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((b) => new Float64Array(BigUint64Array.of(b).buffer)[0]!),
);

const arbSlot = fc.record({
  addr: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 40 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  len: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
  leaf: fc.constantFrom(0, 1),
  count: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 31 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  min: arbFloat,
  max: arbFloat,
  mean: arbFloat,
  m2: arbFloat,
});

const arbNode: fc.Arbitrary<CoreNode> = fc
  .tuple(
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.integer({ min: 0, max: 56 }),
    fc.array(fc.option(arbSlot, { freq: 2 }), { minLength: FANOUT, maxLength: FANOUT }),
  )
  .map(([start, childPw, slots]) => {
    const node = emptyCoreNode(start, childPw);
    slots.forEach((s, i) => {
      if (s === null) return;
      node.addr[i] = s.addr;
      node.len[i] = s.len;
      node.leaf[i] = s.leaf;
      node.count[i] = s.count;
      node.min[i] = s.min;
      node.max[i] = s.max;
      node.mean[i] = s.mean;
      node.m2[i] = s.m2;
    });
    return node;
  });

describe('core nodes', () => {
  it('round-trip random nodes bit-exactly', () => {
    fc.assert(
      fc.property(arbNode, (node) => {
        assertSameNode(decodeCoreNode(encodeCoreNode(node)), node);
      }),
      { numRuns: 500 },
    );
  });

  it('store only non-empty slots', () => {
    const node = emptyCoreNode(-(2n ** 60n), 38);
    assert.equal(encodeCoreNode(node).length, CORE_HEADER_BYTES);
    node.addr[5] = 2 ** 32 + 8;
    node.len[5] = 700;
    node.leaf[5] = 1;
    node.count[5] = 515;
    node.min[63] = -0; // −0 differs from +0 in its bits, so slot 63 is kept too
    const bytes = encodeCoreNode(node);
    assert.equal(bytes.length, CORE_HEADER_BYTES + 2 * CORE_SLOT_BYTES);
    assertSameNode(decodeCoreNode(bytes), node);
  });

  it('reject values that do not fit the format', () => {
    const bad: ((n: CoreNode) => CoreNode)[] = [
      (n) => ({ ...n, childPw: 57 }),
      (n) => ({ ...n, childPw: 1.5 }),
      (n) => ({ ...n, start: 2n ** 63n }),
      (n) => {
        n.addr[0] = 2 ** 53;
        return n;
      },
      (n) => {
        n.count[1] = 0.5;
        return n;
      },
      (n) => {
        n.count[1] = -1;
        return n;
      },
      (n) => {
        n.leaf[2] = 2;
        return n;
      },
    ];
    for (const f of bad)
      assert.throws(
        () => encodeCoreNode(f(emptyCoreNode(0n, 10))),
        (e) => isDbError(e, 421),
      );
  });

  it('reject every truncation and extension of a node', () => {
    const node = emptyCoreNode(1234n, 20);
    for (const i of [0, 17, 63]) {
      node.addr[i] = i + 1;
      node.count[i] = 10;
    }
    const bytes = encodeCoreNode(node);
    for (let len = 0; len < bytes.length; len++) {
      assert.throws(
        () => decodeCoreNode(bytes.subarray(0, len)),
        (e) => isDbError(e, 500),
        `length ${len}`,
      );
    }
    assert.throws(
      () => decodeCoreNode(Uint8Array.from([...bytes, 0])),
      (e) => isDbError(e, 500),
    );
  });

  it('survive random corruption with a DbError 500 or a node', () => {
    const node = emptyCoreNode(1234n, 20);
    for (let i = 0; i < FANOUT; i += 3) {
      node.addr[i] = i * 1000 + 1;
      node.count[i] = i;
      node.mean[i] = i / 3;
    }
    const good = encodeCoreNode(node);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (flips) => {
          const bad = good.slice();
          for (const [at, mask] of flips) bad[at % bad.length]! ^= mask;
          try {
            decodeCoreNode(bad);
          } catch (e) {
            if (!isDbError(e, 500)) throw e;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('name what is wrong with a corrupt node', () => {
    const good = encodeCoreNode(emptyCoreNode(0n, 10));
    const cases: [number, number, RegExp][] = [
      [0, 0x4c, /bad magic/],
      [1, 9, /unsupported format version 9/],
      [2, 60, /childPw 60 > 56/],
      [19, 1, /leaf flag set on an empty slot/],
      [11, 1, /does not match 1 slots/],
    ];
    for (const [at, value, message] of cases) {
      const bad = good.slice();
      bad[at] = value;
      assert.throws(
        () => decodeCoreNode(bad),
        (e) => isDbError(e, 500) && message.test(e.message),
        String(message),
      );
    }
    const big = emptyCoreNode(0n, 10);
    big.addr[0] = 1;
    const bytes = encodeCoreNode(big);
    bytes[CORE_HEADER_BYTES + 6] = 0x20; // addr ≥ 2^53
    assert.throws(
      () => decodeCoreNode(bytes),
      (e) => isDbError(e, 500) && /addr ≥ 2\^53/.test(e.message),
    );
  });
});

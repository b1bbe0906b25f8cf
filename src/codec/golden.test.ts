/**
 * Today's format, frozen: decodes the committed blocks in test/fixtures/format/ and compares them
 * with the JSON written beside them. A failure here means a change broke reading existing data —
 * fix the decoder (or add a new format version), never the fixtures.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { blockKind } from './block-header.ts';
import { decodeCoreNode } from './core-node.ts';
import { decodeLeaf, encodeLeaf } from './leaf-block.ts';
import { type CoreFixture, floatHex, hexFloat, type LeafFixture } from './make-fixtures.ts';
import { FANOUT } from './types.ts';

const DIR = new URL('../../test/fixtures/format/', import.meta.url);

const EXPECTED = [
  'core-v1-node',
  'leaf-v1-constant',
  'leaf-v1-empty',
  'leaf-v1-flags',
  'leaf-v1-pmu-like',
  'leaf-v1-runs',
  'leaf-v1-single',
  'leaf-v1-special-floats',
  'leaf-v1-special-floats-int',
  'leaf-v1-synthetic-515',
];

const read = (name: string): [Uint8Array, LeafFixture | CoreFixture] => [
  new Uint8Array(fs.readFileSync(new URL(`${name}.bin`, DIR))),
  JSON.parse(fs.readFileSync(new URL(`${name}.json`, DIR), 'utf8')) as LeafFixture | CoreFixture,
];

describe('golden format fixtures', () => {
  it('are all present', () => {
    const names = fs
      .readdirSync(DIR)
      .filter((f) => f.endsWith('.bin'))
      .map((f) => f.slice(0, -4))
      .sort();
    for (const name of EXPECTED) assert.ok(names.includes(name), `missing fixture ${name}`);
  });

  for (const name of EXPECTED) {
    it(`decode ${name} exactly as recorded`, () => {
      const [bytes, expected] = read(name);
      if (expected.kind === 'leaf') {
        assert.equal(blockKind(bytes), 'leaf');
        const cols = decodeLeaf(bytes);
        assert.deepEqual(Array.from(cols.times, String), expected.times);
        assert.deepEqual(Array.from(cols.values, floatHex), expected.values);
        assert.deepEqual(cols.flags === undefined ? undefined : Array.from(cols.flags), expected.flags);
        // Today's encoder must read back what it writes for the same content, too.
        const again = decodeLeaf(encodeLeaf(cols));
        assert.deepEqual(Array.from(again.values, floatHex), expected.values);
        return;
      }
      assert.equal(blockKind(bytes), 'core');
      const node = decodeCoreNode(bytes);
      assert.equal(String(node.start), expected.start);
      assert.equal(node.childPw, expected.childPw);
      const bySlot = new Map(expected.slots.map((s) => [s.index, s]));
      for (let i = 0; i < FANOUT; i++) {
        const s = bySlot.get(i);
        const got = {
          addr: node.addr[i],
          len: node.len[i],
          leaf: node.leaf[i],
          count: node.count[i],
          min: floatHex(node.min[i]!),
          max: floatHex(node.max[i]!),
          mean: floatHex(node.mean[i]!),
          m2: floatHex(node.m2[i]!),
        };
        const zero = floatHex(0);
        const want =
          s === undefined
            ? { addr: 0, len: 0, leaf: 0, count: 0, min: zero, max: zero, mean: zero, m2: zero }
            : { ...s };
        if (s !== undefined) delete (want as { index?: number }).index;
        assert.deepEqual(got, want, `slot ${i}`);
      }
    });
  }

  it('keep NaN payloads through the hex helpers', () => {
    assert.equal(floatHex(hexFloat('7ff0000000000001')), '7ff0000000000001');
    assert.equal(floatHex(hexFloat('fff8dead0000beef')), 'fff8dead0000beef');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { openMemoryBlockStore } from '../storage/index.ts';
import { TreeStore } from './tree-store.ts';

describe('TreeStore', () => {
  it('a block with a valid checksum that does not decode is corruption with its file and offset', async () => {
    const blocks = await openMemoryBlockStore();
    const ref = blocks.put(Uint8Array.of(0xff, 0xfe, 0xfd, 0xfc, 1, 2, 3, 4, 5));
    await blocks.sync();
    const tree = new TreeStore(blocks);
    const node = { ...ref, leaf: true, count: 3, min: 0, max: 0, mean: 0, m2: 0 };
    const located = (e: unknown) =>
      isDbError(e, 500) && e.location?.file === '/blocks/0000000001.seg' && e.location.offset === 16;
    await assert.rejects(tree.leaf(node), located);
    await assert.rejects(tree.leafMany([node]), located);
    await assert.rejects(tree.core({ ...node, leaf: false }), located);
    await blocks.close();
  });
});

/** The on-disk size of a version: every block its tree references. */
import { type NodeRef, slotRef } from './node-ref.ts';
import type { TreeStore } from './tree-store.ts';

/**
 * Bytes and blocks of the tree under `ref` (every node it references; blocks shared with other
 * versions are counted too). Reads core nodes only (through the cache), never leaves.
 */
export async function treeSize(store: TreeStore, ref: NodeRef | null): Promise<{ bytes: number; blocks: number }> {
  if (ref === null) return { bytes: 0, blocks: 0 };
  let bytes = ref.len;
  let blocks = 1;
  if (!ref.leaf) {
    const node = await store.core(ref);
    for (let i = 0; i < node.count.length; i++) {
      const child = slotRef(node, i);
      if (child === null) continue;
      const sub = await treeSize(store, child);
      bytes += sub.bytes;
      blocks += sub.blocks;
    }
  }
  return { bytes, blocks };
}

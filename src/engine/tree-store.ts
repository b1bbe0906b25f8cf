/**
 * Reads and writes tree nodes through a BlockStore, with caches of decoded nodes. Blocks are
 * immutable, so a cached decode never goes stale; the caches are keyed by address.
 */
import { decodeCoreNode, encodeCoreNode } from '../codec/core-node.ts';
import { decodeLeaf, encodeLeaf } from '../codec/leaf-block.ts';
import type { CoreNode, LeafColumns } from '../codec/types.ts';
import { corruption, DbError } from '../core/errors.ts';
import type { BlockStore } from '../storage/types.ts';
import { LruCache } from './lru-cache.ts';
import type { NodeRef } from './node-ref.ts';
import type { PointBatch } from './point-batch.ts';

export interface TreeStoreOptions {
  /** Bytes of decoded core nodes to keep (default 64 MiB). */
  readonly coreCacheBytes?: number;
  /** Bytes of decoded leaves to keep (default 256 MiB). */
  readonly leafCacheBytes?: number;
}

const CORE_NODE_BYTES = 64 * 8 * 8;

export class TreeStore {
  readonly cores: LruCache<CoreNode>;
  readonly leaves: LruCache<LeafColumns>;
  blocksWritten = 0;
  bytesWritten = 0;

  constructor(
    readonly blocks: BlockStore,
    opts: TreeStoreOptions = {},
  ) {
    this.cores = new LruCache(opts.coreCacheBytes ?? 64 * 1024 * 1024);
    this.leaves = new LruCache(opts.leafCacheBytes ?? 256 * 1024 * 1024);
  }

  async core(ref: NodeRef): Promise<CoreNode> {
    if (ref.leaf) throw new DbError(500, `expected a core node at address ${ref.addr}, found a leaf reference`);
    const hit = this.cores.get(ref.addr);
    if (hit) return hit;
    const node = this.decoded(ref, decodeCoreNode, await this.blocks.get(ref));
    this.cores.set(ref.addr, node, CORE_NODE_BYTES);
    return node;
  }

  async leaf(ref: NodeRef): Promise<LeafColumns> {
    const hit = this.leaves.get(ref.addr);
    if (hit) return hit;
    const cols = this.decoded(ref, decodeLeaf, await this.blocks.get(ref));
    this.leaves.set(ref.addr, cols, leafBytes(cols));
    return cols;
  }

  /** Decode many leaves, reading the uncached ones with one coalesced getMany. */
  async leafMany(refs: readonly NodeRef[]): Promise<LeafColumns[]> {
    const out: (LeafColumns | undefined)[] = refs.map((r) => this.leaves.get(r.addr));
    const missing: number[] = [];
    for (let i = 0; i < refs.length; i++) if (out[i] === undefined) missing.push(i);
    if (missing.length > 0) {
      const bytes = await this.blocks.getMany(missing.map((i) => refs[i]!));
      for (let k = 0; k < missing.length; k++) {
        const i = missing[k]!;
        const cols = this.decoded(refs[i]!, decodeLeaf, bytes[k]!);
        this.leaves.set(refs[i]!.addr, cols, leafBytes(cols));
        out[i] = cols;
      }
    }
    return out as LeafColumns[];
  }

  /**
   * Decode a block whose checksum held. A decoder's complaint (a block written wrong, or a ref
   * of the wrong kind) becomes a corruption error carrying the block's file and offset.
   */
  private decoded<T>(ref: { readonly addr: number }, decode: (b: Uint8Array) => T, bytes: Uint8Array): T {
    try {
      return decode(bytes);
    } catch (e) {
      if (e instanceof DbError && e.location) throw e;
      const id = Math.floor(ref.addr / 2 ** 32);
      const dir = 'dir' in this.blocks && typeof this.blocks.dir === 'string' ? this.blocks.dir : 'blocks';
      const file = `${dir}/${String(id).padStart(10, '0')}.seg`;
      throw corruption(
        file,
        ref.addr - id * 2 ** 32,
        `block does not decode: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  putLeaf(points: PointBatch): { addr: number; len: number } {
    const cols: LeafColumns = { times: points.times, values: points.values, flags: points.flags };
    const bytes = encodeLeaf(cols);
    const ref = this.blocks.put(bytes);
    this.blocksWritten++;
    this.bytesWritten += bytes.length;
    // Cache a private copy: the caller's arrays may be views into a larger batch.
    const copy: LeafColumns = {
      times: points.times.slice(),
      values: points.values.slice(),
      flags: points.flags?.slice(),
    };
    this.leaves.set(ref.addr, copy, leafBytes(copy));
    return ref;
  }

  putCore(node: CoreNode): { addr: number; len: number } {
    const bytes = encodeCoreNode(node);
    const ref = this.blocks.put(bytes);
    this.blocksWritten++;
    this.bytesWritten += bytes.length;
    this.cores.set(ref.addr, node, CORE_NODE_BYTES);
    return ref;
  }
}

const leafBytes = (c: LeafColumns): number => c.times.length * (c.flags ? 20 : 16) + 64;

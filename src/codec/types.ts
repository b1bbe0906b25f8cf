/**
 * The shapes the codec layer encodes. Pure data: no I/O. Byte layouts are specified in
 * docs/format/leaf-block.md and docs/format/core-node.md.
 */

/** The points of one leaf, sorted by time (ties keep insertion order). */
export interface LeafColumns {
  readonly times: BigInt64Array;
  readonly values: Float64Array;
  /** Optional per-point 32-bit quality flags (openHistorian); absent costs zero bytes. */
  readonly flags?: Uint32Array | undefined;
}

/** Number of children of a core node. */
export const FANOUT = 64;
/** log2(FANOUT). */
export const FANOUT_BITS = 6;

/**
 * A core node: 64 child slots covering [start, start + 64·2^childPw), child i covering
 * [start + i·2^childPw, start + (i+1)·2^childPw). Each slot's statistics summarise exactly the
 * points of that child subtree. A slot with count 0 is empty (addr 0, len 0).
 */
export interface CoreNode {
  /** Start time of the node, ns; a multiple of 2^(childPw+6) relative to MIN_TIME. */
  readonly start: bigint;
  /** log2 of each child's width in ns (0–56). */
  readonly childPw: number;
  /** Block address of each child (0 = empty slot). Length 64. */
  readonly addr: Float64Array;
  /** Record length in bytes of each child's block (as returned by BlockStore.put). Length 64. */
  readonly len: Uint32Array;
  /** 1 if the child is a leaf block, 0 if a core node. Length 64. */
  readonly leaf: Uint8Array;
  /** Point count, min, max, mean, M2 (sum of squared deviations) of each child. Length 64 each. */
  readonly count: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
}

/** A fresh core node with all 64 slots empty. */
export function emptyCoreNode(start: bigint, childPw: number): CoreNode {
  return {
    start,
    childPw,
    addr: new Float64Array(FANOUT),
    len: new Uint32Array(FANOUT),
    leaf: new Uint8Array(FANOUT),
    count: new Float64Array(FANOUT),
    min: new Float64Array(FANOUT),
    max: new Float64Array(FANOUT),
    mean: new Float64Array(FANOUT),
    m2: new Float64Array(FANOUT),
  };
}

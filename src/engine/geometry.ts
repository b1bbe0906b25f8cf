/**
 * The fixed time partition of every stream's tree (docs/format/tree.md).
 *
 * The root spans [MIN_TIME, MIN_TIME + 2^62) = [−2^60, 3·2^60). A core node of width 2^pw has 64
 * children of width 2^(pw−6), so node widths are 2^62, 2^56, 2^50, …, 2^8, 2^2 ns. Every node below
 * the root starts at a multiple of its own width (MIN_TIME is a multiple of 2^60), which is what
 * lets an aligned-window query use a node's statistics without looking inside it.
 *
 * The shape is canonical: a subtree is a leaf exactly when it holds ≤ LEAF_MAX points (or cannot
 * split further, at width 2^2 ns); otherwise it is a core node. So a tree's shape depends only on
 * its points, never on the order of the writes that made them.
 */
import { MIN_TIME } from '../core/time.ts';

export const ROOT_PW = 62;
export const FANOUT_BITS = 6;
export const FANOUT = 64;
/** The narrowest node: width 2^2 = 4 ns. A leaf this narrow may exceed LEAF_MAX. */
export const MIN_NODE_PW = 2;
/** The most points a leaf holds (unless it is MIN_NODE_PW wide). */
export const LEAF_MAX = 1024;

export const ROOT_START: bigint = MIN_TIME;

/** A node at pw ≤ 60 is aligned to its width; the root (pw 62) is not. */
export const isAligned = (pw: number): boolean => pw <= 60;

/** Index of the child slot holding time t in a core node starting at `start` with child width 2^childPw. */
export function slotOf(t: bigint, start: bigint, childPw: number): number {
  return Number((t - start) >> BigInt(childPw));
}

/** Start of child slot i. */
export function slotStart(start: bigint, childPw: number, i: number): bigint {
  return start + (BigInt(i) << BigInt(childPw));
}

/** Whether a node of width 2^pw holding `count` points must be a core node. */
export const mustSplit = (count: number, pw: number): boolean => count > LEAF_MAX && pw > MIN_NODE_PW;

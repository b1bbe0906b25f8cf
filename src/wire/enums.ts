/**
 * The protocol's enums as numeric constants (proto3 enums are open: a decoder may see any int32,
 * so message fields are typed `number`), with conversions to ArborDB's own names.
 */
import type { MergePolicy as CoreMergePolicy } from '../core/types.ts';

export const MergePolicy = { NEVER: 0, EQUAL: 1, RETAIN: 2, REPLACE: 3 } as const;
export type MergePolicyValue = (typeof MergePolicy)[keyof typeof MergePolicy];

/** GenerateCSVParams.QueryType (a nested enum in the proto). */
export const QueryType = { ALIGNED_WINDOWS_QUERY: 0, WINDOWS_QUERY: 1, RAW_QUERY: 2 } as const;
export type QueryTypeValue = (typeof QueryType)[keyof typeof QueryType];

export const SubscriptionUpdateOp = { ADD_UUIDS: 0, REMOVE_UUIDS: 1 } as const;
export type SubscriptionUpdateOpValue = (typeof SubscriptionUpdateOp)[keyof typeof SubscriptionUpdateOp];

const POLICY_NAMES: readonly CoreMergePolicy[] = ['never', 'equal', 'retain', 'replace'];

/** Wire MergePolicy → core name; `undefined` for a value this protocol version does not define. */
export function mergePolicyFromWire(v: number): CoreMergePolicy | undefined {
  return POLICY_NAMES[v];
}

export function mergePolicyToWire(p: CoreMergePolicy): MergePolicyValue {
  return POLICY_NAMES.indexOf(p) as MergePolicyValue;
}

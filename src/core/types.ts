/**
 * Branded scalar types shared by every layer. A brand is a compile-time tag only: at run time a
 * `Nanos` is a plain bigint, a `Version` a plain number. The brands stop a version being passed
 * where a time is expected, which unit-less int64s (Prometheus' weak spot) cannot.
 */

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Nanoseconds since 1970-01-01T00:00:00Z (UTC), as a bigint. */
export type Nanos = Brand<bigint, 'Nanos'>;

/**
 * A stream's data version (BTrDB `versionMajor`). 0 in a request means "latest"; stored versions
 * start at {@link FIRST_VERSION}. Fits in a double (≤ 2^53).
 */
export type Version = Brand<number, 'Version'>;

/** log2 of a window width in ns: windows are [t, t + 2^pw). Integer 0–63. */
export type PointWidth = Brand<number, 'PointWidth'>;

/** A stream's identity: an RFC 4122 UUID, lower-case and hyphenated. */
export type StreamId = Brand<string, 'StreamId'>;

/** How an insert treats a point whose timestamp is already stored (BTrDB `MergePolicy`). */
export type MergePolicy = 'never' | 'equal' | 'retain' | 'replace';

export const MERGE_POLICIES: readonly MergePolicy[] = ['never', 'equal', 'retain', 'replace'];

/** Version 0 in a request: read the latest data, including acknowledged but unflushed points. */
export const LATEST = 0 as Version;

/** The version of a newly created, empty stream (BTrDB v4 numbering, kept for familiarity). */
export const FIRST_VERSION = 10 as Version;

export const asNanos = (t: bigint): Nanos => t as Nanos;
export const asVersion = (v: number): Version => v as Version;
export const asPointWidth = (pw: number): PointWidth => pw as PointWidth;

/** Points as columns: times (ns, ascending unless stated) and values; optional 32-bit quality flags. */
export interface PointBatch {
  readonly times: BigInt64Array;
  readonly values: Float64Array;
  readonly flags?: Uint32Array | undefined;
}

/**
 * A stream's metadata as BTrDB describes it. `tags` always holds `name`, `unit` and `ingress`
 * ('' when unset) and `distiller` when set; `annotations` are free key → string.
 */
export interface StreamDescriptor {
  readonly id: StreamId;
  readonly collection: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** 1 after create, raised by every metadata change. */
  readonly propertyVersion: number;
}

/**
 * The object-store seam of cluster mode (docs/cluster.md): immutable, never-overwritten objects
 * under string keys. The S3 implementation (any S3-compatible store: Ceph RGW, MinIO, AWS) and an
 * in-memory one for tests have the same semantics, checked by one contract suite.
 *
 * Every call has a deadline; a call that fails or times out throws `DbError` (code 500 for a
 * store that answers wrongly, 434 for one that does not answer in time) naming the key.
 */

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
}

export interface ObjectStore {
  /**
   * Create-only write (`If-None-Match: *`): resolves `true` when the object was created, `false`
   * when an object with this key already exists (it is left untouched). Never overwrites.
   */
  create(key: string, body: Uint8Array): Promise<boolean>;
  /** The whole object, or bytes [offset, offset + length). `null` when no such object exists. */
  get(key: string, range?: { readonly offset: number; readonly length: number }): Promise<Uint8Array | null>;
  /** Every object whose key starts with `prefix`, in ascending key (byte) order. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Delete objects; keys that do not exist are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  /** Where the objects live, for messages (`s3://bucket/prefix`, `memory`). */
  readonly location: string;
  close(): Promise<void>;
}

/**
 * Messages between the catalog (main thread) and the SQL sandbox worker. The main side sends one
 * request at a time and waits for its reply, so no request ids are needed.
 *
 * Replica rows travel as JSON text: an array of
 * `[uuid, collection, name, unit, ingress, distiller|null, property_version, annotations{}|null]`,
 * built by the main catalog with json_agg and unpacked by the replica with jsonb_array_elements.
 */

export interface SandboxWorkerData {
  /** A gzipped cluster tarball with the replica schema already hardened, or null to build one. */
  readonly template: Uint8Array | null;
}

export type ToSandbox =
  /** Replace the replica's rows (`full`) or delete `deleteIds` and upsert `rows`. */
  | { readonly type: 'apply'; readonly full: boolean; readonly deleteIds: readonly string[]; readonly rows: string }
  /** Run one user statement (already checked and wrapped). */
  | { readonly type: 'query'; readonly sql: string; readonly params: readonly string[]; readonly maxRows: number };

export type FromSandbox =
  /** Sent once, before `ready`, when the worker built the template itself. */
  | { readonly type: 'template'; readonly bytes: Uint8Array }
  | { readonly type: 'ready' }
  | { readonly type: 'applied' }
  /** One JSON object text per result row. */
  | { readonly type: 'rows'; readonly rows: readonly string[] }
  | { readonly type: 'error'; readonly message: string; readonly sqlstate: string | undefined };

/**
 * Messages between the catalog (main thread) and the SQL sandbox worker. The main side sends one
 * request at a time and waits for its reply, so no request ids are needed.
 *
 * Replica rows travel as Postgres CSV (`COPY … TO '/dev/blob'` in the catalog, `COPY … FROM
 * '/dev/blob'` in the replica), columns as in {@link REPLICA_COLUMNS}: native COPY on both sides is
 * the fastest way PGlite offers to move 100 000 rows (~0.3 s out, ~1.5 s in).
 */

/** Column order of the replica CSV, equal to the replica table's and the `streams` view's. */
export const REPLICA_COLUMNS = 'uuid, collection, name, unit, ingress, distiller, property_version, annotations';

export interface SandboxWorkerData {
  /** A gzipped cluster tarball to start from, or null to run initdb. */
  readonly template: Uint8Array | null;
  /**
   * True when `template` already holds the hardened replica schema (a tarball an earlier worker
   * sent back); false when it is the bare base template or null — the worker then creates the
   * schema and sends the result back as the next workers' template.
   */
  readonly hardened: boolean;
}

export type ToSandbox =
  /** Replace the replica's rows (`full`), or delete `deleteIds` and then add the rows in `csv`. */
  | { readonly type: 'apply'; readonly full: boolean; readonly deleteIds: readonly string[]; readonly csv: Uint8Array }
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

/** Narrowing for the errors PGlite throws (a DatabaseError with Postgres' fields). */

export interface PgErrorInfo {
  /** SQLSTATE, e.g. '23505' for a unique violation. */
  readonly sqlstate: string | undefined;
  /** The violated constraint or index, when there is one. */
  readonly constraint: string | undefined;
  /** Postgres' DETAIL line, e.g. `Key (uuid)=(…) already exists.` */
  readonly detail: string | undefined;
  readonly message: string;
}

function field(e: object, name: string): string | undefined {
  const v: unknown = Reflect.get(e, name);
  return typeof v === 'string' ? v : undefined;
}

export function pgErrorInfo(e: unknown): PgErrorInfo {
  if (typeof e === 'object' && e !== null) {
    return {
      sqlstate: field(e, 'code'),
      constraint: field(e, 'constraint'),
      detail: field(e, 'detail'),
      message: field(e, 'message') ?? String(e),
    };
  }
  return { sqlstate: undefined, constraint: undefined, detail: undefined, message: String(e) };
}

export const UNIQUE_VIOLATION = '23505';

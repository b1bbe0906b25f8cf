/**
 * Errors → BTrDB in-band status. A `DbError` keeps its code and message (the codes are BTrDB's, so
 * no table is needed). Anything else is a bug or an environment failure: it becomes 500
 * InvariantFailure with a short message, and the caller's `onInternalError` hook (if any) sees the
 * original error for logging.
 */
import { isDbError } from '../../core/errors.ts';
import type { Status } from '../../wire/index.ts';

/** Status for an error thrown while serving a request. */
export function statusOf(e: unknown): Status {
  if (isDbError(e)) return { code: e.code, msg: e.message };
  const what = e instanceof Error ? e.message : String(e);
  return { code: 500, msg: `internal error: ${what}` };
}

/** True when the error is not a DbError, i.e. worth logging as a server fault. */
export const isInternalError = (e: unknown): boolean => !isDbError(e);

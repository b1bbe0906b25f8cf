import { DbError } from '../core/errors.ts';
import { errnoOf } from './errno.ts';

/**
 * Turn an I/O failure into the DbError the layers above expect, naming the file and keeping the
 * cause: a full disk (ENOSPC, EDQUOT) is 426 ResourceDepleted; anything else is `code` (434
 * JournalError for record logs, 500 for block segments). A DbError passes through unchanged.
 */
export function ioFailure(code: 434 | 500, doing: string, file: string, cause: unknown): DbError {
  if (cause instanceof DbError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const errno = errnoOf(cause);
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return new DbError(426, `out of disk space while ${doing} ${file}: ${reason}`, { cause });
  }
  return new DbError(code, `${doing} ${file} failed: ${reason}`, { cause });
}

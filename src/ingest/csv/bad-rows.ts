/**
 * The rows of an input file that could not be imported, with the reason for each. Importers
 * validate a whole file before inserting anything, so they collect every problem instead of
 * stopping at the first: the first {@link BAD_ROW_LIMIT} are kept with their reasons, the rest
 * only counted. `toError()` turns them into one DbError for the user.
 */
import { DbError, type ErrorCode } from '../../core/errors.ts';

/** How many bad rows are kept with their reason (the rest are only counted). */
export const BAD_ROW_LIMIT = 20;

export interface BadRow {
  /** Where: a 1-based line number for text files, a 1-based row number for Arrow. */
  readonly at: number;
  readonly reason: string;
  /** The error code this problem would have had as an insert: 413 time, 425 value, 438 shape. */
  readonly code: ErrorCode;
}

export class BadRows {
  readonly kept: BadRow[] = [];
  total = 0;
  readonly #codes = new Set<ErrorCode>();

  /** `what` names the position in messages: 'line' (text) or 'row' (Arrow). */
  constructor(
    readonly what: 'line' | 'row' = 'line',
    readonly limit = BAD_ROW_LIMIT,
  ) {}

  add(at: number, code: ErrorCode, reason: string): void {
    this.total++;
    this.#codes.add(code);
    if (this.kept.length < this.limit) this.kept.push({ at, reason, code });
  }

  get empty(): boolean {
    return this.total === 0;
  }

  /**
   * One DbError listing the kept rows and the total. Its code is the rows' common code (413 for
   * only bad times, 425 for only bad values), or 438 InvalidParameter when they differ.
   */
  toError(source: string): DbError {
    const code: ErrorCode = this.#codes.size === 1 ? [...this.#codes][0]! : 438;
    const lines = this.kept.map((r) => `  ${this.what} ${r.at}: ${r.reason}`);
    if (this.total > this.kept.length) {
      lines.push(`  … and ${this.total - this.kept.length} more (${this.total} bad ${this.what}s in all)`);
    }
    const n = this.total === 1 ? `1 bad ${this.what}` : `${this.total} bad ${this.what}s`;
    return new DbError(code, `${source}: ${n}, nothing was imported:\n${lines.join('\n')}`);
  }
}

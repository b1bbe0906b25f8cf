/**
 * The text-level parts of the SQL sandbox. These are NOT what makes user SQL safe — that is
 * Postgres itself: the wrapping below makes the user text a sub-select (so the grammar rejects DDL,
 * DML, utility statements and `SELECT … INTO`), the extended protocol rejects a second statement,
 * and the sandbox replica runs it as a role that may only read `streams`, in a READ ONLY
 * transaction, in a worker thread that is killed at the time limit (sql-sandbox.ts). The keyword
 * check here only gives a clear 441 message early, without a round trip.
 */
import { DbError } from '../core/errors.ts';
import { show } from './validate.ts';

export const MAX_SQL_CHARS = 64 * 1024;
export const MAX_SQL_PARAMS = 256;

const READ_KEYWORDS = new Set(['select', 'with', 'values', 'table']);

/** Skip whitespace and SQL comments (`-- …` to end of line, nested `/* … *\/`) from `i`. */
export function skipSpaceAndComments(text: string, i = 0): number {
  for (;;) {
    while (i < text.length && /\s/.test(text.charAt(i))) i++;
    if (text.startsWith('--', i)) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (text.startsWith('/*', i)) {
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (text.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      }
    } else return i;
  }
}

/** The first keyword of the statement, lower-cased ('' if it starts with something else). */
export function firstKeyword(text: string): string {
  const i = skipSpaceAndComments(text);
  if (text.charAt(i) === '(') return '(';
  const m = /^[A-Za-z_]+/.exec(text.slice(i, i + 64));
  return m ? m[0].toLowerCase() : '';
}

/**
 * Check the user's statement and params before they reach the sandbox; returns the statement with
 * trailing semicolons and whitespace removed (clients often end a query with `;`). 441 on anything
 * that cannot be a single read-only query.
 */
export function prepareUserSql(query: string, params: readonly string[]): string {
  if (typeof query !== 'string') throw new DbError(441, 'SQL rejected: the query is not a string');
  if (query.length > MAX_SQL_CHARS) {
    throw new DbError(441, `SQL rejected: the query is ${query.length} characters long, at most ${MAX_SQL_CHARS}`);
  }
  if (query.includes('\0')) throw new DbError(441, 'SQL rejected: the query contains NUL');
  if (params.length > MAX_SQL_PARAMS) {
    throw new DbError(441, `SQL rejected: ${params.length} parameters, at most ${MAX_SQL_PARAMS}`);
  }
  params.forEach((p, i) => {
    if (typeof p !== 'string') throw new DbError(441, `SQL rejected: parameter $${i + 1} is not a string`);
    if (p.includes('\0')) throw new DbError(441, `SQL rejected: parameter $${i + 1} contains NUL`);
  });
  const body = query.replace(/[\s;]+$/, '');
  const kw = firstKeyword(body);
  if (kw === '' && skipSpaceAndComments(body) >= body.length) throw new DbError(441, 'SQL rejected: empty query');
  if (kw !== '(' && !READ_KEYWORDS.has(kw)) {
    const what = kw === '' ? show(body.slice(skipSpaceAndComments(body)).slice(0, 20)) : kw.toUpperCase();
    throw new DbError(
      441,
      `SQL rejected: only a single read-only SELECT over the streams table is allowed, got ${what} statement`,
    );
  }
  return body;
}

/**
 * Wrap the user's statement as a sub-select whose rows come back as JSON text (Postgres' own
 * row_to_json, which turns hstore into a JSON object through hstore's json cast). One more row than
 * `maxRows` is fetched so that overflow can be reported. The newline before `)` keeps a trailing
 * `-- comment` in the user text from swallowing it.
 */
export function wrapUserSql(body: string, maxRows: number): string {
  return `select row_to_json(arbor_q.*)::text as j from (\n${body}\n) as arbor_q limit ${maxRows + 1}`;
}

/** The 441 for a user query Postgres rejected, with a hint for the common SQLSTATEs. */
export function userSqlRejection(message: string, sqlstate: string | undefined): DbError {
  const hint =
    sqlstate === '42601'
      ? ' (only a single read-only SELECT over the streams table is allowed)'
      : sqlstate === '42501'
        ? ' (user SQL may only read the streams table)'
        : '';
  return new DbError(441, `SQL rejected: ${message}${hint}`);
}

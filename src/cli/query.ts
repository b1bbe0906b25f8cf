/** `arbor query` — the read-only SQL over stream metadata. */
import type { Connection } from '../client/index.ts';
import { connectionOver } from '../client/index.ts';
import { openDatabase } from '../db/database.ts';
import { dataDir, has, parseArgs } from './args.ts';
import { renderTable } from './ls.ts';
import { UsageError } from './main.ts';

const HELP = `arbor query — SQL over stream metadata

Runs one read-only SELECT over the \`streams\` table (one row per live stream) and prints the
rows as a table, or as JSON with --json. $1, $2, ... in the query bind the extra arguments, as
text. Anything but a single SELECT over \`streams\`, or a query running past its time limit, is
rejected with 441 BadSQLValue.

Columns of \`streams\`: uuid, collection, name, unit, ingress, distiller, property_version,
annotations (hstore: read a value with annotations->'phase', the keys with skeys(annotations)).

Usage: arbor query 'SQL' [PARAM]... [--json] [--data DIR]

Examples:
  arbor query 'select collection, count(*) as n from streams group by collection order by 1'
  arbor query 'select uuid, name from streams where collection like $1' 'pmu/%'
  arbor query "select uuid from streams where annotations->'station' = \\$1" KTH01 --json
  arbor query 'select distinct(skeys(annotations)) as key from streams'
`;

/** A cell as text: strings as they are, null as empty, objects (hstore) as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Rows as a table with the union of their columns, in first-seen order. */
export function formatRows(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(0 rows)\n';
  const header: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!header.includes(k)) header.push(k);
  const body = rows.map((r) => header.map((k) => cellText(r[k]).replace(/\s*\n\s*/g, ' ')));
  return `${renderTable(header, body)}(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}

export function runQuery(conn: Connection, sql: string, params: readonly string[]): Promise<Record<string, unknown>[]> {
  return conn.query(sql, params);
}

export async function queryCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    data: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  const [sql, ...params] = p.positional;
  if (sql === undefined) throw new UsageError('give the SQL query as the first argument (see --help)');
  const db = await openDatabase(dataDir(p), { background: false });
  try {
    const rows = await runQuery(connectionOver(db), sql, params);
    const json = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
    process.stdout.write(has(p, 'json') ? `${JSON.stringify(rows, json, 2)}\n` : formatRows(rows));
  } finally {
    await db.close();
  }
}

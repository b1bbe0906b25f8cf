/**
 * A child process for pg-server-catalog.test.ts: one "node" of several that open the same
 * PostgreSQL catalog at the same moment (so they race on creating the schema), race to create one
 * stream, then race on setAnnotations with read-then-conditional-update rounds.
 *
 * argv: URL STREAM_ID ROUNDS NAME. Prints one JSON line: {created, wins: [property versions won]}.
 */
import { isDbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import { openPgServerCatalog } from './pg-server-catalog.ts';

const [url, id, roundsText, name] = process.argv.slice(2) as [string, StreamId, string, string];
const cat = await openPgServerCatalog(url, { maxConnections: 2 });
let created = false;
try {
  await cat.create({ id, collection: 'race/processes', tags: { name: 'shared' }, annotations: {} });
  created = true;
} catch (e) {
  if (!isDbError(e, 417)) throw e;
}
const wins: number[] = [];
for (let i = 0; i < Number(roundsText); i++) {
  const cur = await cat.get(id);
  if (cur === undefined) throw new Error(`stream ${id} vanished`);
  try {
    const m = await cat.setAnnotations(id, cur.propertyVersion, { writer: name }, []);
    wins.push(m.propertyVersion);
  } catch (e) {
    if (!isDbError(e, 423)) throw e;
  }
}
await cat.close();
process.stdout.write(`${JSON.stringify({ created, wins })}\n`);

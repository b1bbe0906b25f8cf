/** The conformance suite against the embedded backend (an in-memory Database). */
import { Connection } from '../../src/client/connection.ts';
import { openDatabase } from '../../src/db/database.ts';
import { runConformance } from './suite.ts';

runConformance('embedded (in-memory)', async () => {
  const conn = new Connection(await openDatabase(null));
  return { conn, close: () => conn.close() };
});

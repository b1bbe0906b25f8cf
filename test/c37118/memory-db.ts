/** An in-memory embedded database behind the client API, for the ingest tests (ingest may not import db). */
import { type Connection, open } from '../../src/index.ts';

export function openMemory(): Promise<Connection> {
  return open(null, { background: false });
}

/**
 * The `arbordb` package: one user API over two backends.
 *
 *   import { open } from 'arbordb';
 *   const db = await open('./data');            // embedded, in-process
 *   const remote = await connect({ endpoints: '127.0.0.1:4410', apiKey }); // a running `arbor serve`
 */
import { type Connection, connectionOver } from './client/index.ts';
import { type DatabaseOptions, openDatabase } from './db/database.ts';

export * from './client/index.ts';
export { formatIso, MAX_TIME, MIN_TIME, parseIso } from './core/time.ts';
export type { DatabaseOptions };

/** Open (creating if needed) an embedded database in `dir`; `null` keeps everything in memory. */
export async function open(dir: string | null, opts: DatabaseOptions = {}): Promise<Connection> {
  return connectionOver(await openDatabase(dir, opts));
}

export interface ConnectOptions {
  /** `host:port` of an `arbor serve` (or any BTrDB v5 server); default from BTRDB_ENDPOINTS or the profile. */
  readonly endpoints?: string;
  readonly apiKey?: string;
  /** A profile of ~/.predictivegrid/credentials.yaml (default $BTRDB_PROFILE or "default"). */
  readonly profile?: string;
}

/** Connect to a running server over the BTrDB v5 gRPC protocol; the same API as `open()`. */
export async function connect(opts: ConnectOptions = {}): Promise<Connection> {
  const { connectRemote } = await import('./client/remote-backend.ts');
  return connectionOver(await connectRemote(opts));
}

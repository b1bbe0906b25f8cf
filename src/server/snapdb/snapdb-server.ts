/**
 * `startSnapdbServer`: a TCP listener speaking the openHistorian SNAPdb protocol
 * (docs/protocols/snapdb.md) over a Database, so that the unmodified openhistorian Python client
 * can list instances, write points and read them back. The protocol has no authentication this
 * server can check (the client only offers "none"): bind it to loopback unless every host that can
 * reach the port may read and write the `snapdb/*` collections.
 */
import net from 'node:net';
import type { Database } from '../../db/database.ts';
import { InstanceStore } from './instance-store.ts';
import { SNAPDB_DEFAULT_PORT } from './protocol.ts';
import { SnapdbSession } from './snapdb-session.ts';

/** Default listen address of `arbor serve --snapdb` given without a value. */
export const DEFAULT_SNAPDB_ADDRESS = `127.0.0.1:${SNAPDB_DEFAULT_PORT}`;
/** The instance openHistorian installations use by default; always listed. */
export const DEFAULT_INSTANCE = 'PPA';

export interface SnapdbServerOptions {
  readonly database: Database;
  /** HOST:PORT; port 0 = any free port. */
  readonly address: string;
  /** Instances listed even when empty (default: PPA). */
  readonly instances?: readonly string[];
  readonly log?: (line: string) => void;
}

export interface SnapdbServer {
  /** The bound HOST:PORT. */
  readonly address: string;
  /** Open connections. */
  readonly connections: number;
  /** Stop accepting, insert what sessions have pending, close every connection. */
  close(): Promise<void>;
}

/**
 * Why `arbor serve` must not bind SNAPdb to this address, or null. The protocol carries no
 * credentials, so with API keys configured (`keysConfigured`) only a loopback address is allowed:
 * anything else would let every host that reaches it bypass the keys.
 */
export function snapdbBindProblem(address: string, keysConfigured: boolean): string | null {
  if (!keysConfigured) return null;
  const { host } = splitAddress(address);
  if (net.isIP(host) === 4 && host.startsWith('127.')) return null;
  if (host === '::1' || host === 'localhost') return null;
  return (
    `--snapdb ${address}: the SNAPdb protocol has no authentication, and this server requires API keys; ` +
    'bind it to a loopback address (e.g. --snapdb 127.0.0.1:38402) and reach it through an SSH tunnel or a proxy'
  );
}

export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(i + 1)) };
}

export async function startSnapdbServer(opts: SnapdbServerOptions): Promise<SnapdbServer> {
  const log = opts.log ?? (() => undefined);
  const store = new InstanceStore(opts.database, opts.instances ?? [DEFAULT_INSTANCE]);
  const sessions = new Set<SnapdbSession>();
  const server = net.createServer((socket) => {
    const s = new SnapdbSession(socket, { db: opts.database, store, log });
    sessions.add(s);
    void s.done.finally(() => sessions.delete(s));
  });
  const { host, port } = splitAddress(opts.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => log(`snapdb: listener error: ${e.message}`));
  const bound = server.address() as net.AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  let closing: Promise<void> | null = null;
  return {
    address: `${shownHost}:${bound.port}`,
    get connections() {
      return sessions.size;
    },
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...sessions].map((s) => s.shutdown()));
        await stopped;
      })();
      return closing;
    },
  };
}

/**
 * `startHttpServer(db, opts)`: serve the HTTP API and the web plotter on a node:http server.
 * `close()` stops accepting, ends live streams, lets running requests finish for `graceMs`, then
 * cuts what is left. The database stays open: its owner closes it.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Backend } from '../../db/backend.ts';
import { Database } from '../../db/database.ts';
import { createHttpApp, type HttpApp, type HttpAppOptions } from './app.ts';
import type { ServerStats } from './route.ts';
import { liveOf } from './routes-admin.ts';

export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:9000';

export interface HttpServerOptions extends HttpAppOptions {
  /** HOST:PORT to listen on (default 127.0.0.1:9000; port 0 = any free port). */
  readonly address?: string;
  /** How long `close()` lets running requests finish before cutting them (ms, default 5000). */
  readonly graceMs?: number;
}

export interface HttpServer {
  /** `host:port` actually listened on. */
  readonly address: string;
  /** `http://host:port` */
  readonly url: string;
  readonly app: HttpApp;
  close(): Promise<void>;
}

/** Split HOST:PORT (IPv6 as [::1]:PORT). */
export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !/^\d+$/.test(address.slice(i + 1)) || port > 65535) {
    throw new RangeError(`HTTP address must be HOST:PORT (e.g. 127.0.0.1:9000), got ${JSON.stringify(address)}`);
  }
  return { host, port };
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await directoryBytes(p);
    else if (e.isFile()) total += (await fs.promises.stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** Figures of an embedded Database for /metrics; the disk walk is cached for 10 s. */
export function databaseStats(db: Database): () => Promise<ServerStats> {
  let disk: { at: number; bytes: number } | null = null;
  return async () => {
    const dir = db.dir;
    if (dir !== null && (disk === null || Date.now() - disk.at > 10_000)) {
      disk = { at: Date.now(), bytes: await directoryBytes(dir) };
    }
    const [ids, collections] = await Promise.all([db.catalog.liveIds(), db.listCollections('')]);
    const health = db.engine.health();
    return {
      writes: { state: health.state, reason: health.reason, code: health.code },
      engine: { ...db.engine.stats() },
      streams: ids.length,
      collections: collections.length,
      diskBytes: dir === null ? null : (disk?.bytes ?? 0),
    };
  };
}

export async function startHttpServer(db: Backend, opts: HttpServerOptions = {}): Promise<HttpServer> {
  const { host, port } = splitAddress(opts.address ?? DEFAULT_HTTP_ADDRESS);
  const live = liveOf(db);
  const stats = opts.stats ?? (live instanceof Database ? databaseStats(live) : undefined);
  const app = createHttpApp(db, { ...opts, ...(stats ? { stats } : {}) });
  // Idle keep-alive connections stay open longer than clients keep theirs (undici: 4 s), so the
  // server never closes a connection a client is about to reuse (seen as ECONNRESET under load).
  const server = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 }, app.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  let closing: Promise<void> | null = null;
  return {
    address,
    url: `http://${address}`,
    app,
    close() {
      closing ??= new Promise<void>((resolve) => {
        app.shutdown();
        const timer = setTimeout(() => server.closeAllConnections(), opts.graceMs ?? 5000);
        // Connections become idle as their answers finish (live streams end at once): close them then.
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearTimeout(timer);
          clearInterval(idle);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

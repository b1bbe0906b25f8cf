/**
 * Start and stop a serving ArborDB from a ServeConfig: open the database (taking the data
 * directory's lock), start the gRPC server, and on `stop()` shut down gracefully — stop accepting,
 * let in-flight calls finish within the grace time, then flush and close the database.
 *
 * Startup failures an operator can fix are `ServeError`s with a one-line message (port taken,
 * data directory locked, TLS files unreadable); the CLI prints them and exits 1.
 */
import fs from 'node:fs';
import { isDbError } from '../../core/errors.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import { type GrpcServer, startGrpcServer, type TlsFiles } from '../grpc/grpc-server.ts';
import { type HttpServer, startHttpServer } from '../http/index.ts';
import type { ServeConfig } from './serve-config.ts';

export class ServeError extends Error {
  override get name(): string {
    return 'ServeError';
  }
}

export interface ServeIO {
  /** Normal output (the ready line). */
  readonly out: (line: string) => void;
  /** Warnings and logs. */
  readonly err: (line: string) => void;
  /** FaultInject "panic" (only with --enable-fault-inject): default kills the process at once. */
  readonly onFault?: (delayMs: number) => void;
}

export interface RunningServer {
  readonly grpc: GrpcServer;
  /** The HTTP API and web plotter. */
  readonly http: HttpServer;
  readonly database: Database;
  /** Graceful stop; resolves once the database is closed. Idempotent. */
  stop(): Promise<void>;
}

function readTls(cfg: ServeConfig): TlsFiles | undefined {
  if (cfg.tlsCert === null || cfg.tlsKey === null) return undefined;
  const read = (file: string, what: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new ServeError(`cannot read TLS ${what} ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  return { cert: read(cfg.tlsCert, 'certificate'), key: read(cfg.tlsKey, 'key') };
}

function portOf(address: string): string {
  return address.slice(address.lastIndexOf(':') + 1);
}

/** The loud warning of an open server. */
export function openServerWarning(address: string): string[] {
  const bar = '!'.repeat(78);
  return [
    bar,
    `WARNING: no API key is configured: the server on ${address} is OPEN.`,
    'Anyone who can reach it can read, write, delete and obliterate every stream.',
    'Give keys with --api-key KEY, --api-keys-file FILE or ARBOR_API_KEYS=k1,k2.',
    bar,
  ];
}

export async function runServer(cfg: ServeConfig, io: ServeIO): Promise<RunningServer> {
  const tls = readTls(cfg);
  let database: Database;
  try {
    database = await openDatabase(cfg.data);
  } catch (e) {
    if (isDbError(e, 453)) throw new ServeError(e.message);
    throw e;
  }
  let grpc: GrpcServer;
  try {
    grpc = await startGrpcServer({
      backend: database,
      address: cfg.grpc,
      apiKeys: cfg.apiKeys,
      ...(tls === undefined ? {} : { tls }),
      service: {
        enableFaultInject: cfg.enableFaultInject,
        onFault: (_kind, delayMs) => (io.onFault ?? defaultFault)(delayMs),
      },
      log: (line) => io.err(`arbor serve: ${line}`),
    });
  } catch (e) {
    await database.close().catch(() => undefined);
    const msg = e instanceof Error ? e.message : String(e);
    if (/EADDRINUSE/.test(msg)) throw new ServeError(`cannot listen on ${cfg.grpc}: the address is already in use`);
    if (/EADDRNOTAVAIL|ENOTFOUND|EACCES/.test(msg)) throw new ServeError(`cannot listen on ${cfg.grpc}: ${msg}`);
    throw e;
  }
  let http: HttpServer;
  try {
    http = await startHttpServer(database, {
      address: cfg.http,
      apiKeys: cfg.apiKeys,
      log: (line) => io.err(`arbor serve: ${line}`),
    });
  } catch (e) {
    await grpc.close(0).catch(() => undefined);
    await database.close().catch(() => undefined);
    const msg = e instanceof Error ? e.message : String(e);
    if (/EADDRINUSE/.test(msg)) throw new ServeError(`cannot listen on ${cfg.http}: the address is already in use`);
    throw e;
  }
  if (cfg.apiKeys.length === 0) for (const line of openServerWarning(grpc.address)) io.err(line);
  const port = portOf(grpc.address);
  if (tls === undefined && port === '4411') {
    io.err(
      'arbor serve: note: btrdb-python uses TLS on port 4411; this server is plaintext (give --tls-cert/--tls-key)',
    );
  }
  if (tls !== undefined && port !== '4411') {
    io.err(`arbor serve: note: btrdb-python uses TLS only on port 4411; it will talk plaintext to port ${port}`);
  }
  let stopping: Promise<void> | null = null;
  return {
    grpc,
    http,
    database,
    stop() {
      stopping ??= (async () => {
        await http.close();
        const clean = await grpc.close(cfg.graceMs);
        if (!clean) io.err(`arbor serve: calls still running after ${cfg.graceMs} ms were cut`);
        await database.close();
      })();
      return stopping;
    },
  };
}

function defaultFault(delayMs: number): void {
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), delayMs);
}

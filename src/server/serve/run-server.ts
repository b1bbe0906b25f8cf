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
import { AttachedBackend } from '../../db/attached-backend.ts';
import { applyDataRetention } from '../../db/data-retention.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import type { CompactionReport } from '../../engine/compaction.ts';
import { type GrpcServer, startGrpcServer, type TlsFiles } from '../grpc/grpc-server.ts';
import { type HttpServer, startHttpServer } from '../http/index.ts';
import { ApiKeyAuth } from '../service/auth.ts';
import { KeysFileError, readKeyEntries } from '../service/keys-file.ts';
import { RpcMetrics } from '../service/rpc-metrics.ts';
import { type SnapdbServer, snapdbBindProblem, startSnapdbServer } from '../snapdb/snapdb-server.ts';
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
  /** The database (null for a cluster node: its shards come and go, src/cluster). */
  readonly database: Database | null;
  /** The openHistorian SNAPdb listener (`--snapdb`), or null when off. */
  readonly snapdb: SnapdbServer | null;
  /** The authenticator shared by gRPC and HTTP (keys file watched; `reload()` on SIGHUP). */
  readonly auth: ApiKeyAuth;
  /** Graceful stop; resolves once the database is closed. Idempotent. */
  stop(): Promise<void>;
}

export function readTls(cfg: ServeConfig): TlsFiles | undefined {
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
    'Create keys with `arbor keys add --data DIR --role read|write|admin` (or --keys-file FILE),',
    'or give plain keys with --api-key KEY, --api-keys-file FILE or ARBOR_API_KEYS=k1,k2.',
    bar,
  ];
}

/** The authenticator of a config: plain keys (admin) and the keys file, checked readable now. */
export function makeAuth(cfg: ServeConfig, io: ServeIO): ApiKeyAuth {
  if (cfg.keysFile !== null) {
    try {
      readKeyEntries(cfg.keysFile);
    } catch (e) {
      const why = e instanceof KeysFileError ? e.message : e instanceof Error ? e.message : String(e);
      throw new ServeError(`keys file ${cfg.keysFile}: ${why}`);
    }
  }
  return new ApiKeyAuth(cfg.apiKeys, { keysFile: cfg.keysFile, log: (line) => io.err(`arbor serve: ${line}`) });
}

/** How long a server keeps segments a compaction emptied, for the reads that began before it. */
const SERVER_RETIRE_SEGMENTS_MS = 60_000;

export async function runServer(cfg: ServeConfig, io: ServeIO): Promise<RunningServer> {
  const tls = readTls(cfg);
  let database: Database;
  try {
    database = await openDatabase(cfg.data, {
      // Reads in flight (a long raw read streaming to a slow client) keep the segments they resolved
      // for a minute after a compaction empties them (Engine option retireSegmentsMs).
      retireSegmentsMs: SERVER_RETIRE_SEGMENTS_MS,
      ...(cfg.keepVersions === null ? {} : { retention: { keepVersions: cfg.keepVersions } }),
    });
  } catch (e) {
    if (isDbError(e, 453)) throw new ServeError(e.message);
    throw e;
  }
  // gRPC and HTTP serve the live database plus the attached archives (read-only).
  const served = new AttachedBackend(database);
  let auth: ApiKeyAuth;
  try {
    for (const dir of cfg.attach) {
      const a = await served.attach(dir).catch((e: unknown) => {
        throw new ServeError(`--attach ${dir}: ${e instanceof Error ? e.message : String(e)}`);
      });
      io.err(
        `arbor serve: attached archive ${a.name} (${a.dir}): ${a.streams} streams` +
          (a.shadowed.length > 0 ? `, ${a.shadowed.length} not served (their uuids exist live)` : ''),
      );
    }
    auth = makeAuth(cfg, io); // after the open: the data folder exists, so it can be watched
  } catch (e) {
    await served.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw e;
  }
  // One registry of gRPC calls: counted by the gRPC server, rendered on the HTTP server's /metrics.
  const grpcMetrics = new RpcMetrics();
  let grpc: GrpcServer;
  try {
    grpc = await startGrpcServer({
      backend: served,
      metrics: grpcMetrics,
      address: cfg.grpc,
      auth,
      maxReceiveBytes: cfg.maxMessageBytes,
      maxConcurrentStreams: cfg.maxConcurrentStreams,
      ...(tls === undefined ? {} : { tls }),
      service: {
        enableFaultInject: cfg.enableFaultInject,
        onFault: (_kind, delayMs) => (io.onFault ?? defaultFault)(delayMs),
      },
      log: (line) => io.err(`arbor serve: ${line}`),
    });
  } catch (e) {
    auth.close();
    await served.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    const msg = e instanceof Error ? e.message : String(e);
    if (/EADDRINUSE/.test(msg)) throw new ServeError(`cannot listen on ${cfg.grpc}: the address is already in use`);
    if (/EADDRNOTAVAIL|ENOTFOUND|EACCES/.test(msg)) throw new ServeError(`cannot listen on ${cfg.grpc}: ${msg}`);
    throw e;
  }
  let http: HttpServer;
  try {
    http = await startHttpServer(served, {
      address: cfg.http,
      auth,
      maxBodyBytes: cfg.maxBodyBytes,
      grpcMetrics,
      log: (line) => io.err(`arbor serve: ${line}`),
    });
  } catch (e) {
    await grpc.close(0).catch(() => undefined);
    auth.close();
    await served.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    const msg = e instanceof Error ? e.message : String(e);
    if (/EADDRINUSE/.test(msg)) throw new ServeError(`cannot listen on ${cfg.http}: the address is already in use`);
    throw e;
  }
  let snapdb: SnapdbServer | null = null;
  if (cfg.snapdb !== null) {
    const problem = snapdbBindProblem(cfg.snapdb, !auth.open);
    try {
      if (problem !== null) throw new ServeError(problem);
      snapdb = await startSnapdbServer({
        database,
        address: cfg.snapdb,
        log: (line) => io.err(`arbor serve: ${line}`),
      });
    } catch (e) {
      await http.close().catch(() => undefined);
      await grpc.close(0).catch(() => undefined);
      auth.close();
      await served.close().catch(() => undefined);
      await database.close().catch(() => undefined);
      if (e instanceof ServeError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      if (/EADDRINUSE/.test(msg)) throw new ServeError(`cannot listen on ${cfg.snapdb}: the address is already in use`);
      throw new ServeError(`cannot listen on ${cfg.snapdb}: ${msg}`);
    }
  }
  if (auth.open) for (const line of openServerWarning(grpc.address)) io.err(line);
  const port = portOf(grpc.address);
  if (tls === undefined && port === '4411') {
    io.err(
      'arbor serve: note: btrdb-python uses TLS on port 4411; this server is plaintext (give --tls-cert/--tls-key)',
    );
  }
  if (tls !== undefined && port !== '4411') {
    io.err(`arbor serve: note: btrdb-python uses TLS only on port 4411; it will talk plaintext to port ${port}`);
  }
  const compaction = startCompaction(database, cfg, io);
  let stopping: Promise<void> | null = null;
  return {
    grpc,
    http,
    database,
    snapdb,
    auth,
    stop() {
      stopping ??= (async () => {
        await snapdb?.close();
        await http.close();
        const clean = await grpc.close(cfg.graceMs);
        if (!clean) io.err(`arbor serve: calls still running after ${cfg.graceMs} ms were cut`);
        await compaction.stop();
        auth.close();
        await served.close();
        await database.close();
      })();
      return stopping;
    },
  };
}

/**
 * Compact every `everyMs` ms (0 = never), one run at a time, logging the start and the outcome so
 * that an operator (and the crash loop) can see when it runs. `stop()` waits for a running one.
 */
function startCompaction(database: Database, cfg: ServeConfig, io: ServeIO): { stop(): Promise<void> } {
  const everyMs = cfg.compactEveryMs;
  if (everyMs <= 0) return { stop: async () => undefined };
  const policy = cfg.keepVersions === null ? {} : { keepVersions: cfg.keepVersions };
  // Data retention first (it compacts when it dropped something), else a plain compaction.
  const run = async (): Promise<CompactionReport> => {
    if (cfg.retain.length === 0) return database.compact();
    const r = await applyDataRetention(database, cfg.retain, BigInt(Date.now()) * 1_000_000n, policy);
    for (const x of r.rules) {
      if (x.cutoff !== null) {
        io.err(
          `arbor serve: retention ${x.collection}: dropped ${x.pointsDropped} points before ${new Date(Number(x.cutoff / 1_000_000n)).toISOString()}`,
        );
      }
    }
    return r.compaction ?? database.compact();
  };
  let running: Promise<void> | null = null;
  // A compaction walks every retained tree; on a large database that takes a while. After one
  // that took T ms the next waits at least 3·T, so compaction takes at most a quarter of the time.
  let notBefore = 0;
  const timer = setInterval(() => {
    if (running || Date.now() < notBefore) return;
    io.err('arbor serve: compaction started');
    const started = Date.now();
    running = run().then(
      (r) =>
        io.err(
          `arbor serve: compaction done: ${r.segmentsReclaimed} of ${r.segmentsBefore} segments reclaimed, ` +
            `${r.blocksMoved} blocks moved, ${r.bytesBefore} → ${r.bytesAfter} bytes`,
        ),
      (e: unknown) => io.err(`arbor serve: compaction failed: ${e instanceof Error ? e.message : String(e)}`),
    );
    void running.finally(() => {
      running = null;
      notBefore = Date.now() + 3 * (Date.now() - started);
    });
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

function defaultFault(delayMs: number): void {
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), delayMs);
}

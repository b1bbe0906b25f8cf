/**
 * The BTrDB v5 gRPC server: grpc-js with the wire layer's recommended options and raised HTTP/2
 * windows, all 26 RPCs wired to the service over a Backend, plaintext or TLS.
 *
 * Shutdown (`close`): stop accepting calls, end Subscribe streams, let in-flight calls finish
 * (tryShutdown) for up to `graceMs`, then cut the rest (forceShutdown). The Backend is not closed
 * here: its owner (the CLI) flushes and closes it afterwards.
 */

import { setMaxListeners } from 'node:events';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Backend } from '../../db/backend.ts';
import {
  createBTrDBServiceDefinition,
  RECOMMENDED_SERVER_OPTIONS,
  type RpcName,
  raiseServerFlowControlWindow,
} from '../../wire/index.ts';
import { ApiKeyAuth } from '../service/auth.ts';
import type { ServiceOptions } from '../service/context.ts';
import { RpcMetrics } from '../service/rpc-metrics.ts';
import { createBTrDBService } from '../service/service.ts';
import { createGrpcHandlers } from './handlers.ts';
import { DEFAULT_MAX_INFLIGHT_INSERT_BYTES, InsertBudget } from './insert-budget.ts';

/** Most points accepted in one Insert message: 20× btrdb-python's 50,000-point batches. */
export const MAX_INSERT_POINTS = 1_000_000;

/** Largest request message accepted (bytes): RESOURCE_EXHAUSTED past it. */
export const DEFAULT_MAX_RECEIVE_BYTES = 64 << 20;

/**
 * Calls one client connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). A
 * well-behaved client (grpc-js, grpcio) queues further calls until one ends; a client that opens
 * more anyway has them refused (REFUSED_STREAM → UNAVAILABLE).
 */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1024;

export interface TlsFiles {
  /** PEM certificate chain. */
  readonly cert: Buffer;
  /** PEM private key. */
  readonly key: Buffer;
}

export interface GrpcServerOptions {
  readonly backend: Backend;
  /** `host:port`; port 0 picks a free port (see `port` on the result). */
  readonly address: string;
  /** Accepted plain API keys (role admin); none (and no `auth`) = an open server. */
  readonly apiKeys?: readonly string[];
  /** The authenticator to use (keys file with roles, shared with HTTP); replaces `apiKeys`. */
  readonly auth?: ApiKeyAuth;
  /** Largest request message in bytes (default 64 MiB). */
  readonly maxReceiveBytes?: number;
  /** Concurrent calls per client connection (default 1024). */
  readonly maxConcurrentStreams?: number;
  readonly tls?: TlsFiles;
  readonly service?: ServiceOptions;
  readonly maxInsertPoints?: number;
  /** Bytes of Insert/ArrowInsert requests in flight before new ones get RESOURCE_EXHAUSTED (default 64 MiB). */
  readonly maxInflightInsertBytes?: number;
  /** Log hook for undecodable requests and internal errors. */
  readonly log?: (message: string) => void;
  /** Where calls are counted by RPC and outcome (share it with the HTTP server's /metrics). Default: a new one. */
  readonly metrics?: RpcMetrics;
}

export interface GrpcServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** `host:port` as bound. */
  readonly address: string;
  /** Calls in flight now. */
  readonly activeCalls: number;
  /** The in-flight insert budget (bytes held now, refusals so far). */
  readonly insertBudget: InsertBudget;
  /** Calls by RPC and outcome, with latencies (requests grpc-js refuses before a handler runs are not in it). */
  readonly metrics: RpcMetrics;
  /** Graceful stop; resolves with true when every call finished within `graceMs`. */
  close(graceMs?: number): Promise<boolean>;
}

function hostOf(address: string): string {
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServer> {
  const log = opts.log ?? (() => undefined);
  const shutdown = new AbortController();
  // Every call in flight listens for shutdown: no MaxListenersExceededWarning past 10 calls.
  setMaxListeners(0, shutdown.signal);
  let active = 0;
  const server = new Server({
    ...RECOMMENDED_SERVER_OPTIONS,
    'grpc.max_receive_message_length': opts.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
    'grpc.max_concurrent_streams': opts.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
  });
  raiseServerFlowControlWindow(server);
  const definition = createBTrDBServiceDefinition({
    maxInsertPoints: opts.maxInsertPoints ?? MAX_INSERT_POINTS,
    onDecodeError: (rpc: RpcName, e: unknown) =>
      log(`${rpc}: undecodable request: ${e instanceof Error ? e.message : String(e)}`),
  });
  const onInternal = (rpc: string, e: unknown) =>
    log(`${rpc}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  let advertised: readonly string[] = [];
  const service = createBTrDBService(opts.backend, {
    onInternalError: onInternal,
    proxyEndpoints: () => advertised,
    ...opts.service,
  });
  const insertBudget = new InsertBudget(opts.maxInflightInsertBytes ?? DEFAULT_MAX_INFLIGHT_INSERT_BYTES);
  const metrics = opts.metrics ?? new RpcMetrics();
  const handlers = createGrpcHandlers(service, {
    auth: opts.auth ?? new ApiKeyAuth(opts.apiKeys ?? []),
    shutdown: shutdown.signal,
    onError: onInternal,
    onCallStart: () => {
      active++;
    },
    onCallEnd: () => {
      active--;
    },
    insertBudget,
    metrics,
  });
  server.addService(definition, handlers);
  const credentials =
    opts.tls === undefined
      ? ServerCredentials.createInsecure()
      : ServerCredentials.createSsl(null, [{ cert_chain: opts.tls.cert, private_key: opts.tls.key }], false);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(opts.address, credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });
  const address = `${hostOf(opts.address)}:${port}`;
  // Info's proxy endpoints: where clients reach this server (nothing for a wildcard bind).
  if (!/^(0\.0\.0\.0|\[?::\]?)$/.test(hostOf(opts.address))) advertised = [address];
  let closing: Promise<boolean> | null = null;
  return {
    port,
    address,
    get activeCalls() {
      return active;
    },
    insertBudget,
    metrics,
    close(graceMs = 10_000) {
      closing ??= new Promise<boolean>((resolve) => {
        shutdown.abort();
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve(false);
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      return closing;
    },
  };
}

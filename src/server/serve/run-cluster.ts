/**
 * `arbor serve --cluster NAME …`: start one node of a cluster (docs/cluster.md) — the catalog on
 * the PostgreSQL server, blocks and WALs in the S3 store, membership and the collector election in
 * etcd — and serve it on the public gRPC and HTTP ports, plus an internal gRPC port for requests
 * that other nodes forward to the shards this node owns.
 */
import os from 'node:os';
import pg from 'pg';
import { openPgServerCatalog } from '../../catalog/pg-server-catalog.ts';
import type { Catalog } from '../../catalog/types.ts';
import { RemoteBackend } from '../../client/remote-backend.ts';
import { ClusterNode } from '../../cluster/cluster-node.ts';
import { Election } from '../../cluster/election.ts';
import { EtcdClient } from '../../cluster/etcd-client.ts';
import { Membership } from '../../cluster/membership.ts';
import { parseS3Url, S3ObjectStore } from '../../storage/s3-object-store.ts';
import { type GrpcServer, startGrpcServer } from '../grpc/grpc-server.ts';
import { type HttpServer, startHttpServer } from '../http/http-server.ts';
import { ApiKeyAuth } from '../service/auth.ts';
import { makeAuth, openServerWarning, type RunningServer, readTls, ServeError, type ServeIO } from './run-server.ts';
import type { ClusterServeConfig, ServeConfig } from './serve-config.ts';

/** What a node publishes in etcd (strings only). */
interface NodeInfo {
  readonly internal: string;
  readonly grpc: string;
  readonly http: string;
}

/** `host:port` others can dial: a wildcard listen address is published as this host's name. */
function dialable(address: string): string {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  return ['0.0.0.0', '::', '[::]', ''].includes(host) ? `${os.hostname()}:${address.slice(i + 1)}` : address;
}

export async function runClusterServer(cfg: ServeConfig, cc: ClusterServeConfig, io: ServeIO): Promise<RunningServer> {
  const log = (line: string) => io.err(`arbor serve: ${line}`);
  const tls = readTls(cfg);
  const undo: (() => Promise<unknown>)[] = [];
  const unwind = async () => {
    for (const f of undo.reverse()) await f().catch(() => undefined);
  };
  try {
    const pool = new pg.Pool({
      connectionString: cc.catalog,
      max: 16,
      connectionTimeoutMillis: 5000,
      query_timeout: 10_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection the server drops must not take the process down.
    pool.on('error', (e) => log(`PostgreSQL: idle connection lost: ${e.message}`));
    undo.push(() => pool.end());
    let catalog: Catalog;
    try {
      catalog = await openPgServerCatalog(cc.catalog);
    } catch (e) {
      throw new ServeError(`--catalog: ${e instanceof Error ? e.message : String(e)}`);
    }
    undo.push(() => catalog.close());
    const objects = new S3ObjectStore(parseS3Url(cc.objects));
    undo.push(() => objects.close());
    const etcd = new EtcdClient({ endpoints: cc.etcd });
    let node: ClusterNode | null = null;
    const membership = new Membership<NodeInfo>({
      client: etcd,
      cluster: cc.name,
      ttlSeconds: cc.leaseSeconds,
      // Before re-joining under a new lease: stop serving every shard (others may hold them now).
      onLeaseLost: async (why) => {
        log(`etcd lease lost (${why}): releasing every shard`);
        await node?.host.closeAll('own etcd lease lost');
      },
    });
    membership.on('error-event', (e) => log(`membership: ${e.message}`));
    const election = new Election({ client: etcd, cluster: cc.name, ttlSeconds: cc.leaseSeconds });
    election.on('elected', () => log('elected as the garbage collector'));
    election.on('error-event', (e) => log(`election: ${e.message}`));
    node = await ClusterNode.start({
      nodeId: cc.nodeId,
      shards: cc.shards,
      pool,
      catalog,
      objects,
      membership: {
        members: () => membership.members(),
        isLive: () => membership.isLive(),
        onChange: (f) => membership.onChange(f),
        leave: () => membership.leave(),
      },
      leadership: { isLeader: () => election.isLeader(), resign: () => election.resign() },
      connect: (internal) => RemoteBackend.connect(internal, undefined, { retries: 1 }),
      gcGraceMs: cc.gcGraceMs,
      compactEveryMs: cfg.compactEveryMs,
      engine: { retention: cfg.keepVersions === null ? {} : { keepVersions: cfg.keepVersions } },
      log,
    });
    const started = node;
    undo.push(() => started.close());
    const internal = await startGrpcServer({
      backend: node.internal,
      address: cc.internal,
      auth: new ApiKeyAuth([]),
      maxReceiveBytes: cfg.maxMessageBytes,
      log: (line) => log(`internal: ${line}`),
    }).catch((e: unknown) => {
      throw new ServeError(`cannot listen on --internal ${cc.internal}: ${e instanceof Error ? e.message : e}`);
    });
    undo.push(() => internal.close(0));
    const auth = makeAuth(cfg, io);
    undo.push(async () => auth.close());
    const grpc: GrpcServer = await startGrpcServer({
      backend: node.backend,
      address: cfg.grpc,
      auth,
      maxReceiveBytes: cfg.maxMessageBytes,
      maxConcurrentStreams: cfg.maxConcurrentStreams,
      ...(tls === undefined ? {} : { tls }),
      service: { enableFaultInject: false },
      log,
    }).catch((e: unknown) => {
      throw new ServeError(`cannot listen on ${cfg.grpc}: ${e instanceof Error ? e.message : e}`);
    });
    undo.push(() => grpc.close(0));
    const http: HttpServer = await startHttpServer(node.backend, {
      address: cfg.http,
      auth,
      maxBodyBytes: cfg.maxBodyBytes,
      grpcMetrics: grpc.metrics,
      log,
    }).catch((e: unknown) => {
      throw new ServeError(`cannot listen on ${cfg.http}: ${e instanceof Error ? e.message : e}`);
    });
    undo.push(() => http.close());
    await membership.join(cc.nodeId, {
      internal: dialable(internal.address),
      grpc: dialable(grpc.address),
      http: dialable(http.address),
    });
    await election.campaign('collector', cc.nodeId);
    log(
      `cluster ${cc.name}: node ${cc.nodeId} joined (${cc.shards} shards, internal ${internal.address}, ` +
        `catalog and manifests on PostgreSQL, objects ${objects.location}, etcd ${cc.etcd.join(',')})`,
    );
    if (auth.open) for (const line of openServerWarning(grpc.address)) io.err(line);
    let stopping: Promise<void> | null = null;
    return {
      grpc,
      http,
      database: null,
      snapdb: null,
      auth,
      stop() {
        stopping ??= (async () => {
          await http.close();
          const clean = await grpc.close(cfg.graceMs);
          if (!clean) log(`calls still running after ${cfg.graceMs} ms were cut`);
          // The node commits and closes its shards, then leaves the member set.
          await started.close();
          await internal.close(cfg.graceMs);
          auth.close();
          await objects.close();
          await catalog.close();
          await pool.end();
        })();
        return stopping;
      },
    };
  } catch (e) {
    await unwind();
    throw e;
  }
}

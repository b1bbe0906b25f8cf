/**
 * A whole ArborDB cluster on this machine, for the failover test and the cluster benchmark:
 * a real PostgreSQL server, a 3-member etcd cluster, a one-OSD Ceph with radosgw (S3), and N
 * `arbor serve --cluster` processes — each started by the project (test/cluster/README.md).
 * Infrastructure is started once (`startInfra`); each run gets its own database, cluster name and
 * object prefix (`startNodes`), so runs never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type ServeProcess, startServe } from '../server/spawn-serve.ts';
import { type CephHandle, startCeph } from './ceph.ts';
import { type EtcdCluster, startEtcd } from './etcd.ts';
import { freePorts } from './ports.ts';
import { type PgHandle, startPostgres } from './postgres.ts';

export interface Infra {
  readonly pg: PgHandle;
  readonly etcd: EtcdCluster;
  readonly ceph: CephHandle;
  stop(): Promise<void>;
}

export async function startInfra(log: (line: string) => void = () => undefined): Promise<Infra> {
  const t0 = Date.now();
  const [pgServer, etcd, ceph] = await Promise.all([startPostgres(), startEtcd({ members: 3 }), startCeph()]);
  log(
    `infrastructure up in ${Date.now() - t0} ms: PostgreSQL ${pgServer.url}, etcd ${etcd.endpoints.join(',')}, S3 ${ceph.endpoint}`,
  );
  return {
    pg: pgServer,
    etcd,
    ceph,
    async stop() {
      await Promise.allSettled([pgServer.stop(), etcd.stop(), ceph.stop()]);
    },
  };
}

export interface NodeProc {
  readonly id: string;
  /** Public gRPC `host:port`. */
  readonly grpc: string;
  readonly internal: string;
  proc: ServeProcess | null;
  /** What the node's earlier processes printed on stderr (`logOf` adds the running one's). */
  log: string;
}

/** The HTTP address (`host:port`) of a running node, from its ready line. */
export function httpOf(node: NodeProc): string {
  const m = / http=(\S+)/.exec(node.proc?.stdout() ?? '');
  if (!m) throw new Error(`${node.id} is not running or printed no http address`);
  return m[1]!;
}

/** Everything node printed on stderr, across restarts. */
export const logOf = (node: NodeProc): string => node.log + (node.proc?.stderr() ?? '');

export interface ClusterRun {
  readonly name: string;
  readonly catalog: string;
  readonly nodes: NodeProc[];
  /** (Re)start node i with its id and ports. */
  start(i: number): Promise<void>;
  /** SIGKILL node i. */
  kill(i: number): Promise<void>;
  pause(i: number): void;
  resume(i: number): void;
  /** SIGTERM every node. */
  stop(): Promise<void>;
}

export interface NodesOptions {
  readonly nodes?: number;
  readonly shards?: number;
  readonly leaseSeconds?: number;
}

/** Start a fresh cluster of `nodes` nodes over the infrastructure (its own database and prefix). */
export async function startNodes(infra: Infra, opts: NodesOptions = {}): Promise<ClusterRun> {
  const name = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: infra.pg.url });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const catalog = infra.pg.url.replace(/\/[^/]*$/, `/${name}`);
  const { ceph } = infra;
  const objects = `s3://${ceph.accessKey}:${ceph.secretKey}@${ceph.endpoint.replace(/^https?:\/\//, '')}/${ceph.bucket}/${name}/`;
  const n = opts.nodes ?? 3;
  const ports = await freePorts(2 * n);
  const nodes: NodeProc[] = Array.from({ length: n }, (_, i) => ({
    id: `node${i + 1}`,
    grpc: `127.0.0.1:${ports[2 * i]}`,
    internal: `127.0.0.1:${ports[2 * i + 1]}`,
    proc: null,
    log: '',
  }));
  const args = (node: NodeProc) => [
    '--cluster',
    name,
    '--etcd',
    infra.etcd.endpoints.join(','),
    '--catalog',
    catalog,
    '--objects',
    objects,
    '--node-id',
    node.id,
    '--grpc',
    node.grpc,
    '--internal',
    node.internal,
    '--shards',
    String(opts.shards ?? 16),
    '--lease-seconds',
    String(opts.leaseSeconds ?? 2),
    '--gc-grace-ms',
    '60000',
  ];
  const run: ClusterRun = {
    name,
    catalog,
    nodes,
    async start(i) {
      const node = nodes[i]!;
      const proc = await startServe(args(node), { ...process.env, ARBOR_API_KEYS: '' }, 120_000);
      node.proc = proc;
    },
    async kill(i) {
      const node = nodes[i]!;
      const proc = node.proc;
      node.proc = null;
      if (proc) {
        await proc.stop('SIGKILL');
        node.log += proc.stderr();
      }
    },
    pause(i) {
      nodes[i]?.proc?.child.kill('SIGSTOP');
    },
    resume(i) {
      nodes[i]?.proc?.child.kill('SIGCONT');
    },
    async stop() {
      await Promise.all(
        nodes.map(async (node) => {
          const proc = node.proc;
          node.proc = null;
          if (!proc) return;
          proc.child.kill('SIGCONT');
          const timer = setTimeout(() => proc.child.kill('SIGKILL'), 30_000);
          await proc.stop('SIGTERM');
          clearTimeout(timer);
          node.log += proc.stderr();
        }),
      );
    },
  };
  try {
    await Promise.all(nodes.map((_, i) => run.start(i)));
  } catch (e) {
    await run.stop();
    throw e;
  }
  return run;
}

/**
 * `arbor serve` configuration: flags > environment (ARBOR_*) > defaults. Pure (argv, env and a
 * file reader in; a config or a usage error out) so that it is tested without starting anything.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SHARDS } from '../../cluster/placement.ts';
import { type DataRetentionRule, parseRetentionRule } from '../../db/data-retention.ts';

export const DEFAULT_DATA = './data';
export const DEFAULT_GRPC = '127.0.0.1:4410';
export const DEFAULT_HTTP = '127.0.0.1:9000';
/** `--snapdb` without a value: the openHistorian port, loopback only (the protocol has no auth). */
export const DEFAULT_SNAPDB = '127.0.0.1:38402';
export const DEFAULT_GRACE_MS = 10_000;
/** Defaults of the limits set here (docs/api/limits.md). */
export const DEFAULT_MAX_MESSAGE_MB = 64;
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1024;
export const DEFAULT_MAX_BODY_MB = 64;

export interface ServeConfig {
  /** Data directory, or null for an in-memory database (`--data :memory:`, tests only). */
  readonly data: string | null;
  readonly grpc: string;
  /** Reserved: the HTTP API is not served yet. */
  readonly http: string;
  /** openHistorian SNAPdb listen address (docs/protocols/snapdb.md), or null = off (default). */
  readonly snapdb: string | null;
  /** Plain keys from --api-key / --api-keys-file / ARBOR_API_KEYS*: role admin. */
  readonly apiKeys: readonly string[];
  /**
   * The keys file with roles (docs/format/keys.md), watched while serving: --keys-file, else
   * ARBOR_KEYS_FILE, else DATA/keys (used when it exists or appears). null for `:memory:` without
   * a flag.
   */
  readonly keysFile: string | null;
  /** Largest gRPC request message, bytes. */
  readonly maxMessageBytes: number;
  /** Concurrent gRPC calls per client connection. */
  readonly maxConcurrentStreams: number;
  /** Largest HTTP request body, bytes. */
  readonly maxBodyBytes: number;
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  readonly enableFaultInject: boolean;
  /** How long in-flight calls may run after SIGTERM/SIGINT before they are cut (ms). */
  readonly graceMs: number;
  /** Run compaction (retention + space reclaim) this often (ms); 0 = never (default). */
  readonly compactEveryMs: number;
  /** Retention applied by compaction: keep the newest N versions of each stream (null = all). */
  readonly keepVersions: number | null;
  /** Data retention per collection, applied before each compaction (src/db/data-retention.ts). */
  readonly retain: readonly DataRetentionRule[];
  /** Archive directories attached read-only at start (src/db/attached-backend.ts). */
  readonly attach: readonly string[];
  /** Cluster mode (docs/cluster.md), or null for a single node on --data. */
  readonly cluster: ClusterServeConfig | null;
  readonly help: boolean;
}

/** `arbor serve --cluster NAME …`: one node of a cluster (docs/cluster.md). */
export interface ClusterServeConfig {
  /** The cluster's name: its etcd key prefix `/arbor/NAME/`. */
  readonly name: string;
  /** etcd client URLs. */
  readonly etcd: readonly string[];
  /** The PostgreSQL server of the catalog, shard epochs and manifests. */
  readonly catalog: string;
  /** The S3 object store of blocks and WALs (`s3://ACCESS:SECRET@host:port/bucket/prefix`). */
  readonly objects: string;
  /** This node's id (unique in the cluster). */
  readonly nodeId: string;
  /** Listen address of the internal gRPC port (requests forwarded by other nodes). */
  readonly internal: string;
  /** Number of shards (fixed when the cluster is created). */
  readonly shards: number;
  /** etcd lease TTL of members, whole seconds. */
  readonly leaseSeconds: number;
  /** How long retired objects stay before the collector deletes them (ms). */
  readonly gcGraceMs: number;
}

/** A problem with the command line or environment: print it with the usage hint, exit 2. */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}

export const SERVE_HELP = `Usage: arbor serve [options]

Serve an ArborDB database over the BTrDB v5 gRPC protocol (the official btrdb-python client
works against it unchanged).

Options (flag > environment variable > default):
  --data DIR              data directory (created if missing)       ARBOR_DATA      default ${DEFAULT_DATA}
                          ':memory:' = an in-memory database, lost on exit (tests)
  --grpc HOST:PORT        gRPC listen address; port 0 = any free    ARBOR_GRPC      default ${DEFAULT_GRPC}
                          (btrdb-python uses TLS exactly when the port is 4411)
  --http HOST:PORT        HTTP API + web plotter address           ARBOR_HTTP      default ${DEFAULT_HTTP}
                          yet (a later release serves the JSON API and web UI here)
  --snapdb [HOST:PORT]    also serve the openHistorian SNAPdb       ARBOR_SNAPDB    default off
                          protocol (openhistorian Python client); alone = ${DEFAULT_SNAPDB}.
                          It has NO authentication: keep it on loopback (with API keys
                          configured a non-loopback address is refused). docs/protocols/snapdb.md
  --keys-file FILE        keys with roles, made by \`arbor keys add\`  ARBOR_KEYS_FILE default DATA/keys
                          (read/write/admin; re-read when it changes: no restart
                          needed to add or revoke a key; see docs/format/keys.md)
  --api-key KEY           also accept this plain key, role admin     ARBOR_API_KEYS  comma-separated
                          (repeatable)
  --api-keys-file FILE    plain keys in FILE, one per line, admin   ARBOR_API_KEYS_FILE
                          (blank lines and lines starting with # are ignored)
                          Keys given by flags replace those from the environment.
                          No key and no keys file = an OPEN server (a warning is printed).
  --tls-cert FILE         PEM certificate chain: serve TLS          ARBOR_TLS_CERT
  --tls-key FILE          PEM private key (with --tls-cert)         ARBOR_TLS_KEY
  --enable-fault-inject   let FaultInject crash the server (tests)  ARBOR_ENABLE_FAULT_INJECT=1
  --grace-ms MS           on SIGTERM/SIGINT, let calls finish for   ARBOR_GRACE_MS  default ${DEFAULT_GRACE_MS}
                          this long before cutting them
  --max-message-mb N      largest gRPC request message (MiB)        ARBOR_MAX_MESSAGE_MB default ${DEFAULT_MAX_MESSAGE_MB}
  --max-concurrent-streams N  gRPC calls open at once per connection  ARBOR_MAX_CONCURRENT_STREAMS default ${DEFAULT_MAX_CONCURRENT_STREAMS}
  --max-body-mb N         largest HTTP request body (MiB)           ARBOR_MAX_BODY_MB default ${DEFAULT_MAX_BODY_MB}
                          (all limits: docs/api/limits.md)
  --compact-every MS      compact every MS ms: apply the retention  ARBOR_COMPACT_EVERY_MS
                          policy and reclaim unreferenced blocks    default 0 = never
                          (as \`arbor compact\`, while serving)
  --keep-versions N       retention: keep the newest N versions of  ARBOR_KEEP_VERSIONS
                          each stream (default: keep all)
  --retain RULE           data retention, repeatable: COLLECTION=AGE ARBOR_RETAIN (rules
                          and/or SIZE, e.g. pmu=30d, edge=7d,20GB:  separated by ;)
                          the oldest points of the collection (and
                          its sub-collections) go first, the versions that held them too.
                          Applied before every compaction; with --retain, --compact-every
                          defaults to 60000. Same rules as \`arbor compact --retain\`.
  --attach DIR            attach an archive (\`arbor archive export\`) ARBOR_ATTACH (;)
                          read-only, repeatable: its streams are served next to the live
                          ones (also at run time: \`arbor archive attach\`)

Cluster mode (docs/cluster.md): several nodes, one database, on PostgreSQL + etcd + S3.
--data, --snapdb, --attach and --retain do not apply to it; --compact-every and --keep-versions do.
  --cluster NAME          run as a node of cluster NAME             ARBOR_CLUSTER
  --etcd URL[,URL…]       etcd client URLs (membership, leases)     ARBOR_ETCD
  --catalog URL           postgres://… catalog, shard epochs and    ARBOR_CATALOG
                          manifests (a real PostgreSQL server)
  --objects URL           s3://ACCESS:SECRET@HOST:PORT/BUCKET/PREFIX ARBOR_OBJECTS
                          blocks and WALs (any S3-compatible store; http on loopback)
  --node-id ID            this node's unique id                     ARBOR_NODE_ID   default HOST-GRPCPORT
  --internal HOST:PORT    gRPC port for requests other nodes        ARBOR_INTERNAL  default GRPCHOST:0
                          forward here; no API keys: keep it on a private network
  --shards N              shards of a new cluster (fixed for ever)  ARBOR_SHARDS    default ${DEFAULT_SHARDS}
  --lease-seconds N       etcd lease TTL: a dead node's shards move ARBOR_LEASE_SECONDS default 5
                          after about this long
  --gc-grace-ms MS        retired objects are deleted after this    ARBOR_GC_GRACE_MS default 600000
  -h, --help              show this help

Clients authenticate with the gRPC metadata (or HTTP header) "authorization: Bearer <key>".
A key whose role is too weak is refused: gRPC PERMISSION_DENIED, HTTP 403.
When ready the server prints one line a script can wait for:
  arbor serve: ready grpc=127.0.0.1:4410
SIGTERM or SIGINT: stop accepting calls, finish in-flight ones, flush and close the database,
exit 0. Exit 1 when the port is taken or the data directory is locked by another process.

Examples:
  arbor keys add --data /var/lib/arbordb --role write --label ingest   # prints the key once
  arbor serve --data /var/lib/arbordb                                  # uses /var/lib/arbordb/keys
  arbor serve --data /var/lib/arbordb --api-key "$(cat /etc/arbordb/key)"
  arbor serve --data /var/lib/arbordb --snapdb                        # + openHistorian clients, 127.0.0.1:38402
  ARBOR_API_KEYS=k1,k2 arbor serve --grpc 0.0.0.0:4410
  arbor serve --grpc 0.0.0.0:4411 --tls-cert server.pem --tls-key server.key --api-keys-file keys.txt
  BTRDB_ENDPOINTS=127.0.0.1:4410 BTRDB_API_KEY=k1 python3 -c 'import btrdb; print(btrdb.connect().info())'
`;

const TRUE = /^(1|true|yes|on)$/i;

function checkAddress(value: string, what: string): string {
  const i = value.lastIndexOf(':');
  const port = Number(value.slice(i + 1));
  if (i <= 0 || !/^\d+$/.test(value.slice(i + 1)) || port > 65535) {
    throw new UsageError(`${what} must be HOST:PORT (e.g. 127.0.0.1:4410), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Parse a keys file: one key per line; blank lines and # comments are skipped. */
export function parseKeysFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export function parseServeConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): ServeConfig {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(withSnapdbDefault(argv)).values;
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const pick = (flag: string | undefined, name: string, def: string): string => {
    const v = flag ?? env[name];
    return v === undefined || v === '' ? def : v;
  };
  const readKeys = (file: string): string[] => {
    try {
      return parseKeysFile(readFile(file));
    } catch (e) {
      throw new UsageError(`cannot read API keys file ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  let apiKeys: string[];
  if (values['api-key'] !== undefined || values['api-keys-file'] !== undefined) {
    apiKeys = [...(values['api-key'] ?? []), ...(values['api-keys-file'] ? readKeys(values['api-keys-file']) : [])];
  } else {
    apiKeys = [
      ...(env.ARBOR_API_KEYS ?? '').split(',').map((k) => k.trim()),
      ...(env.ARBOR_API_KEYS_FILE ? readKeys(env.ARBOR_API_KEYS_FILE) : []),
    ];
  }
  apiKeys = apiKeys.filter((k) => k !== '');
  for (const k of apiKeys) if (/\s/.test(k)) throw new UsageError('API keys must not contain whitespace');
  const tlsCert = values['tls-cert'] ?? env.ARBOR_TLS_CERT ?? null;
  const tlsKey = values['tls-key'] ?? env.ARBOR_TLS_KEY ?? null;
  if ((tlsCert === null) !== (tlsKey === null)) throw new UsageError('--tls-cert and --tls-key must be given together');
  const grace = Number(pick(values['grace-ms'], 'ARBOR_GRACE_MS', String(DEFAULT_GRACE_MS)));
  if (!Number.isSafeInteger(grace) || grace < 0) throw new UsageError('--grace-ms must be a whole number of ms');
  const retainTexts =
    values.retain ?? (env.ARBOR_RETAIN ? env.ARBOR_RETAIN.split(';').filter((x) => x.trim() !== '') : []);
  const retain = retainTexts.map((t) => {
    try {
      return parseRetentionRule(t);
    } catch (e) {
      throw new UsageError(`--retain: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  const attach = values.attach ?? (env.ARBOR_ATTACH ? env.ARBOR_ATTACH.split(';').filter((x) => x.trim() !== '') : []);
  const compactEveryMs = Number(
    pick(values['compact-every'], 'ARBOR_COMPACT_EVERY_MS', retain.length > 0 ? '60000' : '0'),
  );
  if (!Number.isSafeInteger(compactEveryMs) || compactEveryMs < 0) {
    throw new UsageError('--compact-every must be a whole number of ms');
  }
  const keep = pick(values['keep-versions'], 'ARBOR_KEEP_VERSIONS', '');
  const keepVersions = keep === '' ? null : Number(keep);
  if (keepVersions !== null && !(Number.isSafeInteger(keepVersions) && keepVersions >= 1)) {
    throw new UsageError(`--keep-versions must be a whole number ≥ 1, got ${keep}`);
  }
  const data = pick(values.data, 'ARBOR_DATA', DEFAULT_DATA);
  const keysFlag = pick(values['keys-file'], 'ARBOR_KEYS_FILE', '');
  const keysFile = keysFlag !== '' ? keysFlag : data === ':memory:' ? null : path.join(data, 'keys');
  if (keysFlag !== '') {
    try {
      readFile(keysFlag);
    } catch (e) {
      throw new UsageError(
        `cannot read keys file ${keysFlag}: ${e instanceof Error ? e.message : String(e)} (create it with arbor keys add --file ${keysFlag})`,
      );
    }
  }
  const whole = (flag: string | undefined, name: string, def: number, what: string, max: number): number => {
    const n = Number(pick(flag, name, String(def)));
    if (!Number.isSafeInteger(n) || n < 1 || n > max)
      throw new UsageError(`${what} must be a whole number in 1..${max}`);
    return n;
  };
  const grpc = checkAddress(pick(values.grpc, 'ARBOR_GRPC', DEFAULT_GRPC), '--grpc');
  const cluster = clusterConfig(values, env, pick, grpc);
  return {
    data: data === ':memory:' ? null : data,
    // A cluster node has no data directory: its keys file is --keys-file or none.
    keysFile: cluster !== null && keysFlag === '' ? null : keysFile,
    maxMessageBytes:
      whole(values['max-message-mb'], 'ARBOR_MAX_MESSAGE_MB', DEFAULT_MAX_MESSAGE_MB, '--max-message-mb', 2047) *
      1024 *
      1024,
    maxConcurrentStreams: whole(
      values['max-concurrent-streams'],
      'ARBOR_MAX_CONCURRENT_STREAMS',
      DEFAULT_MAX_CONCURRENT_STREAMS,
      '--max-concurrent-streams',
      2 ** 31 - 1,
    ),
    maxBodyBytes:
      whole(values['max-body-mb'], 'ARBOR_MAX_BODY_MB', DEFAULT_MAX_BODY_MB, '--max-body-mb', 4096) * 1024 * 1024,
    grpc,
    http: checkAddress(pick(values.http, 'ARBOR_HTTP', DEFAULT_HTTP), '--http'),
    snapdb: ((v) => (v === '' ? null : checkAddress(v, '--snapdb')))(pick(values.snapdb, 'ARBOR_SNAPDB', '')),
    apiKeys: [...new Set(apiKeys)],
    tlsCert: tlsCert === '' ? null : tlsCert,
    tlsKey: tlsKey === '' ? null : tlsKey,
    enableFaultInject: values['enable-fault-inject'] === true || TRUE.test(env.ARBOR_ENABLE_FAULT_INJECT ?? ''),
    graceMs: grace,
    compactEveryMs,
    keepVersions,
    retain,
    attach,
    cluster,
    help: values.help === true,
  };
}

type ParsedValues = ReturnType<typeof parse>['values'];
type Pick = (flag: string | undefined, name: string, def: string) => string;

function clusterConfig(
  values: ParsedValues,
  env: Readonly<Record<string, string | undefined>>,
  pick: Pick,
  grpc: string,
): ClusterServeConfig | null {
  const name = pick(values.cluster, 'ARBOR_CLUSTER', '');
  const clusterFlags = [
    'etcd',
    'catalog',
    'objects',
    'node-id',
    'internal',
    'shards',
    'lease-seconds',
    'gc-grace-ms',
  ] as const;
  if (name === '') {
    const stray = clusterFlags.find((f) => values[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} is a cluster-mode option: give --cluster NAME too`);
    return null;
  }
  if (!/^[A-Za-z0-9._:@-]{1,200}$/.test(name)) throw new UsageError(`--cluster must be 1–200 of [A-Za-z0-9._:@-]`);
  for (const [flag, given] of [
    ['data', values.data ?? env.ARBOR_DATA],
    ['snapdb', values.snapdb],
    ['attach', values.attach],
    ['retain', values.retain],
  ] as const) {
    if (given !== undefined) throw new UsageError(`--${flag} does not apply in cluster mode (docs/cluster.md)`);
  }
  const need = (flag: 'etcd' | 'catalog' | 'objects', envName: string, example: string): string => {
    const v = pick(values[flag], envName, '');
    if (v === '') throw new UsageError(`cluster mode needs --${flag} (e.g. --${flag} ${example})`);
    return v;
  };
  const etcd = need('etcd', 'ARBOR_ETCD', 'http://10.0.0.1:2379,http://10.0.0.2:2379')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  for (const u of etcd)
    if (!/^https?:\/\/[^/]+\/?$/.test(u)) throw new UsageError(`--etcd: ${u} is not http(s)://HOST:PORT`);
  const catalog = need('catalog', 'ARBOR_CATALOG', 'postgres://arbor@db:5432/arbor');
  if (!/^postgres(ql)?:\/\//.test(catalog)) throw new UsageError('--catalog must be a postgres:// URL in cluster mode');
  const objects = need('objects', 'ARBOR_OBJECTS', 's3://KEY:SECRET@rgw:7480/arbor');
  if (!/^s3(\+https?)?:\/\//.test(objects)) throw new UsageError('--objects must be an s3:// URL');
  const host = grpc.slice(0, grpc.lastIndexOf(':'));
  const nodeId = pick(values['node-id'], 'ARBOR_NODE_ID', `${os.hostname()}-${grpc.slice(grpc.lastIndexOf(':') + 1)}`);
  if (!/^[A-Za-z0-9._:@-]{1,200}$/.test(nodeId)) throw new UsageError(`--node-id must be 1–200 of [A-Za-z0-9._:@-]`);
  const count = (
    flag: 'shards' | 'lease-seconds' | 'gc-grace-ms',
    envName: string,
    def: number,
    max: number,
  ): number => {
    const n = Number(pick(values[flag], envName, String(def)));
    if (!Number.isSafeInteger(n) || n < (flag === 'gc-grace-ms' ? 0 : 1) || n > max) {
      throw new UsageError(`--${flag} must be a whole number up to ${max}`);
    }
    return n;
  };
  return {
    name,
    etcd,
    catalog,
    objects,
    nodeId,
    internal: checkAddress(pick(values.internal, 'ARBOR_INTERNAL', `${host}:0`), '--internal'),
    shards: count('shards', 'ARBOR_SHARDS', DEFAULT_SHARDS, 4096),
    leaseSeconds: count('lease-seconds', 'ARBOR_LEASE_SECONDS', 5, 60),
    gcGraceMs: count('gc-grace-ms', 'ARBOR_GC_GRACE_MS', 600_000, 7 * 24 * 3600 * 1000),
  };
}

/** `--snapdb` given without a value (last, or followed by another option) means DEFAULT_SNAPDB. */
function withSnapdbDefault(argv: readonly string[]): string[] {
  return argv.map((a, i) => {
    const next = argv[i + 1];
    return a === '--snapdb' && (next === undefined || next.startsWith('-')) ? `--snapdb=${DEFAULT_SNAPDB}` : a;
  });
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      data: { type: 'string' },
      grpc: { type: 'string' },
      http: { type: 'string' },
      snapdb: { type: 'string' },
      'api-key': { type: 'string', multiple: true },
      'api-keys-file': { type: 'string' },
      'keys-file': { type: 'string' },
      'max-message-mb': { type: 'string' },
      'max-concurrent-streams': { type: 'string' },
      'max-body-mb': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'enable-fault-inject': { type: 'boolean' },
      'grace-ms': { type: 'string' },
      'compact-every': { type: 'string' },
      'keep-versions': { type: 'string' },
      retain: { type: 'string', multiple: true },
      attach: { type: 'string', multiple: true },
      cluster: { type: 'string' },
      etcd: { type: 'string' },
      catalog: { type: 'string' },
      objects: { type: 'string' },
      'node-id': { type: 'string' },
      internal: { type: 'string' },
      shards: { type: 'string' },
      'lease-seconds': { type: 'string' },
      'gc-grace-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

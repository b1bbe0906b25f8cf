/**
 * `arbor serve` configuration: flags > environment (ARBOR_*) > defaults. Pure (argv, env and a
 * file reader in; a config or a usage error out) so that it is tested without starting anything.
 */
import { parseArgs } from 'node:util';

export const DEFAULT_DATA = './data';
export const DEFAULT_GRPC = '127.0.0.1:4410';
export const DEFAULT_HTTP = '127.0.0.1:9000';
export const DEFAULT_GRACE_MS = 10_000;

export interface ServeConfig {
  /** Data directory, or null for an in-memory database (`--data :memory:`, tests only). */
  readonly data: string | null;
  readonly grpc: string;
  /** Reserved: the HTTP API is not served yet. */
  readonly http: string;
  readonly apiKeys: readonly string[];
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  readonly enableFaultInject: boolean;
  /** How long in-flight calls may run after SIGTERM/SIGINT before they are cut (ms). */
  readonly graceMs: number;
  readonly help: boolean;
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
  --api-key KEY           accept this API key (repeatable)          ARBOR_API_KEYS  comma-separated
  --api-keys-file FILE    accept the keys in FILE, one per line     ARBOR_API_KEYS_FILE
                          (blank lines and lines starting with # are ignored)
                          Keys given by flags replace those from the environment.
                          No key at all = an OPEN server (a warning is printed).
  --tls-cert FILE         PEM certificate chain: serve TLS          ARBOR_TLS_CERT
  --tls-key FILE          PEM private key (with --tls-cert)         ARBOR_TLS_KEY
  --enable-fault-inject   let FaultInject crash the server (tests)  ARBOR_ENABLE_FAULT_INJECT=1
  --grace-ms MS           on SIGTERM/SIGINT, let calls finish for   ARBOR_GRACE_MS  default ${DEFAULT_GRACE_MS}
                          this long before cutting them
  -h, --help              show this help

Clients authenticate with the gRPC metadata "authorization: Bearer <key>".
When ready the server prints one line a script can wait for:
  arbor serve: ready grpc=127.0.0.1:4410
SIGTERM or SIGINT: stop accepting calls, finish in-flight ones, flush and close the database,
exit 0. Exit 1 when the port is taken or the data directory is locked by another process.

Examples:
  arbor serve --data /var/lib/arbordb --api-key "$(cat /etc/arbordb/key)"
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
    values = parse(argv).values;
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
  const data = pick(values.data, 'ARBOR_DATA', DEFAULT_DATA);
  return {
    data: data === ':memory:' ? null : data,
    grpc: checkAddress(pick(values.grpc, 'ARBOR_GRPC', DEFAULT_GRPC), '--grpc'),
    http: checkAddress(pick(values.http, 'ARBOR_HTTP', DEFAULT_HTTP), '--http'),
    apiKeys: [...new Set(apiKeys)],
    tlsCert: tlsCert === '' ? null : tlsCert,
    tlsKey: tlsKey === '' ? null : tlsKey,
    enableFaultInject: values['enable-fault-inject'] === true || TRUE.test(env.ARBOR_ENABLE_FAULT_INJECT ?? ''),
    graceMs: grace,
    help: values.help === true,
  };
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
      'api-key': { type: 'string', multiple: true },
      'api-keys-file': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'enable-fault-inject': { type: 'boolean' },
      'grace-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

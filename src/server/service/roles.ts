/**
 * Roles of API keys and THE access table: which role every gRPC method and every HTTP route needs.
 *
 *   read  < write < admin        (each role may do everything the roles below it may)
 *
 * - read: every query (raw points, windows, nearest, changes, stream info, lookups, collections,
 *   metadata usage, SQL, CSV, Info, Subscribe/live, metrics);
 * - write: read + Insert/ArrowInsert, Delete, Create, SetStreamTags/SetStreamAnnotations, Flush;
 * - admin: write + Obliterate (irreversible: erases every version and blocks the uuid forever, so
 *   it is kept out of ingest keys' reach), FaultInject, and every route under `/api/admin/`.
 *
 * To add an RPC or a route: add its line here. A gRPC method without a line is a type error
 * (the table `satisfies Record<RpcName, …>`); an HTTP route without a line fails `roles.test.ts`
 * and is served as admin-only meanwhile (fail closed). An admin route, e.g. a backup
 * trigger, is one line: `'POST /api/admin/backup': 'admin'`.
 */
import type { RpcName } from '../../wire/index.ts';

export const ROLES = ['read', 'write', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a route needs: a role, or nothing (`public`: health checks and the OpenAPI document). */
export type Access = Role | 'public';

const RANK: Readonly<Record<Role, number>> = { read: 0, write: 1, admin: 2 };

/** True when a key of role `have` may do what needs role `need`. */
export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

export function isRole(text: string): text is Role {
  return (ROLES as readonly string[]).includes(text);
}

/** The access table (one table for both transports; HTTP routes keyed `METHOD /path/{template}`). */
export const ACCESS = {
  grpc: {
    // read
    RawValues: 'read',
    ArrowRawValues: 'read',
    ArrowMultiValues: 'read',
    AlignedWindows: 'read',
    ArrowAlignedWindows: 'read',
    Windows: 'read',
    ArrowWindows: 'read',
    StreamInfo: 'read',
    ListCollections: 'read',
    LookupStreams: 'read',
    Nearest: 'read',
    Changes: 'read',
    Info: 'read',
    GetMetadataUsage: 'read',
    GenerateCSV: 'read',
    SQLQuery: 'read',
    Subscribe: 'read',
    // write
    SetStreamAnnotations: 'write',
    SetStreamTags: 'write',
    Create: 'write',
    Insert: 'write',
    ArrowInsert: 'write',
    Delete: 'write',
    Flush: 'write',
    // admin
    Obliterate: 'admin',
    FaultInject: 'admin',
  } satisfies Readonly<Record<RpcName, Role>>,
  http: {
    // public
    'GET /healthz': 'public',
    'GET /readyz': 'public',
    'GET /openapi.json': 'public',
    // read
    'GET /api/info': 'read',
    'POST /api/sql': 'read',
    'GET /metrics': 'read',
    'GET /api/streams': 'read',
    'GET /api/collections': 'read',
    'GET /api/metadata-usage': 'read',
    'GET /api/streams/{uuid}': 'read',
    'GET /api/streams/{uuid}/points': 'read',
    'GET /api/streams/{uuid}/aligned-windows': 'read',
    'GET /api/streams/{uuid}/windows': 'read',
    'GET /api/streams/{uuid}/nearest': 'read',
    'GET /api/streams/{uuid}/count': 'read',
    'GET /api/streams/{uuid}/changes': 'read',
    'GET /api/streams/{uuid}/live': 'read',
    'GET /api/live': 'read',
    // write
    'POST /api/streams': 'write',
    'PATCH /api/streams/{uuid}': 'write',
    'POST /api/streams/{uuid}/points': 'write',
    'DELETE /api/streams/{uuid}/points': 'write',
    'POST /api/streams/{uuid}/flush': 'write',
    // admin
    'DELETE /api/streams/{uuid}': 'admin',
    'POST /api/admin/backup': 'admin',
    'GET /api/admin/archives': 'admin',
    'POST /api/admin/archives': 'admin',
    'DELETE /api/admin/archives/{name}': 'admin',
  } satisfies Readonly<Record<string, Access>>,
} as const;

/** The role a gRPC method needs. */
export function grpcMethodRole(rpc: RpcName): Role {
  return ACCESS.grpc[rpc];
}

/**
 * What an HTTP route needs, by method and path template. A route missing from the table needs
 * admin (fail closed); `roles.test.ts` fails for it so that it gets its line.
 */
export function httpRouteAccess(method: string, pathTemplate: string): Access {
  const key = `${method} ${pathTemplate}`;
  const table: Readonly<Record<string, Access>> = ACCESS.http;
  return Object.hasOwn(table, key) ? table[key]! : 'admin';
}

/** Whether the table has a line for this route (for the completeness test). */
export function httpRouteListed(method: string, pathTemplate: string): boolean {
  return Object.hasOwn(ACCESS.http, `${method} ${pathTemplate}`);
}

/** The message of a refused call. */
export function permissionDenied(have: Role, need: Role, what: string): string {
  return `permission denied: ${what} needs a ${need} key; this key has role ${have}`;
}

/** The catalog layer's public surface (see types.ts for the contract, docs/format/catalog.md for the design). */
export type { PgPoolOptions } from './pg-pool-client.ts';
export { openPgServerCatalog, PgServerCatalog, type PgServerCatalogOptions } from './pg-server-catalog.ts';
export { openPgliteCatalog, PgliteCatalog, type PgliteCatalogOptions } from './pglite-catalog.ts';
export type { SqlSandboxOptions, SqlSandboxStats } from './sql-sandbox.ts';
export {
  type Catalog,
  DEFAULT_SQL_MAX_ROWS,
  DEFAULT_SQL_TIMEOUT_MS,
  type LookupQuery,
  type MetadataUsage,
  type NewStream,
  type SqlOptions,
  type SqlRow,
  type StreamMeta,
  TAG_KEYS,
  type TagKey,
} from './types.ts';

/**
 * The catalog-wide RPCs: LookupStreams, ListCollections, GetMetadataUsage, SQLQuery (guide §4.11,
 * §4.12). Lists are streamed in messages of at most 1000 entries (descriptors, collections, SQL
 * rows), as BTrDB v4 did.
 */

import { DbError } from '../../core/errors.ts';
import type { Backend } from '../../db/backend.ts';
import type {
  ListCollectionsParams,
  ListCollectionsResponse,
  LookupStreamsParams,
  LookupStreamsResponse,
  MetadataUsageParams,
  MetadataUsageResponse,
  SQLQueryParams,
  SQLQueryResponse,
} from '../../wire/index.ts';
import { descriptorToWire, MAX_METADATA_ENTRIES, metaFilterOf, slices } from './convert.ts';

/** Entries per message of list answers. */
export const LIST_BATCH = 1000;

export const EMPTY_LOOKUP: LookupStreamsResponse = { results: [] };
export const EMPTY_COLLECTIONS: ListCollectionsResponse = { collections: [] };
export const EMPTY_USAGE: MetadataUsageResponse = { tags: [], annotations: [] };
export const EMPTY_SQL: SQLQueryResponse = { SQLQueryRow: [] };

/** Streams by collection (exact, or prefix with '' = all) and ANDed tag/annotation filters. */
export async function* lookupStreams(
  backend: Backend,
  req: LookupStreamsParams,
): AsyncGenerator<LookupStreamsResponse> {
  const found = await backend.lookupStreams({
    collection: req.collection,
    isPrefix: req.isCollectionPrefix,
    tags: metaFilterOf(req.tags, 'tags'),
    annotations: metaFilterOf(req.annotations, 'annotations'),
  });
  for (const part of slices(found, LIST_BATCH)) yield { results: part.map(descriptorToWire) };
}

/** Distinct collections with a live stream, starting with `prefix`, sorted. */
export async function* listCollections(
  backend: Backend,
  req: ListCollectionsParams,
): AsyncGenerator<ListCollectionsResponse> {
  const found = await backend.listCollections(req.prefix);
  for (const part of slices(found, LIST_BATCH)) yield { collections: part };
}

/** Per tag key and annotation key: how many live streams under `prefix` carry it. */
export async function getMetadataUsage(backend: Backend, req: MetadataUsageParams): Promise<MetadataUsageResponse> {
  const u = await backend.metadataUsage(req.prefix);
  const counts = (m: Record<string, number>) => Object.entries(m).map(([key, n]) => ({ key, count: BigInt(n) }));
  return { tags: counts(u.tags), annotations: counts(u.annotations) };
}

/** JSON for SQL values: bigints as numbers when exact, else as strings. */
const jsonValue = (_key: string, v: unknown): unknown =>
  typeof v === 'bigint' ? (v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v.toString()) : v;

const utf8 = new TextEncoder();

/** Read-only SQL over `streams`; each row is one UTF-8 JSON object keyed by column name. 441 if rejected. */
export async function* sqlQuery(backend: Backend, req: SQLQueryParams): AsyncGenerator<SQLQueryResponse> {
  if (req.params.length > MAX_METADATA_ENTRIES) {
    throw new DbError(441, `SQLQuery: ${req.params.length} parameters, at most ${MAX_METADATA_ENTRIES} allowed`);
  }
  const rows = await backend.sql(req.query, req.params);
  for (const part of slices(rows, LIST_BATCH)) {
    yield { SQLQueryRow: part.map((r) => utf8.encode(JSON.stringify(r, jsonValue))) };
  }
}

/**
 * The entry point of the user API (btrdb-python's `BTrDB` connection object), over any Backend:
 * the embedded Database or a remote server. It finds and creates streams, lists collections and
 * answers metadata questions; data lives on the Stream and StreamSet objects it returns.
 */
import { DbError } from '../core/errors.ts';
import type { StreamDescriptor, Version } from '../core/types.ts';
import { isStreamId, newStreamId, parseStreamId } from '../core/uuid.ts';
import type { Backend, MetaFilter, ServerInfo } from '../db/backend.ts';
import { type AnnotationValue, encodeAnnotations } from './annotations.ts';
import { Stream } from './stream.ts';
import { StreamSet } from './stream-set.ts';

export interface CreateOptions {
  /** The new stream's uuid (default: a random v4 uuid). */
  readonly uuid?: string;
  readonly collection: string;
  /** Tags: `name`, `unit`, `ingress`, `distiller` only (408 otherwise). */
  readonly tags?: Readonly<Record<string, string>>;
  /** Annotations; non-string values are JSON-encoded as by `Stream.update`. */
  readonly annotations?: Readonly<Record<string, AnnotationValue>>;
  /** Store NaN/±Inf instead of rejecting them with 425 (ArborDB extension; default false). */
  readonly allowNonFinite?: boolean;
}

export interface StreamsOptions {
  /** One version per identifier: the StreamSet is pinned to them. */
  readonly versions?: readonly number[];
}

export interface LookupOptions {
  /** Match the collection as a prefix (default true) or exactly. */
  readonly isPrefix?: boolean;
  /** Tag filter: a string must equal the tag's value; null means the tag must be present. */
  readonly tags?: MetaFilter;
  /** Annotation filter, as for tags (values compared as stored strings). */
  readonly annotations?: MetaFilter;
}

/** Escape LIKE wildcards so that `prefix%` is a plain string prefix. */
const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class Connection {
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** The backend this connection talks to. */
  get backend(): Backend {
    return this.#backend;
  }

  /** Server version, build and proxy endpoints. */
  info(): Promise<ServerInfo> {
    return this.#backend.info();
  }

  /**
   * Create a stream. 407 bad collection, 408/409 bad tag or annotation, 417 uuid in use, 418 another
   * live stream has this collection + tags, 429 uuid of an obliterated stream.
   */
  async create(opts: CreateOptions): Promise<Stream> {
    const id = opts.uuid === undefined ? newStreamId() : parseStreamId(opts.uuid);
    const descriptor = await this.#backend.create({
      id,
      collection: opts.collection,
      tags: opts.tags ?? {},
      annotations: encodeAnnotations(opts.annotations ?? {}),
      ...(opts.allowNonFinite === undefined ? {} : { allowNonFinite: opts.allowNonFinite }),
    });
    return new Stream(this.#backend, id, descriptor);
  }

  /** A handle on stream `uuid`, without checking that it exists (use `exists()`). 438 if not a uuid. */
  streamFromUuid(uuid: string): Stream {
    return new Stream(this.#backend, uuid);
  }

  /**
   * A StreamSet from uuids and/or `collection/name` strings (the last "/" separates the name; the
   * collection must match exactly and exactly one live stream must carry that name: 404 if none,
   * 418 if several). A uuid must name an existing stream (404). A final options argument may give
   * `versions` (one per identifier) to pin the set to.
   */
  async streams(...args: [...string[], StreamsOptions] | string[]): Promise<StreamSet> {
    const last = args[args.length - 1];
    const opts: StreamsOptions = typeof last === 'object' ? last : {};
    const ids = (typeof last === 'object' ? args.slice(0, -1) : args) as string[];
    if (opts.versions !== undefined && opts.versions.length !== ids.length) {
      throw new DbError(438, `streams: ${ids.length} identifiers but ${opts.versions.length} versions`);
    }
    const found: Stream[] = [];
    for (const ident of ids) found.push(await this.#resolve(ident));
    const set = new StreamSet(found);
    if (opts.versions !== undefined) {
      const pins = new Map(found.map((s, i) => [s.uuid, opts.versions![i]! as Version]));
      await set.pinVersions(pins);
    }
    return set;
  }

  async #resolve(ident: string): Promise<Stream> {
    const text = ident.trim();
    if (isStreamId(text.toLowerCase()) || /^[0-9a-fA-F]{32}$/.test(text)) {
      return new Stream(this.#backend, text).refresh();
    }
    const slash = text.lastIndexOf('/');
    if (slash <= 0 || slash === text.length - 1) {
      throw new DbError(438, `cannot identify a stream by ${JSON.stringify(ident)}: give a uuid or "collection/name"`);
    }
    const collection = text.slice(0, slash);
    const name = text.slice(slash + 1);
    const hits = await this.#backend.lookupStreams({ collection, isPrefix: false, tags: { name } });
    if (hits.length === 0)
      throw new DbError(404, `no stream named ${JSON.stringify(name)} in collection ${JSON.stringify(collection)}`);
    if (hits.length > 1) {
      throw new DbError(
        418,
        `${hits.length} streams are named ${JSON.stringify(name)} in collection ${JSON.stringify(collection)}`,
      );
    }
    return new Stream(this.#backend, hits[0]!.id, hits[0]!);
  }

  /**
   * Streams whose collection starts with (or, with `isPrefix: false`, equals) `collection` —
   * default '' = every stream — and that match all tag and annotation filters.
   */
  async streamsInCollection(collection = '', opts: LookupOptions = {}): Promise<Stream[]> {
    const found: StreamDescriptor[] = await this.#backend.lookupStreams({
      collection,
      isPrefix: opts.isPrefix ?? true,
      ...(opts.tags === undefined ? {} : { tags: opts.tags }),
      ...(opts.annotations === undefined ? {} : { annotations: opts.annotations }),
    });
    return found.map((d) => new Stream(this.#backend, d.id, d));
  }

  /** Collections with at least one live stream, starting with `prefix`, sorted. */
  listCollections(prefix = ''): Promise<string[]> {
    return this.#backend.listCollections(prefix);
  }

  /** Distinct annotation keys of the streams under collection prefix `collection` (sorted). */
  listUniqueAnnotations(collection?: string): Promise<string[]> {
    return this.#distinct('skeys(annotations)', 'annotations', collection);
  }

  /** Distinct stream names under collection prefix `collection` (sorted). */
  listUniqueNames(collection?: string): Promise<string[]> {
    return this.#distinct('name', 'name', collection);
  }

  /** Distinct units under collection prefix `collection` (sorted). */
  listUniqueUnits(collection?: string): Promise<string[]> {
    return this.#distinct('unit', 'unit', collection);
  }

  /** btrdb-python's SQL (guide §4.12), with the prefix's LIKE wildcards escaped. */
  async #distinct(expr: string, column: string, collection: string | undefined): Promise<string[]> {
    const base = `select distinct(${expr}) as ${column} from streams`;
    const rows =
      collection === undefined
        ? await this.#backend.sql(base, [])
        : await this.#backend.sql(`${base} where collection like $1`, [likePrefix(collection)]);
    const out = rows.map((r) => r[column]).filter((v): v is string => typeof v === 'string');
    return out.sort();
  }

  /** A read-only SQL query over the `streams` table; `$1…` bind `params`. Rows as objects. 441 if rejected. */
  query(sql: string, params: readonly string[] = []): Promise<Record<string, unknown>[]> {
    return this.#backend.sql(sql, params);
  }

  /** How many streams under `prefix` use each tag key and each annotation key. */
  collectionMetadata(prefix = ''): Promise<{ tags: Record<string, number>; annotations: Record<string, number> }> {
    return this.#backend.metadataUsage(prefix);
  }

  /** Close the backend. Handles obtained from this connection must not be used afterwards. */
  close(): Promise<void> {
    return this.#backend.close();
  }
}

/** A Connection over a Backend (the package's `open()` and `connect()` build on this). */
export const connectionOver = (backend: Backend): Connection => new Connection(backend);

/**
 * `Database` is the name the user API is specified under (btrdb-python's connection object);
 * `Connection` stays for existing code. One class, two names: `instanceof` works with either.
 */
export const Database = Connection;
export type Database = Connection;

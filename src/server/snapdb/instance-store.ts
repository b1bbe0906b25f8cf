/**
 * Database instances and point IDs on top of the Database (docs/protocols/snapdb.md §"Mapping").
 *
 * An instance NAME is the collection `snapdb/NAME`; its point P is the stream of that collection
 * whose `name` tag is P in decimal (no leading zeros). The stream is created on the first write of
 * P (random UUID, flags column, non-finite values allowed, annotation `snapdb_point_id`). Streams
 * made by other APIs in that collection with a decimal `name` tag are served as points too.
 * Instance names are matched case-insensitively and listed upper-case (the client upper-cases).
 */
import { DbError } from '../../core/errors.ts';
import type { StreamId } from '../../core/types.ts';
import { newStreamId } from '../../core/uuid.ts';
import type { Database } from '../../db/database.ts';

export const COLLECTION_PREFIX = 'snapdb/';
const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^(0|[1-9]\d{0,19})$/;

/** A point ID parsed from a `name` tag, or null when the tag is not a u64 in canonical decimal. */
export function pointIdOfName(name: string | undefined): bigint | null {
  if (name === undefined || !DECIMAL.test(name)) return null;
  const v = BigInt(name);
  return v <= U64_MAX ? v : null;
}

export class InstanceStore {
  /** Upper-cased instance name → its points (point ID → stream). */
  private readonly points = new Map<string, Map<bigint, StreamId>>();
  /** Serialises stream creation per instance, so two connections never create a point twice. */
  private readonly creating = new Map<string, Promise<unknown>>();

  /** `defaults`: instances listed even before they hold any point (e.g. PPA). */
  constructor(
    private readonly db: Database,
    private readonly defaults: readonly string[],
  ) {}

  static collectionOf(instance: string): string {
    return `${COLLECTION_PREFIX}${instance.toUpperCase()}`;
  }

  /** Every instance: the defaults and each existing `snapdb/*` collection; upper-case, sorted, defaults first. */
  async list(): Promise<string[]> {
    const names = [...this.defaults.map((d) => d.toUpperCase())];
    const seen = new Set(names);
    for (const c of await this.db.listCollections(COLLECTION_PREFIX)) {
      if (!c.startsWith(COLLECTION_PREFIX)) continue;
      const n = c.slice(COLLECTION_PREFIX.length).toUpperCase();
      if (n !== '' && !seen.has(n)) {
        seen.add(n);
        names.push(n);
      }
    }
    return names;
  }

  /** The instance's canonical (upper-case) name, or null when it does not exist. */
  async find(name: string): Promise<string | null> {
    const want = name.trim().toUpperCase();
    return (await this.list()).includes(want) ? want : null;
  }

  /** Re-read the instance's points from the catalog (streams made elsewhere become visible). */
  async refresh(instance: string): Promise<Map<bigint, StreamId>> {
    const streams = await this.db.lookupStreams({ collection: InstanceStore.collectionOf(instance), isPrefix: false });
    const map = new Map<bigint, StreamId>();
    for (const s of streams) {
      const id = pointIdOfName(s.tags.name);
      if (id === null) continue;
      const prev = map.get(id);
      // Two streams named alike (made through another API): the smaller UUID wins, consistently.
      if (prev === undefined || s.id < prev) map.set(id, s.id);
    }
    this.points.set(instance, map);
    return map;
  }

  async pointsOf(instance: string): Promise<Map<bigint, StreamId>> {
    return this.points.get(instance) ?? (await this.refresh(instance));
  }

  /** Streams of these point IDs, creating the missing ones. */
  async streamsFor(instance: string, ids: Iterable<bigint>): Promise<Map<bigint, StreamId>> {
    const out = new Map<bigint, StreamId>();
    let missing: bigint[] = [];
    let known = await this.pointsOf(instance);
    for (const id of ids) {
      const s = known.get(id);
      if (s === undefined) missing.push(id);
      else out.set(id, s);
    }
    if (missing.length === 0) return out;
    const prior = this.creating.get(instance) ?? Promise.resolve();
    const run = prior.then(async () => {
      known = await this.refresh(instance);
      const still = missing.filter((id) => !known.has(id));
      for (const id of still) {
        const created = await this.db.create({
          id: newStreamId(),
          collection: InstanceStore.collectionOf(instance),
          tags: { name: id.toString(), unit: '' },
          annotations: { snapdb_point_id: id.toString(), snapdb_instance: instance },
          allowNonFinite: true,
        });
        known.set(id, created.id);
      }
    });
    this.creating.set(
      instance,
      run.catch(() => undefined),
    );
    await run;
    for (const id of missing) {
      const s = known.get(id);
      if (s === undefined) throw new DbError(500, `point ${id} of instance ${instance} could not be created`);
      out.set(id, s);
    }
    missing = [];
    return out;
  }
}

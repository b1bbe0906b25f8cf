/**
 * The streams an OpenPMU log goes into: one per quantity (magnitude, frequency, angle) in one
 * collection, named for the quantity, with its unit, `ingress=openpmu`, and the station and
 * channel as annotations. Importing more logs of the same station and channel appends to them.
 */
import type { Connection, Stream } from '../../client/index.ts';
import { DbError } from '../../core/errors.ts';
import { PMU_QUANTITIES } from './openpmu-log.ts';

export interface PmuStream {
  readonly stream: Stream;
  /** True when this call created it. */
  readonly created: boolean;
}

/**
 * The three streams of `station`/`channel` in `collection`, in {@link PMU_QUANTITIES} order,
 * creating the missing ones. 418 when the collection already holds a quantity of another
 * station or channel (their names would collide).
 */
export async function openPmuStreams(
  conn: Connection,
  collection: string,
  station: string,
  channel: string,
): Promise<PmuStream[]> {
  const found: (Stream | undefined)[] = [];
  for (const q of PMU_QUANTITIES) {
    const [existing] = await conn.streamsInCollection(collection, { isPrefix: false, tags: { name: q.name } });
    const a = existing?.descriptor?.annotations;
    if (a !== undefined && (a.station !== station || a.channel !== channel)) {
      throw new DbError(
        418,
        `${collection}/${q.name} holds station/channel ${a.station}/${a.channel}, not ${station}/${channel}: use another --collection`,
      );
    }
    found.push(existing);
  }
  // Check all three before creating any, so a refused import creates nothing.
  const out: PmuStream[] = [];
  for (const [k, q] of PMU_QUANTITIES.entries()) {
    const existing = found[k];
    out.push(
      existing !== undefined
        ? { stream: existing, created: false }
        : {
            stream: await conn.create({
              collection,
              tags: { name: q.name, unit: q.unit, ingress: 'openpmu' },
              annotations: { station, channel, source: 'openpmu' },
            }),
            created: true,
          },
    );
  }
  return out;
}

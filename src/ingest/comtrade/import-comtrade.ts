/**
 * Import one COMTRADE record through the client API (an embedded database or a remote server):
 * read and validate the whole record first, check the target collection, then create the missing
 * streams and insert every channel's points.
 *
 * Re-importing the same record appends to the same streams (found by collection + name, and
 * checked to hold the same station and channel: 418 otherwise); with merge policy `replace` or
 * `equal` that stores each point once, which is also how an import interrupted mid-insert is
 * finished.
 */
import type { Connection, MergePolicy, Stream } from '../../client/index.ts';
import { DbError } from '../../core/errors.ts';
import { type ComtradeRecord, type RecordOptions, readComtrade } from './comtrade-record.ts';
import { type ChannelStream, channelStreams, comtradeCollection, type StreamOptions } from './comtrade-streams.ts';

/** Points per insert call. */
export const COMTRADE_BATCH_POINTS = 500_000;

export interface ComtradeImportOptions extends RecordOptions, StreamOptions {
  /** Target collection (default `comtrade/<station>`). */
  readonly collection?: string;
  readonly merge?: MergePolicy;
  /** Called after each insert with points done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ComtradeStreamReport {
  readonly uuid: string;
  readonly label: string;
  readonly points: number;
  readonly created: boolean;
  readonly missing: number;
}

export interface ComtradeImportReport {
  readonly record: ComtradeRecord;
  readonly collection: string;
  readonly streams: readonly ComtradeStreamReport[];
  readonly points: number;
  readonly parseMs: number;
  readonly insertMs: number;
}

async function existing(conn: Connection, collection: string, plan: ChannelStream): Promise<Stream | undefined> {
  const found = await conn.streamsInCollection(collection, { isPrefix: false, tags: { name: plan.name } });
  const s = found[0];
  if (s === undefined) return undefined;
  const a = s.descriptor?.annotations ?? (await s.refresh()).descriptor?.annotations ?? {};
  if (a.station !== plan.annotations.station || a.channel !== plan.annotations.channel) {
    throw new DbError(
      418,
      `${collection}/${plan.name} holds station ${JSON.stringify(a.station)} channel ${JSON.stringify(a.channel)}, ` +
        `not ${JSON.stringify(plan.annotations.station)} ${JSON.stringify(plan.annotations.channel)}: use another --collection`,
    );
  }
  return s;
}

/** Read `file` (.cfg/.dat/.cff) and import it (see the module doc). */
export async function importComtrade(
  conn: Connection,
  file: string,
  o: ComtradeImportOptions = {},
): Promise<ComtradeImportReport> {
  const t0 = performance.now();
  const record = readComtrade(file, o);
  const plans = channelStreams(record, o);
  const parseMs = performance.now() - t0;
  const collection = o.collection ?? comtradeCollection(record.cfg.station);
  // Look every stream up before creating any: a refused import creates nothing.
  const found: (Stream | undefined)[] = [];
  for (const p of plans) found.push(await existing(conn, collection, p));
  const t1 = performance.now();
  const streams: { stream: Stream; created: boolean }[] = [];
  for (const [k, p] of plans.entries()) {
    const s = found[k];
    streams.push(
      s !== undefined
        ? { stream: s, created: false }
        : {
            stream: await conn.create({
              collection,
              tags: { name: p.name, ...(p.unit === '' ? {} : { unit: p.unit }), ingress: 'comtrade' },
              annotations: p.annotations,
              allowNonFinite: o.missing === 'nan',
            }),
            created: true,
          },
    );
  }
  const total = plans.reduce((n, p) => n + p.times.length, 0);
  let done = 0;
  for (const [k, p] of plans.entries()) {
    const id = streams[k]!.stream.uuid;
    for (let i = 0; i < p.times.length; i += COMTRADE_BATCH_POINTS) {
      const j = Math.min(p.times.length, i + COMTRADE_BATCH_POINTS);
      await conn.backend.insert(
        id,
        { times: p.times.subarray(i, j), values: p.values.subarray(i, j) },
        o.merge ?? 'never',
      );
      done += j - i;
      o.onProgress?.(done, total);
    }
  }
  return {
    record,
    collection,
    streams: plans.map((p, k) => ({
      uuid: streams[k]!.stream.uuid,
      label: `${collection}/${p.name}`,
      points: p.times.length,
      created: streams[k]!.created,
      missing: p.missing,
    })),
    points: total,
    parseMs,
    insertMs: performance.now() - t1,
  };
}

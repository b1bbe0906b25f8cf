/** `arbor create` — create a stream and print its uuid. */
import type { Connection } from '../client/index.ts';
import { connectionOver } from '../client/index.ts';
import { openDatabase } from '../db/database.ts';
import { dataDir, flag, has, type Parsed, parseArgs } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `arbor create — create a stream

Creates an empty stream in a collection and prints its uuid. A stream is identified by its
uuid, or by "collection/name" when exactly one stream of the collection has that name.

Usage: arbor create --collection C --name N [--unit U] [--tag k=v]... [--annotation k=v]...
                    [--uuid U] [--allow-nan] [--data DIR]

  --collection C      the collection, e.g. grid/substation1/pmu3 ("/" is a convention only)
  --name N            the name tag
  --unit U            the unit tag (e.g. V, A, Hz, deg)
  --tag k=v           another tag: ingress or distiller (tags are BTrDB's fixed set)
  --annotation k=v    free-form metadata; repeat for several
  --uuid U            use this uuid instead of a random one
  --allow-nan         store NaN/±Inf values instead of rejecting them (425)
  --data DIR          data directory (default $ARBOR_DATA or ./data)

Examples:
  arbor create --collection grid/sub1/pmu3 --name VPHM_A --unit V --annotation phase=A
  arbor create --collection lab/test --name noise --allow-nan --tag ingress=scope
  uuid=$(arbor create --collection demo --name x) && arbor info "$uuid"
`;

/** `k=v` flags as a record (the first `=` splits; the value may be empty); `what` names the flag in errors. */
export function parsePairs(items: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${what} needs key=value, got ${JSON.stringify(item)}`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** `k=v` filters; a bare `k` means "the key is present with any value" (null). */
export function parseFilters(items: readonly string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new UsageError(`a filter needs key or key=value, got ${JSON.stringify(item)}`);
    if (eq < 0) out[item] = null;
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export interface NewStreamOptions {
  readonly collection: string;
  readonly tags: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly uuid?: string;
  readonly allowNonFinite: boolean;
}

/** The stream options given by --collection, --name, --unit, --tag, --annotation, --uuid, --allow-nan. */
export function newStreamOptions(p: Parsed): NewStreamOptions {
  const collection = flag(p, 'collection');
  const name = flag(p, 'name');
  if (collection === undefined) throw new UsageError('--collection is required');
  if (name === undefined) throw new UsageError('--name is required');
  const tags: Record<string, string> = { ...parsePairs(p.flags.get('tag') ?? [], 'tag'), name };
  const unit = flag(p, 'unit');
  if (unit !== undefined) tags.unit = unit;
  const uuid = flag(p, 'uuid');
  return {
    collection,
    tags,
    annotations: parsePairs(p.flags.get('annotation') ?? [], 'annotation'),
    ...(uuid === undefined ? {} : { uuid }),
    allowNonFinite: has(p, 'allow-nan'),
  };
}

/** The flags shared by `create` and `import --create`. */
export const NEW_STREAM_FLAGS = {
  collection: { type: 'string' },
  name: { type: 'string' },
  unit: { type: 'string' },
  tag: { type: 'list' },
  annotation: { type: 'list' },
  uuid: { type: 'string' },
  'allow-nan': { type: 'boolean' },
} as const;

/** Create the stream; returns its uuid. */
export async function createStream(conn: Connection, o: NewStreamOptions): Promise<string> {
  const s = await conn.create({
    collection: o.collection,
    tags: o.tags,
    annotations: o.annotations,
    allowNonFinite: o.allowNonFinite,
    ...(o.uuid === undefined ? {} : { uuid: o.uuid }),
  });
  return s.uuid;
}

export async function createCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, { ...NEW_STREAM_FLAGS, data: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (has(p, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  if (p.positional.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(p.positional[0])}`);
  const opts = newStreamOptions(p);
  const db = await openDatabase(dataDir(p), { background: false });
  try {
    process.stdout.write(`${await createStream(connectionOver(db), opts)}\n`);
  } finally {
    await db.close();
  }
}

/**
 * The version manifest (docs/format/manifest.md): an append-only RecordLog of JSON records that
 * says, for every stream, which versions exist and where each version's root is. Replaying it
 * from the start rebuilds the engine's in-memory view; a checkpoint rewrites the live state as
 * `state` records in a fresh segment so older segments can be dropped.
 *
 * Record kinds (one JSON object per record):
 *   {"k":"create","id":uuid,"v":10,"opt":{"nonFinite":bool}}
 *   {"k":"commit","id":uuid,"v":n,"root":Root|null,"wal":lsn,"at":ms}
 *   {"k":"prune","id":uuid,"keep":[v,…]}            versions not listed are gone (450)
 *   {"k":"obliterate","id":uuid}
 *   {"k":"state","id":uuid,"opt":…,"wal":lsn,"versions":[[v,Root|null,at],…]}   (checkpoint)
 *   {"k":"relocate","map":[[oldAddr,newAddr,newLen],…]}   (compaction moved blocks)
 * Root = {"a":addr,"l":len,"f":1 leaf|0 core,"n":count,"s":"<hex of min,max,mean,m2 as 4 LE f64>"}
 */
import { DbError } from '../core/errors.ts';
import type { StreamId, Version } from '../core/types.ts';
import { isStreamId } from '../core/uuid.ts';
import type { NodeRef } from './node-ref.ts';

export interface StreamOptions {
  /** Store NaN/±Inf values instead of rejecting them with 425 (openHistorian streams). */
  readonly allowNonFinite: boolean;
}

export interface VersionEntry {
  readonly version: Version;
  readonly root: NodeRef | null;
  /** Wall-clock ms when the version was committed. */
  readonly at: number;
}

export interface RootJson {
  a: number;
  l: number;
  f: 0 | 1;
  n: number;
  s: string;
}

export type ManifestRecord =
  | { k: 'create'; id: StreamId; v: number; opt: { nonFinite: boolean }; at: number }
  | { k: 'commit'; id: StreamId; v: number; root: RootJson | null; wal: number; at: number }
  | { k: 'prune'; id: StreamId; keep: number[] }
  | { k: 'obliterate'; id: StreamId }
  | {
      k: 'state';
      id: StreamId;
      opt: { nonFinite: boolean };
      wal: number;
      versions: [number, RootJson | null, number][];
    };

export function rootToJson(r: NodeRef | null): RootJson | null {
  if (r === null) return null;
  const f = new Float64Array([r.min, r.max, r.mean, r.m2]);
  return { a: r.addr, l: r.len, f: r.leaf ? 1 : 0, n: r.count, s: Buffer.from(f.buffer).toString('hex') };
}

export function rootFromJson(j: RootJson | null, where: string): NodeRef | null {
  if (j === null) return null;
  const b = Buffer.from(j.s, 'hex');
  if (b.length !== 32 || typeof j.a !== 'number' || typeof j.l !== 'number' || typeof j.n !== 'number') {
    throw new DbError(500, `manifest ${where}: malformed root ${JSON.stringify(j)}`);
  }
  const f = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + 32));
  return { addr: j.a, len: j.l, leaf: j.f === 1, count: j.n, min: f[0]!, max: f[1]!, mean: f[2]!, m2: f[3]! };
}

export const encodeRecord = (r: ManifestRecord): Uint8Array => Buffer.from(JSON.stringify(r), 'utf8');

export function decodeRecord(payload: Uint8Array, where: string): ManifestRecord {
  let r: unknown;
  try {
    r = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch (e) {
    throw new DbError(500, `manifest ${where}: record is not JSON`, { cause: e });
  }
  if (typeof r !== 'object' || r === null || !('k' in r) || !('id' in r)) {
    throw new DbError(500, `manifest ${where}: record without kind or stream id`);
  }
  const problem = recordShapeProblem(r as Record<string, unknown>);
  if (problem !== undefined) throw new DbError(500, `manifest ${where}: malformed ${String(r.k)} record: ${problem}`);
  return r as ManifestRecord;
}

// Shape checks of a decoded record, so that replaying a damaged (but checksummed) record is a
// DbError 500 naming it, never a TypeError from deep inside applyRecord.
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const isTime = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isOptions = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && typeof (v as { nonFinite?: unknown }).nonFinite === 'boolean';

function rootProblem(j: unknown): string | undefined {
  if (j === null) return undefined;
  if (typeof j !== 'object' || Array.isArray(j)) return 'root is not an object or null';
  const o = j as Record<string, unknown>;
  if (!isCount(o.a) || !isCount(o.l) || !isCount(o.n)) return 'root a/l/n are not integers ≥ 0';
  if (o.f !== 0 && o.f !== 1) return 'root f is not 0 or 1';
  if (typeof o.s !== 'string' || !/^[0-9a-f]{64}$/i.test(o.s)) return 'root s is not 64 hex digits';
  return undefined;
}

/**
 * One shape check per record kind. Keyed by ManifestRecord['k'], so a new kind does not compile
 * until it has a check (an unchecked kind would be rejected as unknown on replay).
 */
const SHAPE_CHECKS: { readonly [K in ManifestRecord['k']]: (r: Record<string, unknown>) => string | undefined } = {
  create: (r) => (isCount(r.v) && isOptions(r.opt) && isTime(r.at) ? undefined : 'needs v, opt.nonFinite and at'),
  commit: (r) => (isCount(r.v) && isCount(r.wal) && isTime(r.at) ? rootProblem(r.root) : 'needs v, wal and at'),
  prune: (r) => (Array.isArray(r.keep) && r.keep.every(isCount) ? undefined : 'keep is not a list of versions'),
  obliterate: () => undefined,
  state: (r) => {
    if (!isOptions(r.opt) || !isCount(r.wal) || !Array.isArray(r.versions)) return 'needs opt, wal and versions';
    for (const v of r.versions as unknown[]) {
      if (!Array.isArray(v) || v.length !== 3 || !isCount(v[0]) || !isTime(v[2]))
        return 'a version is not [v, root, at]';
      const p = rootProblem(v[1]);
      if (p !== undefined) return p;
    }
    return undefined;
  },
};

function recordShapeProblem(r: Record<string, unknown>): string | undefined {
  if (typeof r.id !== 'string' || !isStreamId(r.id)) return `id ${JSON.stringify(r.id)} is not a uuid`;
  const check =
    typeof r.k === 'string' && Object.hasOwn(SHAPE_CHECKS, r.k) ? SHAPE_CHECKS[r.k as ManifestRecord['k']] : undefined;
  return check === undefined ? `unknown kind ${JSON.stringify(r.k)}` : check(r);
}

/** The replayed state of one stream. */
export interface StreamRecord {
  readonly id: StreamId;
  options: StreamOptions;
  versions: VersionEntry[];
  /** WAL records of this stream with lsn < walBound are in the latest version's tree. */
  walBound: number;
}

/** Apply one manifest record to the replayed state. */
export function applyRecord(state: Map<StreamId, StreamRecord>, r: ManifestRecord, where: string): void {
  switch (r.k) {
    case 'create':
      state.set(r.id, {
        id: r.id,
        options: { allowNonFinite: r.opt.nonFinite },
        versions: [{ version: r.v as Version, root: null, at: r.at }],
        walBound: 0,
      });
      return;
    case 'commit': {
      const s = state.get(r.id);
      if (!s) return; // obliterated after this commit was written
      s.versions.push({ version: r.v as Version, root: rootFromJson(r.root, where), at: r.at });
      s.walBound = r.wal;
      return;
    }
    case 'prune': {
      const s = state.get(r.id);
      if (!s) return;
      const keep = new Set(r.keep);
      s.versions = s.versions.filter((v) => keep.has(v.version));
      return;
    }
    case 'obliterate':
      state.delete(r.id);
      return;
    case 'state':
      state.set(r.id, {
        id: r.id,
        options: { allowNonFinite: r.opt.nonFinite },
        versions: r.versions.map(([v, root, at]) => ({ version: v as Version, root: rootFromJson(root, where), at })),
        walBound: r.wal,
      });
      return;
  }
}

export function stateRecord(s: StreamRecord): ManifestRecord {
  return {
    k: 'state',
    id: s.id,
    opt: { nonFinite: s.options.allowNonFinite },
    wal: s.walBound,
    versions: s.versions.map((v) => [v.version, rootToJson(v.root), v.at]),
  };
}

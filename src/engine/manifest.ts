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
  return r as ManifestRecord;
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

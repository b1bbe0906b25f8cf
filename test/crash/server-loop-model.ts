/**
 * What the server kill loop's clients were told: the reference model the loop verifies against.
 *
 * Data lives in slabs: slab k of the run owns the times [t0(k), t0(k) + n µs) of one stream, and
 * its points carry values derived from (k, generation, i), so a read of the slab's range says
 * exactly which write it holds. Each slab and each stream's metadata has at most one write in
 * flight (its owning client is sequential). A write is recorded as acknowledged only after the
 * client's call resolved; a write whose call failed because the server was killed is *in doubt*:
 * after the restart the slab (or the metadata) must show either the state before it or the state
 * after it — never a mix — and whichever it shows is what the model keeps from then on.
 */
import type { PointBatch, StreamId } from '../../src/core/types.ts';

/** The first time of slab k: each slab has its own second, points are 1 µs apart. */
export const SLAB_BASE = 1_700_000_000_000_000_000n;
export const STEP = 1000n;
export const slabStart = (k: number): bigint => SLAB_BASE + BigInt(k) * 1_000_000_000n;
export const slabEnd = (k: number, n: number): bigint => slabStart(k) + BigInt(n) * STEP;

/** Value of point i of slab k written by generation `gen` (exact in a float64: k < 2^20, i < 2^16). */
export const slabValue = (k: number, gen: number, i: number): number => k * 65536 + i + gen * 0.125;

/** The state of a slab: absent (never landed, or deleted), or present as written by generation `gen`. */
export interface SlabState {
  readonly present: boolean;
  readonly gen: number;
}

export interface Slab {
  readonly k: number;
  readonly stream: StreamId;
  readonly n: number;
  state: SlabState;
  /** The state a write in flight would leave (null: nothing in flight). */
  pending: SlabState | null;
  /** Written (or in doubt) since the last verification. */
  touched: boolean;
}

export interface Meta {
  readonly collection: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly propertyVersion: number;
}

export interface StreamModel {
  readonly id: StreamId;
  /** null while the create is in flight or in doubt; the metadata once it is known to exist. */
  meta: Meta | null;
  /** Metadata a create or update in flight would leave. */
  pendingMeta: Meta | null;
  /** The create was never acknowledged and the stream was found absent: it must stay absent. */
  gone: boolean;
  readonly slabs: Slab[];
  touched: boolean;
}

/** The points of a slab as a batch in time order, for the state `s`. */
export function slabPoints(k: number, n: number, gen: number): PointBatch {
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  const t0 = slabStart(k);
  for (let i = 0; i < n; i++) {
    times[i] = t0 + BigInt(i) * STEP;
    values[i] = slabValue(k, gen, i);
  }
  return { times, values };
}

/** What a read of a slab's range showed, judged against the model. */
export interface SlabVerdict {
  /** The state found, when it is one the model allows. */
  readonly found: SlabState | null;
  readonly lost: number;
  readonly duplicated: number;
  /** Why the read is wrong (null when it is right). */
  readonly problem: string | null;
}

/** Which generation the points show, if they are exactly slab k's n points of one generation. */
function generationOf(k: number, n: number, got: PointBatch): number | null {
  if (got.times.length !== n) return null;
  const t0 = slabStart(k);
  const gen = (got.values[0]! - slabValue(k, 0, 0)) / 0.125;
  if (!Number.isInteger(gen) || gen < 0) return null;
  for (let i = 0; i < n; i++) {
    if (got.times[i] !== t0 + BigInt(i) * STEP || got.values[i] !== slabValue(k, gen, i)) return null;
  }
  return gen;
}

const same = (a: SlabState, b: SlabState): boolean => a.present === b.present && (!a.present || a.gen === b.gen);

/** Judge a read of slab `s`'s whole range against its acknowledged state and any write in doubt. */
export function judgeSlab(s: Slab, got: PointBatch): SlabVerdict {
  const count = got.times.length;
  const gen = count === 0 ? null : generationOf(s.k, s.n, got);
  const found: SlabState | null =
    count === 0 ? { present: false, gen: 0 } : gen === null ? null : { present: true, gen };
  const allowed = s.pending === null ? [s.state] : [s.state, s.pending];
  if (found !== null && allowed.some((a) => same(a, found))) return { found, lost: 0, duplicated: 0, problem: null };
  // Wrong. Count against the acknowledged state (what the client was promised).
  const want = s.state.present ? s.n : 0;
  const lost = Math.max(0, want - count);
  const duplicated = Math.max(0, count - (s.state.present || s.pending?.present ? s.n : 0));
  const what =
    found === null
      ? `${count} points that are not one whole generation of its ${s.n} points (half-made or corrupt)`
      : found.present
        ? `generation ${found.gen}`
        : 'no points';
  const expected = allowed.map((a) => (a.present ? `generation ${a.gen}` : 'no points')).join(' or ');
  return {
    found: null,
    lost,
    duplicated,
    problem: `slab ${s.k} (${s.n} points) of stream ${s.stream}: expected ${expected}${s.pending ? ' (a write was in doubt)' : ''}, found ${what}`,
  };
}

const sameRecord = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
};

export const sameMeta = (a: Meta, b: Meta): boolean =>
  a.collection === b.collection &&
  a.propertyVersion === b.propertyVersion &&
  sameRecord(a.tags, b.tags) &&
  sameRecord(a.annotations, b.annotations);

/** Judge a stream's metadata as found after the restart (null = the stream does not exist). */
export function judgeMeta(m: StreamModel, found: Meta | null): { meta: Meta | null; problem: string | null } {
  const allowed: (Meta | null)[] = [m.meta];
  if (m.pendingMeta !== null) allowed.push(m.pendingMeta);
  if (m.gone) allowed.splice(0, allowed.length, null);
  for (const a of allowed) {
    if (a === null ? found === null : found !== null && sameMeta(a, found)) return { meta: found, problem: null };
  }
  const show = (x: Meta | null) => (x === null ? 'absent' : JSON.stringify(x));
  return {
    meta: null,
    problem: `stream ${m.id}: expected ${allowed.map(show).join(' or ')}${m.pendingMeta ? ' (a change was in doubt)' : ''}, found ${show(found)}`,
  };
}

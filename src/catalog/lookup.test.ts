/**
 * Lookups against a plain in-test model: random streams, random metadata changes, random queries;
 * every answer must equal the model's (same streams, same order).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mulberry32 } from '../core/random.ts';
import { byteCompare, rejectsWith, sid } from './catalog-testing.ts';
import { openPgliteCatalog, type PgliteCatalog } from './pglite-catalog.ts';
import type { LookupQuery, StreamMeta } from './types.ts';

const COLLECTIONS = ['a', 'a/b', 'a/b/c', 'a/bc', 'ab', 'b/x', 'b/x/', 'ü/x', 'Z', 'a%b', 'a_b'];
const NAMES = ['n1', 'n2', 'n3', 'N1', 'é', ''];
const UNITS = ['V', 'A', 'deg', ''];
const ANN_KEYS = ['site', 'phase', 'owner', 'k.1'];
const ANN_VALUES = ['1', '2', 'north', ''];

function modelMatches(m: StreamMeta, q: LookupQuery): boolean {
  if (q.isPrefix ? !m.collection.startsWith(q.collection) : m.collection !== q.collection) return false;
  for (const [k, v] of Object.entries(q.tags ?? {})) {
    const have = m.tags[k];
    if (have === undefined || (v !== null && have !== v)) return false;
  }
  for (const [k, v] of Object.entries(q.annotations ?? {})) {
    const have = m.annotations[k];
    if (have === undefined || (v !== null && have !== v)) return false;
  }
  return true;
}

function modelOrder(a: StreamMeta, b: StreamMeta): number {
  return (
    byteCompare(a.collection, b.collection) ||
    byteCompare(a.tags.name ?? '', b.tags.name ?? '') ||
    byteCompare(a.id, b.id)
  );
}

let cat: PgliteCatalog;
const model = new Map<string, StreamMeta>();
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

before(async () => {
  cat = await openPgliteCatalog(null);
  const r = mulberry32(42);
  for (let i = 1; i <= 600; i++) {
    const tags: Record<string, string> = { name: pick(r, NAMES), unit: pick(r, UNITS) };
    if (r() < 0.3) tags.distiller = pick(r, ['d1', 'd2']);
    const annotations: Record<string, string> = {};
    for (const k of ANN_KEYS) if (r() < 0.4) annotations[k] = pick(r, ANN_VALUES);
    try {
      const m = await cat.create({ id: sid(i), collection: pick(r, COLLECTIONS), tags, annotations });
      model.set(m.id, m);
    } catch {
      // 418: same collection + tag set already taken; the model skips it too
    }
  }
  // churn: obliterate some, retag some, re-annotate some
  for (const m of [...model.values()]) {
    const x = r();
    if (x < 0.1) {
      await cat.obliterate(m.id);
      model.delete(m.id);
    } else if (x < 0.2) {
      try {
        const n = await cat.setTags(m.id, m.propertyVersion, { unit: pick(r, UNITS) }, pick(r, COLLECTIONS), []);
        model.set(n.id, n);
      } catch {
        // 418 collision: unchanged
      }
    } else if (x < 0.3) {
      const n = await cat.setAnnotations(m.id, m.propertyVersion, { [pick(r, ANN_KEYS)]: pick(r, ANN_VALUES) }, [
        pick(r, ANN_KEYS),
      ]);
      model.set(n.id, n);
    }
  }
});
after(async () => {
  await cat.close();
});

test('the model and the catalog hold the same streams', async () => {
  const all = await cat.lookup({ collection: '', isPrefix: true });
  assert.equal(all.length, model.size);
  assert.deepEqual(all, [...model.values()].sort(modelOrder));
  assert.ok(model.size > 300, `only ${model.size} streams survived`);
});

test('random lookups with prefix, tag and annotation filters answer what the model answers', async () => {
  const r = mulberry32(7);
  const prefixes = ['', 'a', 'a/', 'a/b', 'b/x/', 'ü', 'Z', 'a%', 'a_', 'nope', ...COLLECTIONS];
  let nonEmpty = 0;
  for (let i = 0; i < 400; i++) {
    const isPrefix = r() < 0.6;
    const q: {
      collection: string;
      isPrefix: boolean;
      tags?: Record<string, string | null>;
      annotations?: Record<string, string | null>;
    } = { collection: isPrefix ? pick(r, prefixes) : pick(r, COLLECTIONS), isPrefix };
    if (r() < 0.5) {
      q.tags = {};
      if (r() < 0.6) q.tags.name = pick(r, NAMES);
      if (r() < 0.3) q.tags.unit = r() < 0.2 ? null : pick(r, UNITS);
      if (r() < 0.3) q.tags.distiller = r() < 0.5 ? null : pick(r, ['d1', 'd2']);
    }
    if (r() < 0.5) {
      q.annotations = {};
      if (r() < 0.7) q.annotations[pick(r, ANN_KEYS)] = r() < 0.4 ? null : pick(r, ANN_VALUES);
      if (r() < 0.3) q.annotations[pick(r, ANN_KEYS)] = r() < 0.4 ? null : pick(r, ANN_VALUES);
    }
    const want = [...model.values()].filter((m) => modelMatches(m, q)).sort(modelOrder);
    const got = await cat.lookup(q);
    assert.deepEqual(got, want, `query ${JSON.stringify(q)}`);
    if (want.length > 0) nonEmpty++;
  }
  assert.ok(nonEmpty > 100, `only ${nonEmpty} queries had answers`);
});

test('listCollections and metadataUsage agree with the model for every prefix', async () => {
  for (const prefix of ['', 'a', 'a/b', 'b', 'ü', 'zz']) {
    const live = [...model.values()].filter((m) => m.collection.startsWith(prefix));
    const want = [...new Set(live.map((m) => m.collection))].sort(byteCompare);
    assert.deepEqual(await cat.listCollections(prefix), want, prefix);
    const tags: Record<string, number> = {};
    const annotations: Record<string, number> = {};
    for (const m of live) {
      for (const k of Object.keys(m.tags)) tags[k] = (tags[k] ?? 0) + 1;
      for (const k of Object.keys(m.annotations)) annotations[k] = (annotations[k] ?? 0) + 1;
    }
    const usage = await cat.metadataUsage(prefix);
    assert.deepEqual(usage.tags, tags, prefix);
    assert.deepEqual(usage.annotations, annotations, prefix);
  }
});

test('lookup rejects filters that no stream could ever have', async () => {
  await rejectsWith(cat.lookup({ collection: '', isPrefix: true, tags: { colour: 'red' } }), 408);
  await rejectsWith(cat.lookup({ collection: '', isPrefix: true, annotations: { '': null } }), 408);
  await rejectsWith(cat.lookup({ collection: '', isPrefix: true, tags: { name: 'a\0' } }), 409);
  await rejectsWith(cat.lookup({ collection: 'a\0', isPrefix: true }), 407);
  assert.deepEqual(await cat.lookup({ collection: '', isPrefix: false }), []);
});

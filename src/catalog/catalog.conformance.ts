/**
 * The Catalog contract, written once and run against every implementation: PGlite
 * (pglite-catalog.test.ts, set-metadata.test.ts, lookup.test.ts) and a real PostgreSQL server
 * (pg-server-catalog.test.ts). Test support only.
 *
 * `open` must return a catalog over an EMPTY database each time it is called: the tests use fixed
 * stream ids.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { mulberry32 } from '../core/random.ts';
import { byteCompare, rejectsWith, sid, stream } from './catalog-testing.ts';
import type { Catalog, LookupQuery, StreamMeta } from './types.ts';

export type OpenCatalog = () => Promise<Catalog>;

/** Every part of the contract. */
export function catalogConformance(kind: string, open: OpenCatalog): void {
  catalogBasicsConformance(kind, open);
  setMetadataConformance(kind, open);
  lookupModelConformance(kind, open);
}

/** create / createMany / get / obliterate / listCollections / metadataUsage / count / close. */
export function catalogBasicsConformance(kind: string, open: OpenCatalog): void {
  describe(`Catalog contract (${kind}): streams, codes and collections`, () => {
    let cat: Catalog;
    before(async () => {
      cat = await open();
    });
    after(async () => {
      await cat.close();
    });

    it('create returns property version 1 with name, unit and ingress tags even when unset', async () => {
      const m = await cat.create(stream(1, 'create/a', { name: 'volts' }, { site: 'north' }));
      assert.deepEqual(m, {
        id: sid(1),
        collection: 'create/a',
        tags: { name: 'volts', unit: '', ingress: '' },
        annotations: { site: 'north' },
        propertyVersion: 1,
      });
      assert.deepEqual(await cat.get(sid(1)), m);
      const d = await cat.create(stream(2, 'create/a', { name: 'x', unit: 'V', ingress: 'pmu', distiller: 'd' }));
      assert.deepEqual(d.tags, { name: 'x', unit: 'V', ingress: 'pmu', distiller: 'd' });
      assert.deepEqual(d.annotations, {});
    });

    it('create rejects bad collections with 407, bad keys with 408 and bad values with 409', async () => {
      await rejectsWith(cat.create(stream(10, '')), 407);
      await rejectsWith(cat.create(stream(10, 'x'.repeat(256))), 407);
      await rejectsWith(cat.create(stream(10, 'é'.repeat(128))), 407);
      await rejectsWith(cat.create(stream(10, 'a\0b')), 407);
      await rejectsWith(cat.create(stream(10, 'v', { colour: 'red' })), 408);
      await rejectsWith(cat.create(stream(10, 'v', { name: 'x' }, { '': 'y' })), 408);
      await rejectsWith(cat.create(stream(10, 'v', { name: 'x'.repeat(256) })), 409);
      await rejectsWith(cat.create(stream(10, 'v', { name: 'x' }, { k: 'a\0' })), 409);
      await rejectsWith(cat.create(stream(10, 'v', { name: 'x' }, { k: 'y'.repeat(256) })), 409);
      assert.equal(await cat.get(sid(10)), undefined);
      const ok = await cat.create(stream(10, 'é'.repeat(127), { name: 'é'.repeat(255) }, { ['k'.repeat(255)]: 'v' }));
      assert.equal(ok.tags.name, 'é'.repeat(255));
    });

    it('create of a live uuid is 417 and of an obliterated uuid is 429', async () => {
      await cat.create(stream(20, 'codes'));
      assert.match(await rejectsWith(cat.create(stream(20, 'codes')), 417), /already exists/);
      assert.match(await rejectsWith(cat.create(stream(20, 'other', { name: 'different' })), 417), /already exists/);
      await cat.obliterate(sid(20));
      assert.match(await rejectsWith(cat.create(stream(20, 'codes')), 429), new RegExp(sid(20)));
      assert.equal(await cat.isObliterated(sid(20)), true);
      assert.equal(await cat.isObliterated(sid(21)), false);
    });

    it('a second live stream with the same collection and tag set is 418', async () => {
      await cat.create(stream(30, 'amb', { name: 'n', unit: 'V' }));
      assert.match(await rejectsWith(cat.create(stream(31, 'amb', { name: 'n', unit: 'V' })), 418), /"amb"/);
      // unset name/unit/ingress equal '', so {name} and {name, unit: ''} are the same tag set
      await cat.create(stream(32, 'amb', { name: 'm' }));
      await rejectsWith(cat.create(stream(33, 'amb', { name: 'm', unit: '', ingress: '' })), 418);
      // a distiller, another collection or another value makes it a different stream
      await cat.create(stream(34, 'amb', { name: 'n', unit: 'V', distiller: '' }));
      await cat.create(stream(35, 'amb', { name: 'n', unit: 'V', distiller: 'd' }));
      await cat.create(stream(36, 'amb2', { name: 'n', unit: 'V' }));
      // once the first is obliterated its tag set is free again
      await cat.obliterate(sid(30));
      await cat.create(stream(37, 'amb', { name: 'n', unit: 'V' }));
    });

    it('get is undefined for unknown, malformed and obliterated ids; obliterate of those is 404', async () => {
      assert.equal(await cat.get(sid(40)), undefined);
      await rejectsWith(cat.obliterate(sid(40)), 404);
      await cat.create(stream(41, 'gone'));
      await cat.obliterate(sid(41));
      assert.equal(await cat.get(sid(41)), undefined);
      await rejectsWith(cat.obliterate(sid(41)), 404);
      assert.equal(await cat.get('not-a-uuid' as never), undefined);
    });

    it('obliterating the last stream of a collection removes it from listCollections', async () => {
      await cat.create(stream(50, 'lc/tmpfoo/', { name: 'a' }));
      await cat.create(stream(51, 'lc/tmpfoo/', { name: 'b' }));
      await cat.create(stream(52, 'lc/tmp', { name: 'c' }));
      await cat.create(stream(53, 'lc/other', { name: 'd' }));
      assert.deepEqual(await cat.listCollections('lc/tmp'), ['lc/tmp', 'lc/tmpfoo/']);
      assert.deepEqual(await cat.listCollections('lc/'), ['lc/other', 'lc/tmp', 'lc/tmpfoo/']);
      await cat.obliterate(sid(50));
      assert.deepEqual(await cat.listCollections('lc/tmp'), ['lc/tmp', 'lc/tmpfoo/']);
      await cat.obliterate(sid(51));
      assert.deepEqual(await cat.listCollections('lc/tmp'), ['lc/tmp']);
      assert.deepEqual(await cat.listCollections('lc/nothing'), []);
      assert.ok((await cat.listCollections('')).includes('lc/other'));
    });

    it('listCollections treats % and _ in the prefix as plain characters', async () => {
      await cat.create(stream(60, 'pct/a%b', { name: 'a' }));
      await cat.create(stream(61, 'pct/axb', { name: 'b' }));
      await cat.create(stream(62, 'pct/a_c', { name: 'c' }));
      assert.deepEqual(await cat.listCollections('pct/a%'), ['pct/a%b']);
      assert.deepEqual(await cat.listCollections('pct/a_'), ['pct/a_c']);
    });

    it('metadataUsage counts, per key, the live streams under the prefix that have it', async () => {
      await cat.create(stream(70, 'mu/a', { name: 'x' }, { site: '1', phase: 'A' }));
      await cat.create(stream(71, 'mu/a', { name: 'y', distiller: 'd' }, { site: '2' }));
      await cat.create(stream(72, 'mu/b', { name: 'z' }));
      await cat.create(stream(73, 'mu2', { name: 'w' }, { site: '3' }));
      assert.deepEqual(await cat.metadataUsage('mu/'), {
        tags: { name: 3, unit: 3, ingress: 3, distiller: 1 },
        annotations: { phase: 1, site: 2 },
      });
      assert.deepEqual(await cat.metadataUsage('mu'), {
        tags: { name: 4, unit: 4, ingress: 4, distiller: 1 },
        annotations: { phase: 1, site: 3 },
      });
      assert.deepEqual(await cat.metadataUsage('nothing-here'), { tags: {}, annotations: {} });
      await cat.obliterate(sid(70));
      assert.deepEqual((await cat.metadataUsage('mu/')).annotations, { site: 1 });
    });

    it('count and liveIds cover exactly the live streams', async () => {
      const ids = new Set(await cat.liveIds());
      assert.equal(ids.size, await cat.count());
      assert.ok(ids.has(sid(1)));
      assert.ok(!ids.has(sid(20)), 'obliterated');
    });

    it('createMany creates every stream or, on any error, none', async () => {
      const batch = Array.from({ length: 12_000 }, (_, i) => stream(100_000 + i, `bulk/${i % 7}`, { name: `b${i}` }));
      assert.equal(await cat.createMany(batch), 12_000);
      assert.equal((await cat.lookup({ collection: 'bulk/', isPrefix: true })).length, 12_000);
      const before = await cat.count();
      await rejectsWith(cat.createMany([stream(200_001, 'bulk2'), stream(20, 'bulk2', { name: 'x' })]), 429);
      await rejectsWith(cat.createMany([stream(200_002, 'bulk2'), stream(1, 'bulk2', { name: 'x' })]), 417);
      await rejectsWith(
        cat.createMany([stream(200_003, 'bulk2', { name: 'q' }), stream(200_004, 'bulk2', { name: 'q' })]),
        418,
      );
      await rejectsWith(cat.createMany([stream(200_005, 'bulk2'), stream(200_006, '')]), 407);
      assert.equal(await cat.count(), before);
      assert.deepEqual(await cat.listCollections('bulk2'), []);
    });

    it('a closed catalog rejects every call', async () => {
      const c = await open();
      await c.close();
      await c.close(); // idempotent
      await rejectsWith(c.get(sid(1)), 500);
      await rejectsWith(c.create(stream(1, 'x')), 500);
      await rejectsWith(c.sql('select 1', []), 500);
    });
  });
}

/** setAnnotations / setTags: upserts, removals, property versions, 404/407/408/409/418/423, races. */
export function setMetadataConformance(kind: string, open: OpenCatalog): void {
  describe(`Catalog contract (${kind}): setAnnotations and setTags`, () => {
    let cat: Catalog;
    before(async () => {
      cat = await open();
    });
    after(async () => {
      await cat.close();
    });

    it('setAnnotations upserts, removes null-valued changes and removals, and bumps the version', async () => {
      await cat.create(stream(1, 'ann', { name: 'a' }, { keep: '1', drop: '2', gone: '3' }));
      const m = await cat.setAnnotations(sid(1), 1, { keep: 'one', add: 'new', drop: null }, ['gone', 'never-there']);
      assert.deepEqual(m.annotations, { keep: 'one', add: 'new' });
      assert.equal(m.propertyVersion, 2);
      assert.deepEqual(await cat.get(sid(1)), m);
    });

    it('setAnnotations bumps the property version even when nothing changes', async () => {
      await cat.create(stream(2, 'ann', { name: 'b' }));
      assert.equal((await cat.setAnnotations(sid(2), 1, {}, [])).propertyVersion, 2);
      assert.equal((await cat.setAnnotations(sid(2), 2, {}, ['absent'])).propertyVersion, 3);
      const m = await cat.setAnnotations(sid(2), 3, { a: '1' }, ['a']);
      assert.deepEqual(m.annotations, {}, 'a removal wins over an upsert of the same key');
      assert.equal(m.propertyVersion, 4);
    });

    it('setAnnotations with a stale or future expected version is 423 and changes nothing', async () => {
      await cat.create(stream(3, 'ann', { name: 'c' }, { k: 'v' }));
      assert.match(
        await rejectsWith(cat.setAnnotations(sid(3), 0, { k: 'x' }, []), 423),
        /expected property version 0.*is 1/,
      );
      await rejectsWith(cat.setAnnotations(sid(3), 2, { k: 'x' }, []), 423);
      await rejectsWith(cat.setAnnotations(sid(3), 1.5, { k: 'x' }, []), 423);
      assert.deepEqual(await cat.get(sid(3)), {
        id: sid(3),
        collection: 'ann',
        tags: { name: 'c', unit: '', ingress: '' },
        annotations: { k: 'v' },
        propertyVersion: 1,
      });
    });

    it('setAnnotations checks keys (408), values (409) and existence (404)', async () => {
      await cat.create(stream(4, 'ann', { name: 'd' }));
      await rejectsWith(cat.setAnnotations(sid(4), 1, { '': 'x' }, []), 408);
      await rejectsWith(cat.setAnnotations(sid(4), 1, {}, ['a\0']), 408);
      await rejectsWith(cat.setAnnotations(sid(4), 1, { k: 'x'.repeat(256) }, []), 409);
      await rejectsWith(cat.setAnnotations(sid(999), 1, { k: 'x' }, []), 404);
      await cat.obliterate(sid(4));
      await rejectsWith(cat.setAnnotations(sid(4), 1, { k: 'x' }, []), 404);
    });

    it('two writers racing with the same expected version: exactly one wins, the other gets 423', async () => {
      await cat.create(stream(5, 'race', { name: 'r' }));
      for (let round = 1; round <= 20; round++) {
        const results = await Promise.allSettled([
          cat.setAnnotations(sid(5), round, { writer: 'A', round: String(round) }, []),
          cat.setAnnotations(sid(5), round, { writer: 'B', round: String(round) }, []),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        assert.equal(won.length, 1, `round ${round}`);
        assert.equal(lost.length, 1);
        assert.ok(lost[0]?.status === 'rejected' && isDbError(lost[0].reason, 423));
        const m = await cat.get(sid(5));
        assert.equal(m?.propertyVersion, round + 1);
        assert.equal(m?.annotations.round, String(round));
      }
    });

    it('of ten writers racing on tags and annotations with one version, exactly one wins', async () => {
      await cat.create(stream(6, 'race', { name: 'r6' }));
      const attempts = Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? cat.setAnnotations(sid(6), 1, { i: String(i) }, [])
          : cat.setTags(sid(6), 1, { unit: `u${i}` }, '', []),
      );
      const results = await Promise.allSettled(attempts);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(isDbError(r.reason, 423));
      assert.equal((await cat.get(sid(6)))?.propertyVersion, 2);
    });

    it('setTags upserts and removes tags, moves the collection and bumps the version', async () => {
      await cat.create(stream(10, 'tags/a', { name: 'n', unit: 'V', ingress: 'i' }, { k: 'v' }));
      let m = await cat.setTags(sid(10), 1, { unit: 'A', distiller: 'dd' }, '', []);
      assert.deepEqual(m.tags, { name: 'n', unit: 'A', ingress: 'i', distiller: 'dd' });
      assert.equal(m.collection, 'tags/a');
      assert.equal(m.propertyVersion, 2);
      m = await cat.setTags(sid(10), 2, { ingress: null }, 'tags/b', ['distiller']);
      assert.deepEqual(m.tags, { name: 'n', unit: 'A', ingress: '' });
      assert.equal(m.collection, 'tags/b');
      assert.deepEqual(m.annotations, { k: 'v' });
      assert.equal(m.propertyVersion, 3);
      m = await cat.setTags(sid(10), 3, { distiller: 'x' }, 'tags/b', []);
      m = await cat.setTags(sid(10), 4, { distiller: null }, '', []);
      assert.deepEqual(m.tags, { name: 'n', unit: 'A', ingress: '' });
      assert.equal((await cat.setTags(sid(10), 5, {}, '', [])).propertyVersion, 6);
      assert.deepEqual(await cat.listCollections('tags/'), ['tags/b']);
      assert.equal((await cat.lookup({ collection: 'tags/b', isPrefix: false, tags: { unit: 'A' } })).length, 1);
    });

    it('setTags checks collection (407), keys (408), values (409), existence (404) and version (423)', async () => {
      await cat.create(stream(11, 'tags/c', { name: 'n' }));
      await rejectsWith(cat.setTags(sid(11), 1, {}, 'x'.repeat(256), []), 407);
      await rejectsWith(cat.setTags(sid(11), 1, { colour: 'red' }, '', []), 408);
      await rejectsWith(cat.setTags(sid(11), 1, {}, '', ['colour']), 408);
      await rejectsWith(cat.setTags(sid(11), 1, { name: 'x'.repeat(256) }, '', []), 409);
      await rejectsWith(cat.setTags(sid(12), 1, { name: 'x' }, '', []), 404);
      await rejectsWith(cat.setTags(sid(11), 7, { name: 'x' }, '', []), 423);
      assert.equal((await cat.get(sid(11)))?.propertyVersion, 1);
    });

    it('setTags that would collide with another live stream is 418 and changes nothing', async () => {
      await cat.create(stream(20, 'tags/d', { name: 'p', unit: 'V' }));
      await cat.create(stream(21, 'tags/d', { name: 'q', unit: 'V' }));
      await cat.create(stream(22, 'tags/e', { name: 'p', unit: 'V' }));
      await rejectsWith(cat.setTags(sid(21), 1, { name: 'p' }, '', []), 418);
      await rejectsWith(cat.setTags(sid(22), 1, {}, 'tags/d', []), 418);
      assert.equal((await cat.get(sid(21)))?.tags.name, 'q');
      assert.equal((await cat.get(sid(22)))?.collection, 'tags/e');
      // setting a stream's tags to what they already are is not a collision with itself
      assert.equal((await cat.setTags(sid(20), 1, { name: 'p', unit: 'V' }, 'tags/d', [])).propertyVersion, 2);
    });
  });
}

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

/**
 * Lookups against a plain in-test model: random streams, random metadata changes, random queries;
 * every answer must equal the model's (same streams, same order).
 */
export function lookupModelConformance(kind: string, open: OpenCatalog): void {
  describe(`Catalog contract (${kind}): lookups equal a model's answers`, () => {
    let cat: Catalog;
    const model = new Map<string, StreamMeta>();
    const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

    before(async () => {
      cat = await open();
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

    it('the model and the catalog hold the same streams', async () => {
      const all = await cat.lookup({ collection: '', isPrefix: true });
      assert.equal(all.length, model.size);
      assert.deepEqual(all, [...model.values()].sort(modelOrder));
      assert.ok(model.size > 300, `only ${model.size} streams survived`);
    });

    it('random lookups with prefix, tag and annotation filters answer what the model answers', async () => {
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

    it('listCollections and metadataUsage agree with the model for every prefix', async () => {
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

    it('lookup rejects filters that no stream could ever have', async () => {
      await rejectsWith(cat.lookup({ collection: '', isPrefix: true, tags: { colour: 'red' } }), 408);
      await rejectsWith(cat.lookup({ collection: '', isPrefix: true, annotations: { '': null } }), 408);
      await rejectsWith(cat.lookup({ collection: '', isPrefix: true, tags: { name: 'a\0' } }), 409);
      await rejectsWith(cat.lookup({ collection: 'a\0', isPrefix: true }), 407);
      assert.deepEqual(await cat.lookup({ collection: '', isPrefix: false }), []);
    });
  });
}

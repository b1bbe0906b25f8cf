/** Conformance: Connection — info, create, lookups, collections (guide §4.10–4.11, §4.13). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Stream } from '../../src/client/stream.ts';
import type { Ctx } from './context.ts';
import { rejectsWith } from './helpers.ts';

const UUID_A = '0d22a53b-e2ef-4e0a-ab89-b2d48fb2592a';

export function connectionCases(ctx: Ctx): void {
  describe('connection', () => {
    test('info reports BTrDB protocol 5.x, a build string and proxy endpoints', async () => {
      const info = await ctx.conn.info();
      assert.equal(info.majorVersion, 5);
      assert.equal(typeof info.minorVersion, 'number');
      assert.equal(typeof info.build, 'string');
      assert.ok(Array.isArray(info.proxyEndpoints));
    });

    test('create stores collection, tags (ingress defaults to "") and annotations at property version 1', async () => {
      const collection = ctx.collection('create');
      const s = await ctx.conn.create({
        collection,
        tags: { name: 'L1MAG', unit: 'volts' },
        annotations: { owner: 'Salvatore', rating: 5, nested: { a: [1, 2] } },
      });
      for (const handle of [s, ctx.conn.streamFromUuid(s.uuid)]) {
        assert.equal(await handle.collection(), collection);
        assert.equal(await handle.name(), 'L1MAG');
        assert.equal(await handle.unit(), 'volts');
        assert.deepEqual(await handle.tags(), { name: 'L1MAG', unit: 'volts', ingress: '' });
        assert.deepEqual(await handle.annotations(), { owner: 'Salvatore', rating: '5', nested: '{"a":[1,2]}' });
        assert.deepEqual(await handle.decodedAnnotations(), { owner: 'Salvatore', rating: 5, nested: { a: [1, 2] } });
        assert.equal(await handle.propertyVersion(), 1);
      }
    });

    test('create with a given uuid uses it (any case) and without one makes a random uuid', async () => {
      const upper = crypto.randomUUID().toUpperCase();
      const a = await ctx.conn.create({ uuid: upper, collection: ctx.collection('uuid'), tags: { name: 'a' } });
      assert.equal(a.uuid, upper.toLowerCase());
      const b = await ctx.conn.create({ collection: ctx.collection('uuid'), tags: { name: 'b' } });
      assert.match(b.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.notEqual(a.uuid, b.uuid);
      assert.equal(await ctx.conn.streamFromUuid(b.uuid).exists(), true);
    });

    test('a new stream has a data version, no points and no earliest point', async () => {
      const s = await ctx.stream();
      assert.equal(typeof (await s.version()), 'number');
      assert.equal(await s.count(), 0);
      assert.equal(await s.count({ precise: true }), 0);
      assert.equal(await s.earliest(), null);
      assert.equal(await s.latest(), null);
    });

    test('streamFromUuid does not check existence; an unknown stream does not exist and reads fail with 404', async () => {
      const s = ctx.conn.streamFromUuid(crypto.randomUUID());
      assert.ok(s instanceof Stream);
      assert.equal(await s.exists(), false);
      await rejectsWith(() => s.version(), 404, 'version');
      await rejectsWith(() => s.tags(), 404, 'tags');
      await rejectsWith(() => s.valuesArray(0n, 10n), 404, 'values');
      await rejectsWith(() => s.alignedWindows(0n, 10n, 1), 404, 'alignedWindows');
      await rejectsWith(() => s.windows(0n, 10n, 1n), 404, 'windows');
      await rejectsWith(() => s.nearest(0n), 404, 'nearest');
      await rejectsWith(() => s.insert([[1n, 1]]), 404, 'insert');
      await rejectsWith(() => s.delete(0n, 10n), 404, 'delete');
      await rejectsWith(() => s.flush(), 404, 'flush');
      await rejectsWith(() => s.obliterate(), 404, 'obliterate');
      await rejectsWith(() => s.update({ annotations: { a: 'b' } }), 404, 'update');
    });

    test('streamFromUuid rejects a malformed uuid with 438', async () => {
      await rejectsWith(async () => ctx.conn.streamFromUuid('not-a-uuid'), 438);
    });

    test('create rejects a bad collection with 407: empty, over 255 bytes, NUL', async () => {
      for (const collection of ['', 'x'.repeat(256), 'a\u0000b']) {
        await rejectsWith(
          () => ctx.conn.create({ collection, tags: { name: 'x' } }),
          407,
          JSON.stringify(collection.slice(0, 8)),
        );
      }
      // 255 bytes is fine (multi-byte characters count as bytes).
      const ok = `${ctx.root}${'é'.repeat(100)}`;
      assert.ok(Buffer.byteLength(ok) <= 255);
      await ctx.conn.create({ collection: ok, tags: { name: 'x' } });
    });

    test('create rejects a tag key other than name, unit, ingress, distiller with 408', async () => {
      await rejectsWith(
        () => ctx.conn.create({ collection: ctx.collection('tag'), tags: { name: 'x', color: 'red' } }),
        408,
      );
    });

    test('create rejects a tag value over 255 characters with 409', async () => {
      await rejectsWith(
        () => ctx.conn.create({ collection: ctx.collection('tag'), tags: { name: 'x'.repeat(256) } }),
        409,
      );
    });

    test('create rejects an annotation value over 255 characters with 409', async () => {
      await rejectsWith(
        () =>
          ctx.conn.create({
            collection: ctx.collection('ann'),
            tags: { name: 'x' },
            annotations: { k: 'v'.repeat(256) },
          }),
        409,
      );
    });

    test('create with the uuid of a live stream fails with 417', async () => {
      const s = await ctx.stream();
      await rejectsWith(
        () => ctx.conn.create({ uuid: s.uuid, collection: ctx.collection('dup'), tags: { name: 'y' } }),
        417,
      );
    });

    test('create with the collection and tags of another live stream fails with 418', async () => {
      const collection = ctx.collection('ambiguous');
      await ctx.conn.create({ collection, tags: { name: 'x', unit: 'V' } });
      await rejectsWith(() => ctx.conn.create({ collection, tags: { name: 'x', unit: 'V' } }), 418);
      await ctx.conn.create({ collection, tags: { name: 'x', unit: 'A' } }); // different tags are fine
    });

    test('obliterate erases the stream: gone, 404 afterwards, its uuid cannot be reused (429), its collection unlisted', async () => {
      const collection = ctx.collection('oblit');
      const s = await ctx.conn.create({ collection, tags: { name: 'x' } });
      await s.insert([[1n, 1]]);
      assert.deepEqual(await ctx.conn.listCollections(collection), [collection]);
      await s.obliterate();
      assert.equal(await s.exists(), false);
      await rejectsWith(() => s.version(), 404);
      await rejectsWith(() => s.obliterate(), 404, 'second obliterate');
      await rejectsWith(() => ctx.conn.create({ uuid: s.uuid, collection, tags: { name: 'x' } }), 429);
      assert.deepEqual(await ctx.conn.listCollections(collection), []);
      // the collection + tags of an obliterated stream are free again
      await ctx.conn.create({ collection, tags: { name: 'x' } });
    });

    test('listCollections lists distinct collections by plain string prefix, sorted', async () => {
      const base = ctx.collection('list');
      const names = [`${base}/tmpfoo/`, `${base}/tmp`, `${base}/b[1]-x.y`, `${base}/a`];
      for (const c of names) await ctx.conn.create({ collection: c, tags: { name: 'x' } });
      await ctx.conn.create({ collection: `${base}/a`, tags: { name: 'y' } });
      assert.deepEqual(await ctx.conn.listCollections(base), [...names].sort());
      assert.deepEqual(await ctx.conn.listCollections(`${base}/tmp`), [`${base}/tmp`, `${base}/tmpfoo/`]);
      assert.deepEqual(await ctx.conn.listCollections(`${base}/zzz`), []);
      const all = await ctx.conn.listCollections();
      for (const c of names) assert.ok(all.includes(c), `${c} missing from the full listing`);
    });

    test('streamsInCollection matches a prefix by default and the exact collection with isPrefix false', async () => {
      const base = ctx.collection('lookup');
      const a = await ctx.conn.create({ collection: base, tags: { name: 'a' } });
      const b = await ctx.conn.create({ collection: `${base}/sub`, tags: { name: 'b' } });
      const ids = (list: readonly Stream[]): string[] => list.map((s) => s.uuid).sort();
      assert.deepEqual(ids(await ctx.conn.streamsInCollection(base)), [a.uuid, b.uuid].sort());
      assert.deepEqual(ids(await ctx.conn.streamsInCollection(base, { isPrefix: false })), [a.uuid]);
      const found = await ctx.conn.streamsInCollection(`${base}/sub`);
      assert.equal(found[0]?.descriptor?.collection, `${base}/sub`, 'descriptor cached from the lookup');
      const everything = await ctx.conn.streamsInCollection();
      assert.ok(ids(everything).includes(a.uuid));
    });

    test('streamsInCollection filters by tags and annotations; null means "key present"', async () => {
      const base = ctx.collection('lookupf');
      const v = await ctx.conn.create({
        collection: base,
        tags: { name: 'v', unit: 'volts' },
        annotations: { phase: 'A' },
      });
      const i = await ctx.conn.create({
        collection: base,
        tags: { name: 'i', unit: 'amps' },
        annotations: { phase: 'B', x: '1' },
      });
      const ids = async (opts: Parameters<typeof ctx.conn.streamsInCollection>[1]): Promise<string[]> =>
        (await ctx.conn.streamsInCollection(base, opts)).map((s) => s.uuid).sort();
      assert.deepEqual(await ids({ tags: { unit: 'volts' } }), [v.uuid]);
      assert.deepEqual(await ids({ annotations: { phase: 'B' } }), [i.uuid]);
      assert.deepEqual(await ids({ annotations: { x: null } }), [i.uuid]);
      assert.deepEqual(await ids({ tags: { unit: 'volts' }, annotations: { phase: 'B' } }), []);
      assert.deepEqual(await ids({ tags: { name: null } }), [v.uuid, i.uuid].sort());
    });

    test('streams() finds uuids and collection/name paths, in the order given', async () => {
      const collection = ctx.collection('streams');
      const a = await ctx.conn.create({ collection, tags: { name: 'alpha' } });
      const b = await ctx.conn.create({ collection, tags: { name: 'beta' } });
      const set = await ctx.conn.streams(b.uuid, `${collection}/alpha`, b.uuid.toUpperCase());
      assert.deepEqual(
        set.streams.map((s) => s.uuid),
        [b.uuid, a.uuid, b.uuid],
      );
      assert.equal(set.length, 3);
    });

    test('streams() fails with 404 for an unknown uuid or path, 418 for an ambiguous path, 438 for neither', async () => {
      const collection = ctx.collection('streamsx');
      await ctx.conn.create({ collection, tags: { name: 'dup', unit: 'V' } });
      await ctx.conn.create({ collection, tags: { name: 'dup', unit: 'A' } });
      await ctx.conn.create({ collection: `${collection}/deeper`, tags: { name: 'solo' } });
      await rejectsWith(() => ctx.conn.streams(crypto.randomUUID()), 404, 'unknown uuid');
      await rejectsWith(() => ctx.conn.streams(`${collection}/missing`), 404, 'unknown name');
      await rejectsWith(() => ctx.conn.streams(`${collection}/solo`), 404, 'path is exact, not a prefix');
      await rejectsWith(() => ctx.conn.streams(`${collection}/dup`), 418, 'two streams named dup');
      await rejectsWith(() => ctx.conn.streams('justaname'), 438, 'no slash');
      const found = await ctx.conn.streams(`${collection}/deeper/solo`);
      assert.equal(found.length, 1);
    });

    test('streams() with versions pins the set; a length mismatch fails with 438', async () => {
      const s = await ctx.stream();
      await s.insert([[1n, 1]]);
      const v1 = await s.version();
      await s.insert([[2n, 2]]);
      const set = await ctx.conn.streams(s.uuid, { versions: [v1] });
      assert.deepEqual(await set.versions(), new Map([[s.uuid, v1]]));
      const [only] = await set.values();
      assert.deepEqual([...only!.times], [1n]);
      await rejectsWith(() => ctx.conn.streams(s.uuid, { versions: [v1, v1] }), 438);
    });

    test('collectionMetadata counts tag and annotation keys of the streams under a prefix', async () => {
      const base = ctx.collection('usage');
      await ctx.conn.create({
        collection: `${base}/a`,
        tags: { name: 'x', unit: 'V' },
        annotations: { site: 'n', phase: 'A' },
      });
      await ctx.conn.create({ collection: `${base}/b`, tags: { name: 'y', unit: 'A' }, annotations: { site: 's' } });
      const usage = await ctx.conn.collectionMetadata(base);
      assert.equal(usage.tags.name, 2);
      assert.equal(usage.tags.unit, 2);
      assert.equal(usage.annotations.site, 2);
      assert.equal(usage.annotations.phase, 1);
      assert.equal(usage.annotations.nothere, undefined);
    });

    test('UUID_A-style handles compare by uuid text', () => {
      const s = ctx.conn.streamFromUuid(UUID_A.toUpperCase());
      assert.equal(s.uuid, UUID_A);
      assert.equal(String(s), `Stream(${UUID_A})`);
    });
  });
}

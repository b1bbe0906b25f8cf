/** Conformance: Stream.update and the SQL metadata queries (guide §4.11, §4.12). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Ctx } from './context.ts';
import { rejectsWith } from './helpers.ts';

export function metadataCases(ctx: Ctx): void {
  describe('metadata updates', () => {
    test('update upserts annotations, JSON-encodes non-strings and raises the property version', async () => {
      const s = await ctx.stream({ annotations: { keep: 'yes', change: 'old' } });
      const pv = await s.update({ annotations: { change: 'new', n: 42, flag: false } });
      assert.ok(pv > 1, `property version ${pv} after update`);
      const fresh = ctx.conn.streamFromUuid(s.uuid);
      assert.deepEqual(await fresh.annotations(), { keep: 'yes', change: 'new', n: '42', flag: 'false' });
      assert.equal(await fresh.propertyVersion(), pv);
      const again = await s.update({ annotations: { change: 'newer' } });
      assert.ok(again > pv);
    });

    test('update with replace removes the annotation keys not given; replacing with {} clears them and still bumps', async () => {
      const s = await ctx.stream({ annotations: { a: '1', b: '2' } });
      await s.update({ annotations: { a: '10' }, replace: true });
      assert.deepEqual(await ctx.conn.streamFromUuid(s.uuid).annotations(), { a: '10' });
      const before = await s.propertyVersion();
      const after = await s.update({ annotations: {}, replace: true });
      assert.ok(after > before);
      assert.deepEqual(await ctx.conn.streamFromUuid(s.uuid).annotations(), {});
    });

    test('update with replace removes the tag keys not given, bumping the property version once per call', async () => {
      // The model: with replace, the given tags are the whole set; name, unit and ingress always
      // exist (a removed one reads ''), any other tag (distiller) disappears when not given.
      const replaced = (tags: Readonly<Record<string, string>>): Record<string, string> => ({
        name: '',
        unit: '',
        ingress: '',
        ...tags,
      });
      const collection = ctx.collection('tagrep');
      const s = await ctx.conn.create({
        collection,
        tags: { name: 'x', unit: 'volts', ingress: 'pmu', distiller: 'd1' },
      });
      assert.deepEqual(await ctx.conn.streamFromUuid(s.uuid).tags(), {
        name: 'x',
        unit: 'volts',
        ingress: 'pmu',
        distiller: 'd1',
      });
      const steps: Record<string, string>[] = [
        { name: 'x', unit: 'kV', ingress: 'pmu' }, // distiller removed, unit changed
        { name: 'x', unit: 'kV' }, // ingress removed
        { name: 'x' }, // unit removed
        { name: 'x', distiller: 'd2' }, // a removed key can come back
      ];
      for (const tags of steps) {
        const before = await ctx.conn.streamFromUuid(s.uuid).propertyVersion();
        const pv = await s.update({ tags, replace: true });
        const fresh = ctx.conn.streamFromUuid(s.uuid);
        assert.equal(pv, before + 1, `one bump for ${JSON.stringify(tags)}`);
        assert.equal(await fresh.propertyVersion(), pv);
        assert.deepEqual(await fresh.tags(), replaced(tags), JSON.stringify(tags));
      }
    });

    test('update from a handle whose property version is stale fails with 423 and changes nothing', async () => {
      const s = await ctx.stream({ annotations: { a: '1' } });
      const other = ctx.conn.streamFromUuid(s.uuid);
      await other.update({ annotations: { a: 'other' } });
      await rejectsWith(() => s.update({ annotations: { a: 'mine' } }), 423);
      assert.deepEqual(await ctx.conn.streamFromUuid(s.uuid).annotations(), { a: 'other' });
      await s.refresh();
      await s.update({ annotations: { a: 'mine' } });
      assert.deepEqual(await ctx.conn.streamFromUuid(s.uuid).annotations(), { a: 'mine' });
    });

    test('update moves a stream to another collection and the old one leaves the listing', async () => {
      const from = ctx.collection('move');
      const to = ctx.collection('move');
      const s = await ctx.conn.create({ collection: from, tags: { name: 'x' } });
      await s.update({ collection: to });
      assert.equal(await s.collection(), to);
      assert.equal(await ctx.conn.streamFromUuid(s.uuid).collection(), to);
      assert.deepEqual(await ctx.conn.listCollections(from), []);
      assert.deepEqual(await ctx.conn.listCollections(to), [to]);
    });

    test('update upserts tags, keeps the others, and rejects a bad tag key with 408', async () => {
      const s = await ctx.stream({ name: 'x', unit: 'volts' });
      await s.update({ tags: { unit: 'kV' } });
      assert.deepEqual(await ctx.conn.streamFromUuid(s.uuid).tags(), { name: 'x', unit: 'kV', ingress: '' });
      await rejectsWith(() => s.update({ tags: { colour: 'red' } }), 408);
    });

    test('update of tags and annotations together applies both', async () => {
      const s = await ctx.stream({ name: 'x' });
      const pv = await s.update({ tags: { unit: 'amps' }, annotations: { site: 'north' } });
      const fresh = ctx.conn.streamFromUuid(s.uuid);
      assert.equal(await fresh.unit(), 'amps');
      assert.deepEqual(await fresh.annotations(), { site: 'north' });
      assert.equal(await fresh.propertyVersion(), pv);
    });

    test('update into the collection and tags of another live stream fails with 418', async () => {
      const collection = ctx.collection('upd418');
      await ctx.conn.create({ collection, tags: { name: 'x', unit: 'V' } });
      const s = await ctx.conn.create({ collection, tags: { name: 'y', unit: 'V' } });
      await rejectsWith(() => s.update({ tags: { name: 'x' } }), 418);
    });

    test('update with an annotation value over 255 characters fails with 409', async () => {
      const s = await ctx.stream();
      await rejectsWith(() => s.update({ annotations: { k: 'v'.repeat(256) } }), 409);
    });

    test('update with nothing to change fails with 438', async () => {
      const s = await ctx.stream();
      await rejectsWith(() => s.update({}), 438);
    });

    test('metadata updates do not change the data version', async () => {
      const s = await ctx.stream();
      const v = await s.version();
      await s.update({ annotations: { a: 'b' } });
      assert.equal(await s.version(), v);
    });
  });

  describe('SQL over metadata', () => {
    test('query binds $1 parameters and returns rows as objects keyed by column', async () => {
      const collection = ctx.collection('sql');
      const s = await ctx.conn.create({ collection, tags: { name: 'L1', unit: 'volts' }, annotations: { phase: 'A' } });
      const rows = await ctx.conn.query(
        'select uuid, collection, name, unit, ingress, property_version from streams where collection = $1',
        [collection],
      );
      assert.equal(rows.length, 1);
      const row = rows[0]!;
      assert.equal(String(row.uuid).toLowerCase(), s.uuid);
      assert.equal(row.collection, collection);
      assert.equal(row.name, 'L1');
      assert.equal(row.unit, 'volts');
      assert.equal(row.ingress, '');
      assert.equal(Number(row.property_version), 1);
    });

    test('query reads hstore annotations with -> and skeys', async () => {
      const collection = ctx.collection('sqlh');
      await ctx.conn.create({ collection, tags: { name: 'x' }, annotations: { phase: 'A', site: 'north' } });
      const rows = await ctx.conn.query(
        "select annotations -> 'phase' as phase from streams where collection = $1::text",
        [collection],
      );
      assert.deepEqual(rows, [{ phase: 'A' }]);
      const keys = await ctx.conn.query(
        'select skeys(annotations) as k from streams where collection = $1 order by 1',
        [collection],
      );
      assert.deepEqual(
        keys.map((r) => r.k),
        ['phase', 'site'],
      );
    });

    test('listUniqueNames, listUniqueUnits and listUniqueAnnotations answer distinct sorted values under a prefix', async () => {
      const base = ctx.collection('uniq');
      await ctx.conn.create({
        collection: `${base}/a`,
        tags: { name: 'L1', unit: 'volts' },
        annotations: { site: 'n' },
      });
      await ctx.conn.create({
        collection: `${base}/a`,
        tags: { name: 'L2', unit: 'volts' },
        annotations: { phase: 'B' },
      });
      await ctx.conn.create({ collection: `${base}/b`, tags: { name: 'L1', unit: 'amps' } });
      assert.deepEqual(await ctx.conn.listUniqueNames(base), ['L1', 'L2']);
      assert.deepEqual(await ctx.conn.listUniqueUnits(base), ['amps', 'volts']);
      assert.deepEqual(await ctx.conn.listUniqueAnnotations(base), ['phase', 'site']);
      assert.deepEqual(await ctx.conn.listUniqueUnits(`${base}/b`), ['amps']);
      assert.ok((await ctx.conn.listUniqueNames()).includes('L2'));
    });

    test('a collection prefix with _ or % is a plain prefix, not a LIKE pattern', async () => {
      const base = ctx.collection('like');
      await ctx.conn.create({ collection: `${base}/a_b`, tags: { name: 'under' } });
      await ctx.conn.create({ collection: `${base}/axb`, tags: { name: 'x' } });
      assert.deepEqual(await ctx.conn.listUniqueNames(`${base}/a_`), ['under']);
      assert.deepEqual(await ctx.conn.listUniqueNames(`${base}/%`), []);
    });

    test('hostile or invalid SQL is rejected with 441 and leaves the catalog intact', async () => {
      const s = await ctx.stream();
      const hostile = [
        'drop table streams',
        'delete from streams',
        "update streams set name = 'x'",
        "insert into streams (collection) values ('x')",
        'select 1; drop table streams',
        'select * from streams where',
        'create table evil (x int)',
      ];
      for (const sql of hostile) await rejectsWith(() => ctx.conn.query(sql), 441, sql);
      assert.equal(await ctx.conn.streamFromUuid(s.uuid).exists(), true);
      const rows = await ctx.conn.query('select count(*) as n from streams where uuid = $1::uuid', [s.uuid]);
      assert.equal(Number(rows[0]?.n), 1);
    });
  });
}

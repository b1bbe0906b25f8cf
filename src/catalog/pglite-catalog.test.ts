import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { rejectsWith, sid, stream } from './catalog-testing.ts';
import { openPgliteCatalog, type PgliteCatalog } from './pglite-catalog.ts';

let cat: PgliteCatalog;
before(async () => {
  cat = await openPgliteCatalog(null);
});
after(async () => {
  await cat.close();
});

test('create returns property version 1 with name, unit and ingress tags even when unset', async () => {
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

test('create rejects bad collections with 407, bad keys with 408 and bad values with 409', async () => {
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

test('create of a live uuid is 417 and of an obliterated uuid is 429', async () => {
  await cat.create(stream(20, 'codes'));
  assert.match(await rejectsWith(cat.create(stream(20, 'codes')), 417), /already exists/);
  assert.match(await rejectsWith(cat.create(stream(20, 'other', { name: 'different' })), 417), /already exists/);
  await cat.obliterate(sid(20));
  assert.match(await rejectsWith(cat.create(stream(20, 'codes')), 429), new RegExp(sid(20)));
  assert.equal(await cat.isObliterated(sid(20)), true);
  assert.equal(await cat.isObliterated(sid(21)), false);
});

test('a second live stream with the same collection and tag set is 418', async () => {
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

test('get is undefined for unknown, malformed and obliterated ids; obliterate of those is 404', async () => {
  assert.equal(await cat.get(sid(40)), undefined);
  await rejectsWith(cat.obliterate(sid(40)), 404);
  await cat.create(stream(41, 'gone'));
  await cat.obliterate(sid(41));
  assert.equal(await cat.get(sid(41)), undefined);
  await rejectsWith(cat.obliterate(sid(41)), 404);
  assert.equal(await cat.get('not-a-uuid' as never), undefined);
});

test('obliterating the last stream of a collection removes it from listCollections', async () => {
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

test('listCollections treats % and _ in the prefix as plain characters', async () => {
  await cat.create(stream(60, 'pct/a%b', { name: 'a' }));
  await cat.create(stream(61, 'pct/axb', { name: 'b' }));
  await cat.create(stream(62, 'pct/a_c', { name: 'c' }));
  assert.deepEqual(await cat.listCollections('pct/a%'), ['pct/a%b']);
  assert.deepEqual(await cat.listCollections('pct/a_'), ['pct/a_c']);
});

test('metadataUsage counts, per key, the live streams under the prefix that have it', async () => {
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

test('count and liveIds cover exactly the live streams', async () => {
  const ids = new Set(await cat.liveIds());
  assert.equal(ids.size, await cat.count());
  assert.ok(ids.has(sid(1)));
  assert.ok(!ids.has(sid(20)), 'obliterated');
});

test('createMany creates every stream or, on any error, none', async () => {
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

test('a catalog directory keeps streams and tombstones across close and reopen, and has one opener', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-catalog-'));
  try {
    const a = await openPgliteCatalog(dir);
    await a.create(stream(1, 'p/q', { name: 'n', unit: 'V' }, { k: 'v' }));
    await a.create(stream(2, 'p/q', { name: 'm' }));
    await a.setAnnotations(sid(1), 1, { k2: 'v2' }, []);
    await a.obliterate(sid(2));
    await rejectsWith(openPgliteCatalog(dir), 453);
    await a.close();
    assert.deepEqual(fs.readdirSync(dir).sort(), ['CATALOG', 'pgdata']);

    const b = await openPgliteCatalog(dir);
    assert.deepEqual(await b.get(sid(1)), {
      id: sid(1),
      collection: 'p/q',
      tags: { name: 'n', unit: 'V', ingress: '' },
      annotations: { k: 'v', k2: 'v2' },
      propertyVersion: 2,
    });
    assert.equal(await b.get(sid(2)), undefined);
    await rejectsWith(b.create(stream(2, 'p/q', { name: 'm' })), 429);
    await b.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory whose first open died before finishing is made again', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-catalog-'));
  try {
    fs.mkdirSync(path.join(dir, 'pgdata'));
    fs.writeFileSync(path.join(dir, 'pgdata', 'PG_VERSION'), 'half-written');
    const c = await openPgliteCatalog(dir);
    await c.create(stream(1, 'x'));
    assert.equal(await c.count(), 1);
    await c.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a closed catalog rejects every call', async () => {
  const c = await openPgliteCatalog(null);
  await c.close();
  await c.close(); // idempotent
  await rejectsWith(c.get(sid(1)), 500);
  await rejectsWith(c.create(stream(1, 'x')), 500);
  await rejectsWith(c.sql('select 1', []), 500);
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { rejectsWith, sid, stream } from './catalog-testing.ts';
import { openPgliteCatalog, type PgliteCatalog } from './pglite-catalog.ts';

let cat: PgliteCatalog;
before(async () => {
  cat = await openPgliteCatalog(null);
});
after(async () => {
  await cat.close();
});

test('setAnnotations upserts, removes null-valued changes and removals, and bumps the version', async () => {
  await cat.create(stream(1, 'ann', { name: 'a' }, { keep: '1', drop: '2', gone: '3' }));
  const m = await cat.setAnnotations(sid(1), 1, { keep: 'one', add: 'new', drop: null }, ['gone', 'never-there']);
  assert.deepEqual(m.annotations, { keep: 'one', add: 'new' });
  assert.equal(m.propertyVersion, 2);
  assert.deepEqual(await cat.get(sid(1)), m);
});

test('setAnnotations bumps the property version even when nothing changes', async () => {
  await cat.create(stream(2, 'ann', { name: 'b' }));
  assert.equal((await cat.setAnnotations(sid(2), 1, {}, [])).propertyVersion, 2);
  assert.equal((await cat.setAnnotations(sid(2), 2, {}, ['absent'])).propertyVersion, 3);
  const m = await cat.setAnnotations(sid(2), 3, { a: '1' }, ['a']);
  assert.deepEqual(m.annotations, {}, 'a removal wins over an upsert of the same key');
  assert.equal(m.propertyVersion, 4);
});

test('setAnnotations with a stale or future expected version is 423 and changes nothing', async () => {
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

test('setAnnotations checks keys (408), values (409) and existence (404)', async () => {
  await cat.create(stream(4, 'ann', { name: 'd' }));
  await rejectsWith(cat.setAnnotations(sid(4), 1, { '': 'x' }, []), 408);
  await rejectsWith(cat.setAnnotations(sid(4), 1, {}, ['a\0']), 408);
  await rejectsWith(cat.setAnnotations(sid(4), 1, { k: 'x'.repeat(256) }, []), 409);
  await rejectsWith(cat.setAnnotations(sid(999), 1, { k: 'x' }, []), 404);
  await cat.obliterate(sid(4));
  await rejectsWith(cat.setAnnotations(sid(4), 1, { k: 'x' }, []), 404);
});

test('two writers racing with the same expected version: exactly one wins, the other gets 423', async () => {
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

test('of ten writers racing on tags and annotations with one version, exactly one wins', async () => {
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

test('setTags upserts and removes tags, moves the collection and bumps the version', async () => {
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

test('setTags checks collection (407), keys (408), values (409), existence (404) and version (423)', async () => {
  await cat.create(stream(11, 'tags/c', { name: 'n' }));
  await rejectsWith(cat.setTags(sid(11), 1, {}, 'x'.repeat(256), []), 407);
  await rejectsWith(cat.setTags(sid(11), 1, { colour: 'red' }, '', []), 408);
  await rejectsWith(cat.setTags(sid(11), 1, {}, '', ['colour']), 408);
  await rejectsWith(cat.setTags(sid(11), 1, { name: 'x'.repeat(256) }, '', []), 409);
  await rejectsWith(cat.setTags(sid(12), 1, { name: 'x' }, '', []), 404);
  await rejectsWith(cat.setTags(sid(11), 7, { name: 'x' }, '', []), 423);
  assert.equal((await cat.get(sid(11)))?.propertyVersion, 1);
});

test('setTags that would collide with another live stream is 418 and changes nothing', async () => {
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

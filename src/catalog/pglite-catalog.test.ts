import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { catalogBasicsConformance } from './catalog.conformance.ts';
import { rejectsWith, sid, stream } from './catalog-testing.ts';
import { openPgliteCatalog } from './pglite-catalog.ts';

// The shared contract (catalog.conformance.ts), on an in-memory PGlite catalog.
catalogBasicsConformance('PGlite', () => openPgliteCatalog(null));

// What only the embedded catalog has: its directory.
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

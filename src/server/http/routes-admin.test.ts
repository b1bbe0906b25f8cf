import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newStreamId } from '../../core/uuid.ts';
import { readBackupManifest } from '../../db/backup-format.ts';
import { Database } from '../../db/database.ts';
import { type ErrorJson, TestClient } from './http-testing.ts';
import { type HttpServer, startHttpServer } from './index.ts';

describe('POST /api/admin/backup', () => {
  let root: string;
  let db: Database;
  let server: HttpServer;
  let client: TestClient;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-admin-route-'));
    db = await Database.open(path.join(root, 'data'), { background: false });
    const id = newStreamId();
    await db.create({ id, collection: 'a/b', tags: { name: 'x' }, annotations: {} });
    await db.insert(id, { times: BigInt64Array.of(1n, 2n), values: Float64Array.of(1, 2) });
    server = await startHttpServer(db, { address: '127.0.0.1:0', apiKeys: ['admin-key'], webRoot: null });
    client = new TestClient(server.url, 'admin-key');
  });

  after(async () => {
    await server.close();
    await db.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('writes a backup and answers NDJSON progress lines, then the report', async () => {
    const dir = path.join(root, 'bak');
    const a = await client.send('POST', '/api/admin/backup', { dir });
    assert.equal(a.status, 200, a.text);
    assert.match(a.headers.get('content-type') ?? '', /application\/x-ndjson/);
    const lines = a.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines[0]?.phase, 'snapshot');
    const last = lines.at(-1) as { done: boolean; backup: { streams: number; dir: string } };
    assert.equal(last.done, true);
    assert.equal(last.backup.streams, 1);
    assert.equal(readBackupManifest(dir).streams, 1);
  });

  it('refuses a relative or non-empty directory with 400 before writing anything', async () => {
    const rel = await client.send('POST', '/api/admin/backup', { dir: 'relative/dir' });
    assert.equal(rel.status, 400);
    assert.match((rel.json as ErrorJson).error.message, /absolute path/);
    const busy = path.join(root, 'busy');
    fs.mkdirSync(busy);
    fs.writeFileSync(path.join(busy, 'x'), '');
    const ne = await client.send('POST', '/api/admin/backup', { dir: busy });
    assert.equal(ne.status, 400);
    assert.match((ne.json as ErrorJson).error.message, /not empty/);
    const inside = await client.send('POST', '/api/admin/backup', { dir: path.join(root, 'data', 'bak') });
    assert.equal(inside.status, 400);
  });

  it('needs an API key', async () => {
    const a = await new TestClient(server.url).send('POST', '/api/admin/backup', { dir: path.join(root, 'nokey') });
    assert.equal(a.status, 401);
    assert.equal(fs.existsSync(path.join(root, 'nokey')), false);
  });

  it('answers 501 for a database in memory', async () => {
    const mem = await Database.open(null, { background: false });
    const s = await startHttpServer(mem, { address: '127.0.0.1:0', webRoot: null });
    try {
      const a = await new TestClient(s.url).send('POST', '/api/admin/backup', { dir: path.join(root, 'mem') });
      assert.equal(a.status, 501);
    } finally {
      await s.close();
      await mem.close();
    }
  });
});

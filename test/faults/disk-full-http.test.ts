/**
 * The server on a full disk, over HTTP: a Database whose engine lives on an 8 MiB tmpfs (the
 * catalog in memory) behind the HTTP server. Inserts are answered 507 with the engine's code 426
 * once the disk is full, reads keep answering every acknowledged point, and after the file system
 * grows the next insert succeeds. Mounting: see tmpfs.ts.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openPgliteCatalog } from '../../src/catalog/pglite-catalog.ts';
import type { StreamId } from '../../src/core/types.ts';
import { Database } from '../../src/db/database.ts';
import { openEngineDir } from '../../src/engine/open-dir.ts';
import { startHttpServer } from '../../src/server/http/http-server.ts';
import { seededRng } from '../../src/storage/index.ts';
import { mountTmpfs } from './tmpfs.ts';

const ID = '00000000-0000-4000-8000-0000000000f2' as StreamId;
const BATCH = 4000;

describe('the HTTP server on a full disk (tmpfs)', () => {
  it('answers inserts with 507/426 when the disk is full, keeps serving reads, and accepts inserts once it grows', async (t) => {
    const fsys = mountTmpfs(t, '8m');
    if (!fsys) return;
    const dir = path.join(fsys.dir, 'data');
    let db: Database | undefined;
    let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
    // The engine's clock, moved by hand: a write while read-only before `retryAt` is refused with
    // the read-only message; one after it probes the disk (which may have room for the probe).
    let clock = 0;
    try {
      db = await Database.open(dir, {
        background: false,
        readOnlyRetryMs: 1000,
        now: () => clock,
        commitPoints: 20_000,
        catalog: await openPgliteCatalog(null),
      });
      await db.create({ id: ID, collection: 'faults', tags: { name: 'full' }, annotations: {} });
      server = await startHttpServer(db, { address: '127.0.0.1:0' });
      const url = `${server.url}/api/streams/${ID}`;
      const rnd = seededRng(9);
      let t0 = 1_700_000_000_000_000_000n;
      const post = async () => {
        const times: string[] = [];
        const values: number[] = [];
        for (let i = 0; i < BATCH; i++) {
          t0 += BigInt(1 + Math.floor(rnd() * 1_000_000));
          times.push(String(t0));
          values.push(rnd() * 1e6);
        }
        const r = await fetch(`${url}/points`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ times, values }),
        });
        return { status: r.status, body: (await r.json()) as { error?: { code: number; message: string } } };
      };
      const count = async (): Promise<number> => {
        const r = await fetch(`${url}/count?start=0&end=3458764513820540000&precise=true`);
        assert.equal(r.status, 200, await r.clone().text());
        return ((await r.json()) as { count: number }).count;
      };

      let acked = 0;
      let refusal: Awaited<ReturnType<typeof post>> | null = null;
      for (let b = 0; b < 400 && !refusal; b++) {
        const r = await post();
        if (r.status === 200) acked += BATCH;
        else refusal = r;
      }
      assert.ok(refusal, 'the disk never filled');
      assert.equal(refusal.status, 507, JSON.stringify(refusal.body));
      assert.equal(refusal.body.error?.code, 426);
      assert.equal(db.engine.health().state, 'read-only');
      t.diagnostic(`HTTP: full after ${acked} acknowledged points; refusal: ${refusal.body.error?.message}`);

      assert.equal(await count(), acked, 'reads answer every acknowledged point');
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200, 'read-only is still ready: reads are served');
      const readyBody = (await ready.json()) as { status: string; writes?: { code: number } };
      assert.equal(readyBody.status, 'read-only');
      assert.equal(readyBody.writes?.code, 426);
      assert.match(await (await fetch(`${server.url}/metrics`)).text(), /^arbordb_engine_read_only 1$/m);
      const again = await post();
      assert.equal(again.status, 507);
      assert.match(again.body.error?.message ?? '', /read-only/);
      assert.equal(await count(), acked);

      fsys.resize('16m');
      clock += 1000;
      const resumed = await post();
      assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
      acked += BATCH;
      assert.equal(db.engine.health().state, 'ok');
      assert.equal(((await (await fetch(`${server.url}/readyz`)).json()) as { status: string }).status, 'ready');
      assert.match(await (await fetch(`${server.url}/metrics`)).text(), /^arbordb_engine_read_only 0$/m);
      assert.equal(await count(), acked);

      await server.close();
      server = undefined;
      await db.close();
      db = undefined;
      const engine = await openEngineDir(dir, { background: false });
      try {
        assert.equal((await engine.count(ID, 0n, 3n << 60n)).count, acked, 'after reopen');
      } finally {
        await engine.close();
      }
    } finally {
      await server?.close().catch(() => {});
      await db?.close().catch(() => {});
      fsys.unmount();
    }
  });
});

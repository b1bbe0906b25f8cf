/** The contract every Env implements, as a suite run once per implementation. Test support only. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errnoOf } from './errno.ts';
import type { MakeTestEnv, TestEnv } from './test-envs.ts';

const bytes = (...v: number[]): Uint8Array => new Uint8Array(v);

export function envConformance(kind: string, make: MakeTestEnv): void {
  describe(`Env contract (${kind})`, () => {
    let t: TestEnv;
    before(async () => {
      t = await make();
      await t.env.mkdirp(t.dir);
    });
    after(() => t.cleanup());

    it('mkdirp creates parents and tolerates an existing directory', async () => {
      const d = join(t.dir, 'a', 'b');
      await t.env.mkdirp(d);
      await t.env.mkdirp(d);
      assert.deepEqual(await t.env.list(join(t.dir, 'a')), ['b']);
    });

    it('an append file is created empty and grows by each write', async () => {
      const f = await t.env.openAppend(join(t.dir, 'grow'));
      assert.equal(f.size(), 0);
      await f.write([bytes(1, 2), bytes(), bytes(3)]);
      await f.write([bytes(4)]);
      assert.equal(f.size(), 4);
      const dst = new Uint8Array(6);
      assert.equal(f.read(dst, 0), 4);
      assert.deepEqual(dst.subarray(0, 4), bytes(1, 2, 3, 4));
      assert.equal(f.read(new Uint8Array(2), 3), 1);
      assert.equal(f.read(new Uint8Array(2), 9), 0);
      await f.sync();
      await f.close();
    });

    it('reopening for append continues at the end', async () => {
      const p = join(t.dir, 'reopen');
      const a = await t.env.openAppend(p);
      await a.write([bytes(7, 8)]);
      await a.close();
      const b = await t.env.openAppend(p);
      assert.equal(b.size(), 2);
      await b.write([bytes(9)]);
      await b.close();
      const r = await t.env.openRead(p);
      assert.equal(r.size(), 3);
      const dst = new Uint8Array(3);
      r.read(dst, 0);
      assert.deepEqual(dst, bytes(7, 8, 9));
      await r.close();
    });

    it('truncate cuts a file and later writes land at the new end', async () => {
      const f = await t.env.openAppend(join(t.dir, 'cut'));
      await f.write([bytes(1, 2, 3, 4, 5)]);
      await f.truncate(2);
      assert.equal(f.size(), 2);
      await f.write([bytes(6)]);
      assert.deepEqual(await t.env.readFile(join(t.dir, 'cut')), bytes(1, 2, 6));
      await f.close();
    });

    it('a read-only handle reads the bytes written before it was opened', async () => {
      const p = join(t.dir, 'ro');
      await t.env.writeFileAtomic(p, bytes(5, 6));
      const r = await t.env.openRead(p);
      const dst = new Uint8Array(2);
      assert.equal(r.read(dst, 0), 2);
      assert.deepEqual(dst, bytes(5, 6));
      await r.close();
    });

    it('list returns sorted names and fails on a missing directory', async () => {
      const d = join(t.dir, 'listing');
      await t.env.mkdirp(d);
      for (const n of ['b', 'a', 'c']) await (await t.env.openAppend(join(d, n))).close();
      assert.deepEqual(await t.env.list(d), ['a', 'b', 'c']);
      await assert.rejects(t.env.list(join(t.dir, 'nope')), (e) => errnoOf(e) === 'ENOENT');
    });

    it('rename replaces the target and remove deletes', async () => {
      const a = join(t.dir, 'ra');
      const b = join(t.dir, 'rb');
      await t.env.writeFileAtomic(a, bytes(1));
      await t.env.writeFileAtomic(b, bytes(2));
      await t.env.rename(a, b);
      assert.deepEqual(await t.env.readFile(b), bytes(1));
      await assert.rejects(t.env.readFile(a), (e) => errnoOf(e) === 'ENOENT');
      await t.env.remove(b);
      await assert.rejects(t.env.openRead(b), (e) => errnoOf(e) === 'ENOENT');
      await assert.rejects(t.env.remove(b), (e) => errnoOf(e) === 'ENOENT');
      await t.env.syncDir(t.dir);
    });

    it('writeFileAtomic replaces the content and leaves no temporary file', async () => {
      const d = join(t.dir, 'atomic');
      await t.env.mkdirp(d);
      await t.env.writeFileAtomic(join(d, 'm'), bytes(1, 2, 3));
      await t.env.writeFileAtomic(join(d, 'm'), bytes(4));
      assert.deepEqual(await t.env.readFile(join(d, 'm')), bytes(4));
      assert.deepEqual(await t.env.list(d), ['m']);
    });
  });
}

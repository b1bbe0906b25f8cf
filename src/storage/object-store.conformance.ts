/**
 * The ObjectStore contract, written once and run against every implementation: MemoryObjectStore
 * (memory-object-store.test.ts) and S3ObjectStore against a real Ceph RGW
 * (test/cluster/object-store.contract.test.ts). Test support only.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import type { ObjectStore } from './object-store.ts';

export interface ObjectStoreUnderTest {
  readonly store: ObjectStore;
  /** Keys written by the test start with this (so runs do not see each other). */
  readonly prefix: string;
}

export type MakeObjectStore = () => Promise<ObjectStoreUnderTest>;

export function objectStoreConformance(kind: string, make: MakeObjectStore): void {
  describe(`ObjectStore contract (${kind})`, () => {
    it('create writes an object once and refuses to overwrite it', async () => {
      const { store, prefix } = await make();
      const key = `${prefix}a/one`;
      assert.equal(await store.create(key, new Uint8Array([1, 2, 3])), true);
      assert.equal(await store.create(key, new Uint8Array([9, 9])), false);
      assert.deepEqual(await store.get(key), new Uint8Array([1, 2, 3]));
    });

    it('get returns null for a missing key', async () => {
      const { store, prefix } = await make();
      assert.equal(await store.get(`${prefix}missing`), null);
      assert.equal(await store.get(`${prefix}missing`, { offset: 0, length: 4 }), null);
    });

    it('a ranged get returns exactly the bytes asked for, cut at the end of the object', async () => {
      const { store, prefix } = await make();
      const body = new Uint8Array(randomBytes(10_000));
      await store.create(`${prefix}r`, body);
      assert.deepEqual(await store.get(`${prefix}r`, { offset: 0, length: 24 }), body.subarray(0, 24));
      assert.deepEqual(await store.get(`${prefix}r`, { offset: 4321, length: 1000 }), body.subarray(4321, 5321));
      assert.deepEqual(await store.get(`${prefix}r`, { offset: 9990, length: 100 }), body.subarray(9990));
    });

    it('a ranged get starting past the end of the object is an error naming the key', async () => {
      const { store, prefix } = await make();
      await store.create(`${prefix}short`, new Uint8Array(10));
      await assert.rejects(store.get(`${prefix}short`, { offset: 10, length: 5 }), (e: unknown) => {
        assert.ok(isDbError(e, 500));
        assert.match(e.message, /short/);
        return true;
      });
    });

    it('an empty object can be created and read', async () => {
      const { store, prefix } = await make();
      assert.equal(await store.create(`${prefix}empty`, new Uint8Array(0)), true);
      assert.deepEqual(await store.get(`${prefix}empty`), new Uint8Array(0));
      assert.deepEqual(await store.list(`${prefix}empty`), [{ key: `${prefix}empty`, size: 0 }]);
    });

    it('list returns every key under the prefix in byte order with sizes', async () => {
      const { store, prefix } = await make();
      const keys = ['b/2', 'a/10', 'a/09', 'b/1', 'ab', 'a/~', 'c'];
      for (const [i, k] of keys.entries()) await store.create(`${prefix}${k}`, new Uint8Array(i + 1));
      const all = await store.list(prefix);
      const expected = keys
        .map((k, i) => ({ key: `${prefix}${k}`, size: i + 1 }))
        .sort((x, y) => Buffer.compare(Buffer.from(x.key), Buffer.from(y.key)));
      assert.deepEqual(all, expected);
      assert.deepEqual(
        (await store.list(`${prefix}a/`)).map((o) => o.key),
        [`${prefix}a/09`, `${prefix}a/10`, `${prefix}a/~`],
      );
      assert.deepEqual(await store.list(`${prefix}zzz`), []);
    });

    it('list pages through more than a thousand keys', async () => {
      const { store, prefix } = await make();
      const n = 1234;
      const keys = Array.from({ length: n }, (_, i) => `${prefix}many/${String(i).padStart(5, '0')}`);
      await inBatches(keys, 32, (k) => store.create(k, new Uint8Array([1])));
      const listed = await store.list(`${prefix}many/`);
      assert.equal(listed.length, n);
      assert.deepEqual(
        listed.map((o) => o.key),
        keys,
      );
    });

    it('delete removes the keys given, ignores missing ones, and handles more than a thousand', async () => {
      const { store, prefix } = await make();
      const keys = Array.from({ length: 1100 }, (_, i) => `${prefix}d/${String(i).padStart(5, '0')}`);
      await inBatches(keys, 32, (k) => store.create(k, new Uint8Array([7])));
      await store.create(`${prefix}keep`, new Uint8Array([1]));
      await store.delete([...keys, `${prefix}never-existed`]);
      assert.deepEqual(await store.list(`${prefix}d/`), []);
      assert.equal(await store.get(keys[0] ?? ''), null);
      assert.deepEqual(await store.get(`${prefix}keep`), new Uint8Array([1]));
      await store.delete([]);
    });

    it('a deleted key can be created again', async () => {
      const { store, prefix } = await make();
      await store.create(`${prefix}again`, new Uint8Array([1]));
      await store.delete([`${prefix}again`]);
      assert.equal(await store.create(`${prefix}again`, new Uint8Array([2])), true);
      assert.deepEqual(await store.get(`${prefix}again`), new Uint8Array([2]));
    });

    it('of concurrent creates of one key exactly one wins and its bytes are stored', async () => {
      const { store, prefix } = await make();
      const bodies = Array.from({ length: 8 }, (_, i) => new Uint8Array(1000).fill(i + 1));
      const won = await Promise.all(bodies.map((b) => store.create(`${prefix}race`, b)));
      assert.equal(won.filter(Boolean).length, 1);
      const winner = bodies[won.indexOf(true)];
      assert.deepEqual(await store.get(`${prefix}race`), winner);
    });

    it('a large object round-trips byte for byte', async () => {
      const { store, prefix } = await make();
      const body = new Uint8Array(randomBytes(6 * 1024 * 1024 + 17));
      assert.equal(await store.create(`${prefix}big`, body), true);
      const back = await store.get(`${prefix}big`);
      assert.ok(back);
      assert.equal(Buffer.compare(back, body), 0);
    });
  });
}

async function inBatches<T>(items: readonly T[], width: number, each: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(each));
}

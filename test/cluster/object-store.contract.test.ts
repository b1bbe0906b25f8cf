// The ObjectStore contract against a real Ceph RGW (S3ObjectStore), plus the behaviours of the
// object block store and object WAL that depend on the real server: conditional creates (412),
// ranged GETs, paged listings, and deadlines while the only OSD is frozen.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isDbError } from '../../src/core/errors.ts';
import { ObjectBlockStore } from '../../src/storage/object-block-store.ts';
import { ObjectRecordLog } from '../../src/storage/object-record-log.ts';
import { objectStoreConformance } from '../../src/storage/object-store.conformance.ts';
import { parseS3Url, S3ObjectStore, type S3ObjectStoreOptions } from '../../src/storage/s3-object-store.ts';
import { type CephHandle, requireCephBinaries, startCeph } from './ceph.ts';

let ceph: CephHandle;
const stores: S3ObjectStore[] = [];

before(async () => {
  requireCephBinaries(); // throws, naming scripts/cluster/install-deps.sh, when Ceph is missing
  ceph = await startCeph();
});

after(async () => {
  for (const s of stores) await s.close();
  await ceph?.stop();
});

function s3(extra: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore {
  const s = new S3ObjectStore({
    endpoint: ceph.endpoint,
    region: ceph.region,
    accessKey: ceph.accessKey,
    secretKey: ceph.secretKey,
    bucket: ceph.bucket,
    ...extra,
  });
  stores.push(s);
  return s;
}

objectStoreConformance('S3ObjectStore on Ceph RGW', async () => ({ store: s3(), prefix: `contract/${randomUUID()}/` }));

describe('S3ObjectStore on Ceph RGW', () => {
  it('a store built from an s3:// URL reaches the same bucket and applies its key prefix', async () => {
    const u = new URL(ceph.endpoint);
    const prefix = `url-${randomUUID()}/`;
    const url = `s3://${encodeURIComponent(ceph.accessKey)}:${encodeURIComponent(ceph.secretKey)}@${u.host}/${ceph.bucket}/${prefix}`;
    const viaUrl = s3(parseS3Url(url));
    assert.equal(await viaUrl.create('k', new Uint8Array([1, 2])), true);
    const plain = s3();
    assert.deepEqual(await plain.get(`${prefix}k`), new Uint8Array([1, 2]));
    assert.deepEqual(await viaUrl.list(''), [{ key: 'k', size: 2 }]);
  });

  it('wrong credentials are an error naming the key and the store', async () => {
    const bad = s3({ secretKey: 'wrong-secret-key-000000000000000000000000' });
    await assert.rejects(bad.create('x', new Uint8Array([1])), (e: unknown) => {
      assert.ok(isDbError(e, 500));
      assert.match(e.message, /create x in s3:\/\//);
      return true;
    });
  });

  it('every call fails with 434 at its deadline while the only OSD is frozen, and works again after', async () => {
    const s = s3({ timeoutMs: 1500 });
    const prefix = `frozen-${randomUUID()}/`;
    await s.create(`${prefix}before`, new Uint8Array([1]));
    ceph.pauseOsd();
    try {
      const t0 = Date.now();
      await assert.rejects(s.create(`${prefix}during`, new Uint8Array([2])), (e: unknown) => isDbError(e, 434));
      await assert.rejects(s.get(`${prefix}before`), (e: unknown) => isDbError(e, 434));
      const took = Date.now() - t0;
      assert.ok(took < 2 * 1500 + 2000, `two calls with 1.5 s deadlines took ${took} ms`);
    } finally {
      ceph.resumeOsd();
    }
    // RGW may still be finishing the write that timed out: the key ends up written or not, once.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        assert.deepEqual(await s.get(`${prefix}before`), new Uint8Array([1]));
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  });

  it('blocks and WAL records written through RGW survive a takeover by a second node', async () => {
    const prefix = `shard-${randomUUID()}`;
    let nextId = 1;
    const alloc = async (n: number): Promise<number[]> => Array.from({ length: n }, () => nextId++);
    const nodeA = s3();
    const blocks = await ObjectBlockStore.open(nodeA, { prefix: `${prefix}/blocks`, allocateSegmentIds: alloc });
    const wal = await ObjectRecordLog.open(nodeA, { prefix: `${prefix}/wal`, epoch: 1 });
    const payloads = Array.from({ length: 40 }, (_, i) => new Uint8Array(500 + i).fill(i));
    const refs = payloads.map((p) => blocks.put(p));
    await blocks.sync();
    for (const p of payloads.slice(0, 10)) {
      wal.append(p);
      await wal.sync();
    }
    const nodeB = s3();
    const wal2 = await ObjectRecordLog.open(nodeB, { prefix: `${prefix}/wal`, epoch: 2 });
    wal.append(payloads[10] ?? new Uint8Array(1));
    await assert.rejects(wal.sync(), (e: unknown) => isDbError(e, 453));
    const replayed: Uint8Array[] = [];
    for await (const r of wal2.replay()) replayed.push(r.payload);
    assert.deepEqual(replayed, payloads.slice(0, 10));
    const blocks2 = await ObjectBlockStore.open(nodeB, { prefix: `${prefix}/blocks`, allocateSegmentIds: alloc });
    assert.deepEqual(await blocks2.getMany(refs), payloads);
    await Promise.all([blocks.close(), wal.close(), blocks2.close(), wal2.close()]);
  });
});

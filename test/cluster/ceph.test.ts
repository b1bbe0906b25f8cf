// Contract of the real radosgw (Ceph 16) that cluster mode relies on: create-only puts
// (`If-None-Match: *`), ranged reads, listing order, deletes, durability across an OSD kill, and
// deadlines while the only OSD is down. Starts its own cluster (test/cluster/ceph.ts); fails, naming
// scripts/cluster/install-deps.sh, when Ceph is not installed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { type CephHandle, startCeph } from './ceph.ts';

const CALL_MS = 30_000;

let ceph: CephHandle;
let s3: S3Client;

/** Client used by all tests: one attempt (a retried create would see its own object), no checksums. */
function client(h: CephHandle): S3Client {
  return new S3Client({
    endpoint: h.endpoint,
    region: h.region,
    forcePathStyle: true,
    credentials: { accessKeyId: h.accessKey, secretAccessKey: h.secretKey },
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const deadline = (ms = CALL_MS) => ({ abortSignal: AbortSignal.timeout(ms) });

/** Create-only put: 'created', or the S3 error code and HTTP status (e.g. 'PreconditionFailed 412'). */
async function createOnly(key: string, body: Uint8Array, ms = CALL_MS): Promise<string> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: ceph.bucket, Key: key, Body: body, IfNoneMatch: '*' }), deadline(ms));
    return 'created';
  } catch (err) {
    if (err instanceof S3ServiceException) return `${err.name} ${err.$metadata.httpStatusCode}`;
    throw err;
  }
}

async function get(key: string, range?: string): Promise<Uint8Array> {
  const res = await s3.send(
    new GetObjectCommand({ Bucket: ceph.bucket, Key: key, ...(range === undefined ? {} : { Range: range }) }),
    deadline(),
  );
  assert.ok(res.Body, `GET ${key} has a body`);
  return res.Body.transformToByteArray();
}

async function getError(key: string, range?: string): Promise<string> {
  try {
    await get(key, range);
    return 'ok';
  } catch (err) {
    if (err instanceof S3ServiceException) return `${err.name} ${err.$metadata.httpStatusCode}`;
    throw err;
  }
}

async function listAll(prefix: string, pageSize?: number): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const res = await s3.send(
      new ListObjectsV2Command({
        Bucket: ceph.bucket,
        Prefix: prefix,
        ...(pageSize === undefined ? {} : { MaxKeys: pageSize }),
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
      deadline(),
    );
    for (const o of res.Contents ?? []) keys.push(o.Key ?? '');
    if (!res.IsTruncated) return keys;
    token = res.NextContinuationToken;
    assert.ok(token, 'a truncated listing carries a continuation token');
  }
  throw new Error('listing did not end');
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('Ceph radosgw as the cluster object store', { timeout: 600_000 }, () => {
  before(
    async () => {
      ceph = await startCeph();
      s3 = client(ceph);
    },
    { timeout: 180_000 },
  );

  after(async () => {
    s3?.destroy();
    await ceph?.stop();
  });

  test('a second create-only put of a key answers 412 PreconditionFailed and keeps the first bytes', async () => {
    const first = randomBytes(4096);
    assert.equal(await createOnly('cas/one', first), 'created');
    assert.equal(await createOnly('cas/one', randomBytes(4096)), 'PreconditionFailed 412');
    assert.deepEqual(await get('cas/one'), new Uint8Array(first));
  });

  test('concurrent create-only puts of one key: exactly one wins and its bytes are the ones stored', async () => {
    // 5 MiB crosses radosgw's 4 MiB head-object size, so the tail is written before the guarded head.
    for (const size of [4096, 1 << 20, 5 << 20]) {
      for (let round = 0; round < 3; round++) {
        const key = `cas/race-${size}-${round}`;
        const bodies = Array.from({ length: 6 }, () => randomBytes(size));
        const outcomes = await Promise.all(bodies.map((b) => createOnly(key, b)));
        const winners = outcomes.flatMap((o, i) => (o === 'created' ? [i] : []));
        assert.equal(winners.length, 1, `one winner for ${key}: ${outcomes.join(', ')}`);
        for (const o of outcomes) assert.ok(o === 'created' || o === 'PreconditionFailed 412', o);
        assert.deepEqual(await get(key), new Uint8Array(bodies[winners[0]!]!));
      }
    }
  });

  test('a create-only put succeeds again once the key has been deleted', async () => {
    assert.equal(await createOnly('cas/reuse', Buffer.from('a')), 'created');
    await s3.send(new DeleteObjectCommand({ Bucket: ceph.bucket, Key: 'cas/reuse' }), deadline());
    assert.equal(await createOnly('cas/reuse', Buffer.from('b')), 'created');
    assert.deepEqual(Buffer.from(await get('cas/reuse')).toString(), 'b');
  });

  test('ranged GETs return exactly the requested bytes of a 1 MiB object', async () => {
    const body = randomBytes(1 << 20);
    assert.equal(await createOnly('range/a', body), 'created');
    const n = body.length;
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 1],
      ['bytes=0-4095', 0, 4096],
      ['bytes=1000-1999', 1000, 2000],
      [`bytes=${n - 1}-${n - 1}`, n - 1, n],
      [`bytes=${n - 10}-${n + 100}`, n - 10, n], // an end past the object is clipped (RFC 9110)
      [`bytes=${n - 300}-`, n - 300, n],
      ['bytes=-200', n - 200, n], // suffix range
    ];
    for (const [range, start, end] of cases) {
      assert.deepEqual(await get('range/a', range), new Uint8Array(body.subarray(start, end)), range);
    }
    assert.equal(await getError('range/a', `bytes=${n}-${n + 10}`), 'InvalidRange 416');
  });

  test('ListObjectsV2 returns keys in ascending UTF-8 byte order, paged or not, and honours prefixes', async () => {
    const keys = [
      'list/a',
      'list/a/b',
      'list/a-b',
      'list/a0',
      'list/B',
      'list/z',
      'list/~',
      'list/\u00e9', // 2-byte UTF-8
      'list/\uff01', // 3-byte UTF-8, above the surrogates in UTF-16
      'list/\u{1f600}', // 4-byte UTF-8, a surrogate pair (below U+FF01) in UTF-16
      'list/00000000000000000010',
      'list/00000000000000000009',
    ];
    for (const k of keys) assert.equal(await createOnly(k, Buffer.from(k)), 'created');
    const expected = [...keys].sort(byteOrder);
    assert.deepEqual(await listAll('list/'), expected);
    assert.deepEqual(await listAll('list/', 3), expected);
    assert.deepEqual(
      await listAll('list/a'),
      expected.filter((k) => k.startsWith('list/a')),
    );
    const after = await s3.send(
      new ListObjectsV2Command({ Bucket: ceph.bucket, Prefix: 'list/', StartAfter: 'list/a0' }),
      deadline(),
    );
    assert.deepEqual(
      (after.Contents ?? []).map((o) => o.Key),
      expected.filter((k) => byteOrder(k, 'list/a0') > 0),
    );
    const sizes = new Map(
      (await s3.send(new ListObjectsV2Command({ Bucket: ceph.bucket, Prefix: 'list/' }), deadline())).Contents?.map(
        (o) => [o.Key, o.Size],
      ),
    );
    for (const k of keys) assert.equal(sizes.get(k), Buffer.byteLength(k), `size of ${k}`);
  });

  test('deletes remove objects, missing keys are no error, and GET then answers NoSuchKey 404', async () => {
    for (const k of ['del/1', 'del/2', 'del/3']) assert.equal(await createOnly(k, Buffer.from(k)), 'created');
    await s3.send(new DeleteObjectCommand({ Bucket: ceph.bucket, Key: 'del/1' }), deadline());
    await s3.send(new DeleteObjectCommand({ Bucket: ceph.bucket, Key: 'del/never-existed' }), deadline());
    const res = await s3.send(
      new DeleteObjectsCommand({
        Bucket: ceph.bucket,
        Delete: { Objects: [{ Key: 'del/2' }, { Key: 'del/3' }, { Key: 'del/missing' }], Quiet: true },
      }),
      deadline(),
    );
    assert.deepEqual(res.Errors ?? [], []);
    assert.deepEqual(await listAll('del/'), []);
    assert.equal(await getError('del/2'), 'NoSuchKey 404');
  });

  test('with the OSD killed, calls end at their deadline; after a restart the data written before is intact', async (t) => {
    const before = new Map<string, Buffer>();
    for (let i = 0; i < 8; i++) before.set(`osd/${i}`, randomBytes(i % 2 === 0 ? 4096 : 1 << 20));
    for (const [k, b] of before) assert.equal(await createOnly(k, b), 'created');

    await ceph.killOsd();
    assert.equal(ceph.pids().osd, undefined);
    const limit = 2000;
    const t0 = performance.now();
    const getOutcome = await s3.send(new GetObjectCommand({ Bucket: ceph.bucket, Key: 'osd/0' }), deadline(limit)).then(
      () => 'answered',
      (e: Error) => e.name,
    );
    const getMs = performance.now() - t0;
    assert.equal(getOutcome, 'AbortError');
    assert.ok(getMs < limit + 1500, `a GET with a ${limit} ms deadline ended after ${getMs.toFixed(0)} ms`);
    const t1 = performance.now();
    const putOutcome = await createOnly('osd/during-outage', Buffer.from('late'), limit).catch((e: Error) => e.name);
    const putMs = performance.now() - t1;
    assert.equal(putOutcome, 'AbortError');
    assert.ok(putMs < limit + 1500, `a create-only PUT with a ${limit} ms deadline ended after ${putMs.toFixed(0)} ms`);
    t.diagnostic(`while the OSD is down: GET aborted after ${getMs.toFixed(0)} ms, PUT after ${putMs.toFixed(0)} ms`);

    const t2 = performance.now();
    await ceph.startOsd();
    const bootMs = performance.now() - t2;
    for (const [k, b] of before) assert.deepEqual(await get(k), new Uint8Array(b), k);
    t.diagnostic(
      `OSD restart: booted in ${bootMs.toFixed(0)} ms, all reads back ${(performance.now() - t2).toFixed(0)} ms after the start`,
    );
    // A write aborted by the client during the outage is still queued in radosgw and may land once
    // the OSD is back: a timed-out create must be treated as "unknown", never as "not written".
    const late = await getError('osd/during-outage');
    t.diagnostic(`the create-only PUT aborted during the outage: ${late === 'ok' ? 'landed after the restart' : late}`);
    assert.ok(late === 'ok' || late === 'NoSuchKey 404', late);
    assert.equal(await createOnly('osd/after-restart', Buffer.from('x')), 'created');
  });

  test('after a clean OSD stop and a radosgw kill, both restart and serve the objects written before', async () => {
    const body = randomBytes(64 * 1024);
    assert.equal(await createOnly('restart/a', body), 'created');
    await ceph.stopOsd();
    assert.equal(ceph.pids().osd, undefined);
    await ceph.startOsd();
    assert.deepEqual(await get('restart/a'), new Uint8Array(body));
    await ceph.killRgw();
    assert.equal(ceph.pids().rgw, undefined);
    await ceph.startRgw();
    assert.deepEqual(await get('restart/a'), new Uint8Array(body));
    assert.equal(await createOnly('restart/a', randomBytes(10)), 'PreconditionFailed 412');
  });
});

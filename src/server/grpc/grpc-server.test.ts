/**
 * The gRPC adapter over real loopback connections: authentication, bad input (in-band codes,
 * undecodable bytes, unknown RPCs) leaving data untouched, large inserts, backpressure against a
 * slow reader, TLS and graceful shutdown.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import type { PointBatch, StreamId } from '../../core/types.ts';
import { streamIdToBytes } from '../../core/uuid.ts';
import type { Backend } from '../../db/backend.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import { type BTrDBClient, createBTrDBClient, encodeInsertParams } from '../../wire/index.ts';
import { type GrpcServer, startGrpcServer } from './grpc-server.ts';

const KEY = 'test-key-123';
let db: Database;
let server: GrpcServer;
let client: BTrDBClient;
const pulled = { points: 0 };

const auth = (key = KEY) => {
  const md = new Metadata();
  md.set('authorization', `Bearer ${key}`);
  return md;
};

function unary<R>(
  call: (md: Metadata, cb: (e: ServiceError | null, r?: R) => void) => unknown,
  md = auth(),
): Promise<R> {
  return new Promise((resolve, reject) => call(md, (e, r) => (e ? reject(e) : resolve(r!))));
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The Database, but counting the points its raw reads hand out (to observe backpressure). */
function counting(inner: Database): Backend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'rawValues') {
        return async function* (...args: Parameters<Backend['rawValues']>) {
          for await (const v of target.rawValues(...args)) {
            pulled.points += v.value.times.length;
            yield v;
          }
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Backend;
}

async function newStream(): Promise<Uint8Array> {
  const uuid = streamIdToBytes(randomUUID() as StreamId);
  const r = await unary<{ stat?: { code: number } | undefined }>((md, cb) =>
    client.Create(
      { uuid, collection: `grpc/${randomUUID()}`, tags: [{ key: 'name', val: { value: 'x' } }], annotations: [] },
      md,
      cb,
    ),
  );
  assert.equal(r.stat, undefined);
  return uuid;
}

function insertReq(uuid: Uint8Array, batch: PointBatch) {
  return { uuid, sync: false, values: batch, merge_policy: 0 };
}

async function readTimes(uuid: Uint8Array, start = 0n, end = 1n << 40n): Promise<bigint[]> {
  const msgs = await all(client.RawValues({ uuid, start, end, versionMajor: 0n }, auth()));
  return msgs.flatMap((m) => [...m.values.times]);
}

before(async () => {
  db = await openDatabase(null);
  server = await startGrpcServer({ backend: counting(db), address: '127.0.0.1:0', apiKeys: [KEY] });
  client = createBTrDBClient(server.address, credentials.createInsecure());
});
after(async () => {
  client.close();
  await server.close(1000);
  await db.close();
});

describe('grpc: authentication', () => {
  test('a wrong or missing key fails unary, streaming and bidi calls with UNAUTHENTICATED "invalid api key"', async () => {
    for (const md of [auth('wrong'), new Metadata()]) {
      await assert.rejects(
        unary((m, cb) => client.Info({}, m, cb), md),
        (e: ServiceError) => {
          assert.equal(e.code, status.UNAUTHENTICATED);
          assert.equal(e.details, 'invalid api key');
          return true;
        },
      );
      await assert.rejects(
        all(client.ListCollections({ prefix: '' }, md)),
        (e: ServiceError) => e.code === status.UNAUTHENTICATED && e.details === 'invalid api key',
      );
      const sub = client.Subscribe(md);
      sub.end();
      await assert.rejects(all(sub), (e: ServiceError) => e.code === status.UNAUTHENTICATED);
    }
  });

  test('the right key works with the scheme word in any case', async () => {
    const md = new Metadata();
    md.set('authorization', `bEaReR ${KEY}`);
    const info = await unary<{ majorVersion: number; proxy?: { proxyEndpoints: readonly string[] } | undefined }>(
      (m, cb) => client.Info({}, m, cb),
      md,
    );
    assert.equal(info.majorVersion, 5);
    assert.deepEqual(info.proxy?.proxyEndpoints, [server.address]);
  });
});

describe('grpc: bad input', () => {
  test('bad requests get their in-band codes with gRPC OK and leave the data untouched', async () => {
    const uuid = await newStream();
    const good = { times: BigInt64Array.of(1n, 2n, 3n), values: Float64Array.of(1, 2, 3) };
    await unary((md, cb) => client.Insert(insertReq(uuid, good), md, cb));
    const stat = async (p: Promise<{ stat?: { code: number } | undefined }>) => (await p).stat?.code;
    // wrong uuid length
    assert.equal(await stat(unary((md, cb) => client.Insert(insertReq(uuid.subarray(0, 15), good), md, cb))), 438);
    // NaN
    const nan = { times: BigInt64Array.of(4n), values: Float64Array.of(Number.NaN) };
    assert.equal(await stat(unary((md, cb) => client.Insert(insertReq(uuid, nan), md, cb))), 425);
    // reversed range (read and delete)
    const rev = await all(client.RawValues({ uuid, start: 10n, end: 1n, versionMajor: 0n }, auth()));
    assert.deepEqual(
      rev.map((m) => m.stat?.code),
      [413],
    );
    assert.equal(await stat(unary((md, cb) => client.Delete({ uuid, start: 10n, end: 1n }, md, cb))), 413);
    // pw 64
    const aw = await all(
      client.AlignedWindows({ uuid, start: 0n, end: 10n, versionMajor: 0n, pointWidth: 64 }, auth()),
    );
    assert.deepEqual(
      aw.map((m) => m.stat?.code),
      [415],
    );
    // 10 MB of annotations in many keys: 438 in-band
    const changes = Array.from({ length: 40_000 }, (_, i) => ({ key: `k${i}`, val: { value: 'v'.repeat(250) } }));
    assert.equal(
      await stat(
        unary((md, cb) =>
          client.SetStreamAnnotations({ uuid, expectedPropertyVersion: 1n, changes, removals: [] }, md, cb),
        ),
      ),
      438,
    );
    assert.deepEqual(await readTimes(uuid), [1n, 2n, 3n]);
    const info = await unary<{ descriptor?: { propertyVersion: bigint } | undefined }>((md, cb) =>
      client.StreamInfo({ uuid, omitVersion: false, omitDescriptor: false }, md, cb),
    );
    assert.equal(info.descriptor?.propertyVersion, 1n);
  });

  test('undecodable bytes, a 10 MB tag and an unknown RPC fail at the transport and change nothing', async () => {
    const uuid = await newStream();
    await unary((md, cb) =>
      client.Insert(insertReq(uuid, { times: BigInt64Array.of(7n), values: Float64Array.of(7) }), md, cb),
    );
    const raw = new Client(server.address, credentials.createInsecure());
    const send = (rpc: string, bytes: Buffer) =>
      new Promise<ServiceError>((resolve, reject) => {
        raw.makeUnaryRequest(
          `/v5api.BTrDB/${rpc}`,
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          auth(),
          (e) => (e ? resolve(e) : reject(new Error('expected an error'))),
        );
      });
    try {
      const garbage = await send('Insert', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]));
      assert.equal(garbage.code, status.INTERNAL);
      assert.match(garbage.details, /deserializ/i);
      // A truncated copy of a real Insert (the points are cut mid-entry).
      const real = encodeInsertParams(
        insertReq(uuid, { times: BigInt64Array.of(8n, 9n), values: Float64Array.of(8, 9) }),
      );
      const cut = await send('Insert', Buffer.from(real.subarray(0, real.length - 5)));
      assert.equal(cut.code, status.INTERNAL);
      const hugeTag = Buffer.concat([
        Buffer.from([0x0a, 16]),
        Buffer.from(uuid),
        Buffer.from([0x12, 1, 0x61]),
        tagField('x'.repeat(10 << 20)),
      ]);
      const huge = await send('Create', hugeTag);
      assert.equal(huge.code, status.INTERNAL);
      const unknown = await send('NoSuchRpc', Buffer.alloc(0));
      assert.equal(unknown.code, status.UNIMPLEMENTED);
    } finally {
      raw.close();
    }
    assert.deepEqual(await readTimes(uuid), [7n]);
  });

  test('an Insert of 200,000 points in one message is accepted', async () => {
    const uuid = await newStream();
    const n = 200_000;
    const times = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
    const r = await unary<{ stat?: unknown; versionMajor: bigint }>((md, cb) =>
      client.Insert(insertReq(uuid, { times, values: new Float64Array(n) }), md, cb),
    );
    assert.equal(r.stat, undefined);
    assert.equal((await readTimes(uuid)).length, n);
  });
});

/** A CreateParams `tags` entry (field 3) whose value is `value`, encoded by hand (any size). */
function tagField(value: string): Buffer {
  const v = Buffer.from(value);
  const opt = Buffer.concat([Buffer.from([0x0a]), varint(v.length), v]);
  const kov = Buffer.concat([
    Buffer.from([0x0a, 4]),
    Buffer.from('name'),
    Buffer.from([0x12]),
    varint(opt.length),
    opt,
  ]);
  return Buffer.concat([Buffer.from([0x1a]), varint(kov.length), kov]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

describe('grpc: streaming', () => {
  test('a paused reader holds the server back instead of it buffering the whole answer', async () => {
    const uuid = await newStream();
    const n = 600_000;
    const times = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
    await unary((md, cb) => client.Insert(insertReq(uuid, { times, values: new Float64Array(n) }), md, cb));
    await unary((md, cb) => client.Flush({ uuid }, md, cb));
    // A client with HTTP/2's default 64 KiB window, reading one message and then pausing.
    const slow = createBTrDBClient(server.address, credentials.createInsecure(), {
      'grpc-node.flow_control_window': 65_535,
    });
    try {
      pulled.points = 0;
      const call = slow.RawValues({ uuid, start: 0n, end: BigInt(n), versionMajor: 0n }, auth());
      let received = 0;
      await new Promise<void>((resolve) => {
        call.once('data', (m: { values: PointBatch }) => {
          received += m.values.times.length;
          call.pause();
          resolve();
        });
      });
      await new Promise((r) => setTimeout(r, 1500));
      const whilePaused = pulled.points;
      assert.ok(whilePaused < n / 3, `the server read ${whilePaused} of ${n} points for a paused reader`);
      call.on('data', (m: { values: PointBatch }) => {
        received += m.values.times.length;
      });
      call.resume();
      await new Promise((resolve, reject) => {
        call.on('end', resolve);
        call.on('error', reject);
      });
      assert.equal(received, n);
    } finally {
      slow.close();
    }
  });

  test('every streaming RPC sends at least one message, also for an empty answer', async () => {
    const uuid = await newStream();
    const msgs = await all(
      client.Windows({ uuid, start: 0n, end: 100n, versionMajor: 0n, width: 1000n, depth: 0 }, auth()),
    );
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0]!.stat, undefined);
    const arrow = await all(
      client.ArrowAlignedWindows({ uuid, start: 0n, end: 100n, versionMajor: 0n, pointWidth: 3 }, auth()),
    );
    assert.equal(arrow.length, 1);
    assert.ok(arrow[0]!.arrowBytes.length > 0);
  });
});

describe('grpc: TLS and shutdown', () => {
  test('a TLS server answers a client that trusts its certificate', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-tls-'));
    try {
      try {
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-days',
            '1',
            '-subj',
            '/CN=localhost',
            '-addext',
            'subjectAltName=DNS:localhost,IP:127.0.0.1',
            '-keyout',
            path.join(dir, 'key.pem'),
            '-out',
            path.join(dir, 'cert.pem'),
          ],
          { stdio: 'ignore' },
        );
      } catch {
        t.skip('openssl is not available to make a test certificate');
        return;
      }
      const cert = fs.readFileSync(path.join(dir, 'cert.pem'));
      const tls = await startGrpcServer({
        backend: db,
        address: '127.0.0.1:0',
        apiKeys: [KEY],
        tls: { cert, key: fs.readFileSync(path.join(dir, 'key.pem')) },
      });
      const c = createBTrDBClient(`localhost:${tls.port}`, credentials.createSsl(cert));
      try {
        const info = await unary<{ minorVersion: number }>((md, cb) => c.Info({}, md, cb));
        assert.equal(info.minorVersion, 34);
      } finally {
        c.close();
        await tls.close(1000);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('close lets in-flight calls finish, ends subscriptions, then refuses new calls', async () => {
    const slowInsert = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === 'insert') {
          return async (...args: Parameters<Backend['insert']>) => {
            await new Promise((r) => setTimeout(r, 300));
            return target.insert(...args);
          };
        }
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as Backend;
    const own = await startGrpcServer({ backend: slowInsert, address: '127.0.0.1:0' });
    const c = createBTrDBClient(own.address, credentials.createInsecure());
    const uuid = await newStream();
    await unary((md, cb) => c.Info({}, md, cb), new Metadata());
    const sub = c.Subscribe(new Metadata());
    sub.write({ op: 0, uuid: [uuid] });
    const subEnded = all(sub);
    const pending = new Promise<{ stat?: unknown }>((resolve, reject) =>
      c.Insert(insertReq(uuid, { times: BigInt64Array.of(1n), values: Float64Array.of(1) }), new Metadata(), (e, r) =>
        e ? reject(e) : resolve(r!),
      ),
    );
    while (own.activeCalls < 2) await new Promise((r) => setTimeout(r, 5));
    const clean = await own.close(5000);
    assert.equal(clean, true);
    assert.equal((await pending).stat, undefined);
    await subEnded;
    await assert.rejects(
      new Promise((resolve, reject) =>
        c.Info({}, new Metadata(), { deadline: Date.now() + 500 }, (e, r) => (e ? reject(e) : resolve(r))),
      ),
    );
    c.close();
    assert.deepEqual(await readTimes(uuid), [1n]);
  });
});

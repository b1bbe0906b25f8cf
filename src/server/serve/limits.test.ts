/**
 * The limits of docs/api/limits.md over the real transports: each breach gets the documented
 * error and leaves the data as it was. Limits that are options are set small here so that the
 * test stays cheap; the defaults are checked against the documentation table.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ClientReadableStream, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { DEFAULT_SQL_MAX_ROWS, DEFAULT_SQL_TIMEOUT_MS } from '../../catalog/types.ts';
import { MAX_ANNOTATIONS_PER_STREAM, MAX_COLLECTION_BYTES } from '../../catalog/validate.ts';
import type { StreamId } from '../../core/types.ts';
import { newStreamId, streamIdToBytes } from '../../core/uuid.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import { type BTrDBClient, createBTrDBClient, type StreamInfoResponse } from '../../wire/index.ts';
import { startGrpcServer } from '../grpc/grpc-server.ts';
import type { GrpcServer } from '../grpc/index.ts';
import { startHttpServer } from '../http/http-server.ts';
import type { HttpServer } from '../http/index.ts';
import { MAX_METADATA_ENTRIES } from '../service/convert.ts';
import { MAX_SUBSCRIBED_STREAMS } from '../service/subscribe.ts';
import {
  DEFAULT_MAX_BODY_MB,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_MAX_MESSAGE_MB,
  parseServeConfig,
} from './serve-config.ts';

const KEY = 'limits-key';
const MESSAGE_BYTES = 256 * 1024;
const INSERT_POINTS = 5000;
const CONCURRENT = 2;
const BODY_BYTES = 4096;

let db: Database;
let grpc: GrpcServer;
let http: HttpServer;
let client: BTrDBClient;
let stream: StreamId;
let uuid: Uint8Array;

const md = (): Metadata => {
  const m = new Metadata();
  m.set('authorization', `Bearer ${KEY}`);
  return m;
};

function unary<R>(call: (m: Metadata, cb: (e: ServiceError | null, r?: R) => void) => unknown): Promise<R> {
  return new Promise((resolve, reject) => call(md(), (e, r) => (e ? reject(e) : resolve(r!))));
}

async function all<T>(s: ClientReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of s) out.push(m as T);
  return out;
}

const statOf = (m: unknown): number | undefined => (m as { stat?: { code: number } }).stat?.code;

const points = (n: number, from = 0) => ({
  times: BigInt64Array.from({ length: n }, (_, i) => BigInt(from + i)),
  values: Float64Array.from({ length: n }, (_, i) => i),
});

async function count(): Promise<number> {
  const msgs = await all(client.RawValues({ uuid, start: 0n, end: 1n << 50n, versionMajor: 0n }, md()));
  return msgs.reduce((n, m) => n + m.values.times.length, 0);
}

async function propertyVersion(): Promise<bigint> {
  const r = await unary<StreamInfoResponse>((m, cb) =>
    client.StreamInfo({ uuid, omitVersion: true, omitDescriptor: false }, m, cb),
  );
  return r.descriptor!.propertyVersion;
}

async function api(method: string, p: string, body?: string) {
  const res = await fetch(http.url + p, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  });
  return {
    status: res.status,
    json: (await res.json()) as { error?: { code: number; name: string; message: string } },
  };
}

before(async () => {
  db = await openDatabase(null);
  grpc = await startGrpcServer({
    backend: db,
    address: '127.0.0.1:0',
    apiKeys: [KEY],
    maxReceiveBytes: MESSAGE_BYTES,
    maxInsertPoints: INSERT_POINTS,
    maxConcurrentStreams: CONCURRENT,
  });
  http = await startHttpServer(db, { address: '127.0.0.1:0', apiKeys: [KEY], maxBodyBytes: BODY_BYTES, webRoot: null });
  client = createBTrDBClient(grpc.address, credentials.createInsecure());
  stream = newStreamId();
  uuid = streamIdToBytes(stream);
  await db.create({ id: stream, collection: 'limits', tags: { name: 's' }, annotations: { a: '1' } });
  await db.insert(stream, points(10));
});

after(async () => {
  client.close();
  await http.close();
  await grpc.close(0);
  await db.close();
});

describe('gRPC limits', () => {
  test('a request message over the limit is RESOURCE_EXHAUSTED and inserts nothing', async () => {
    const huge = { uuid, sync: false, values: points(40_000, 100), merge_policy: 0 }; // ≈ 640 KB > 256 KiB
    await assert.rejects(
      unary((m, cb) => client.Insert(huge, m, cb)),
      (e: ServiceError) => e.code === status.RESOURCE_EXHAUSTED,
    );
    assert.equal(await count(), 10);
  });

  test('more points in one Insert than the limit fails the call and inserts nothing', async () => {
    const over = { uuid, sync: false, values: points(INSERT_POINTS + 1, 100), merge_policy: 0 };
    await assert.rejects(
      unary((m, cb) => client.Insert(over, m, cb)),
      (e: ServiceError) => e.code === status.INTERNAL && /deserializ/i.test(e.details),
    );
    assert.equal(await count(), 10);
    const ok = { uuid, sync: false, values: points(INSERT_POINTS, 1000), merge_policy: 0 };
    assert.equal(statOf(await unary((m, cb) => client.Insert(ok, m, cb))), undefined, 'exactly the limit passes');
    await unary((m, cb) => client.Delete({ uuid, start: 1000n, end: 1n << 50n }, m, cb));
    assert.equal(await count(), 10);
  });

  test('tag, annotation and collection sizes and counts get 407/408/409/438 and change nothing', async () => {
    const v0 = await propertyVersion();
    const long = 'x'.repeat(256);
    const tags = (key: string, value: string) => ({
      uuid,
      expectedPropertyVersion: v0,
      tags: [{ key, val: { value } }],
      collection: '',
      remove: [],
    });
    assert.equal(statOf(await unary((m, cb) => client.SetStreamTags(tags('unit', long), m, cb))), 409);
    assert.equal(statOf(await unary((m, cb) => client.SetStreamTags(tags('colour', 'red'), m, cb))), 408);
    const ann = (entries: { key: string; val: { value: string } }[]) => ({
      uuid,
      expectedPropertyVersion: v0,
      changes: entries,
      removals: [],
    });
    assert.equal(
      statOf(await unary((m, cb) => client.SetStreamAnnotations(ann([{ key: long, val: { value: '1' } }]), m, cb))),
      408,
    );
    assert.equal(
      statOf(await unary((m, cb) => client.SetStreamAnnotations(ann([{ key: 'k', val: { value: long } }]), m, cb))),
      409,
    );
    const many = Array.from({ length: MAX_METADATA_ENTRIES + 1 }, (_, i) => ({ key: `k${i}`, val: { value: 'v' } }));
    assert.equal(statOf(await unary((m, cb) => client.SetStreamAnnotations(ann(many), m, cb))), 438);
    // Per stream: the stream has 1 annotation; adding MAX more would give MAX + 1.
    const perStream = many.slice(0, MAX_ANNOTATIONS_PER_STREAM);
    assert.equal(statOf(await unary((m, cb) => client.SetStreamAnnotations(ann(perStream), m, cb))), 438);
    assert.equal(
      statOf(await unary((m, cb) => client.SetStreamAnnotations(ann(perStream.slice(1)), m, cb))),
      undefined,
      'exactly the limit passes',
    );
    const v1 = await propertyVersion();
    assert.equal(v1, v0 + 1n, 'only the accepted change bumped the property version');
    const over = {
      uuid,
      expectedPropertyVersion: v1,
      changes: [{ key: 'one-more', val: { value: '1' } }],
      removals: [],
    };
    assert.equal(statOf(await unary((m, cb) => client.SetStreamAnnotations(over, m, cb))), 438);
    const swap = { ...over, removals: ['a'] };
    assert.equal(
      statOf(await unary((m, cb) => client.SetStreamAnnotations(swap, m, cb))),
      undefined,
      'remove one, add one',
    );
    const other = streamIdToBytes(newStreamId());
    const create = (collection: string) => ({ uuid: other, collection, tags: [], annotations: [] });
    assert.equal(
      statOf(await unary((m, cb) => client.Create(create('c'.repeat(MAX_COLLECTION_BYTES + 1)), m, cb))),
      407,
    );
    const tooMany = { ...create('ok'), annotations: many.slice(0, MAX_ANNOTATIONS_PER_STREAM + 1) };
    assert.equal(statOf(await unary((m, cb) => client.Create(tooMany, m, cb))), 438);
    const info = await unary<StreamInfoResponse>((m, cb) =>
      client.StreamInfo({ uuid: other, omitVersion: false, omitDescriptor: false }, m, cb),
    );
    assert.equal(statOf(info), 404, 'the refused creates created nothing');
  });

  test('more streams per request than the limit is 438 for ArrowMultiValues, GenerateCSV and Subscribe', async () => {
    const ids = Array.from({ length: MAX_METADATA_ENTRIES + 1 }, () => streamIdToBytes(newStreamId()));
    const multi = await all(
      client.ArrowMultiValues(
        { uuid: ids, versionMajor: [], start: 0n, end: 10n, snapPeriodNs: 0n, templateBytes: new Uint8Array(0) },
        md(),
      ),
    );
    assert.equal(statOf(multi[0]), 438);
    const csv = await all(
      client.GenerateCSV(
        {
          queryType: 2,
          startTime: 0n,
          endTime: 10n,
          windowSize: 0n,
          depth: 0,
          includeVersions: false,
          streams: ids.map((u) => ({ version: 0n, label: 'x', uuid: u })),
        },
        md(),
      ),
    );
    assert.equal(statOf(csv[0]), 438);
    const sub = client.Subscribe(md());
    const ids2 = Array.from({ length: MAX_SUBSCRIBED_STREAMS + 1 }, () => streamIdToBytes(newStreamId()));
    sub.write({ op: 0, uuid: ids2 });
    const got: unknown[] = [];
    for await (const m of sub) got.push(m);
    assert.equal(got.length, 1);
    assert.equal(statOf(got[0]), 438);
  });

  test('SQL past the time limit is 441 and the server keeps answering', async () => {
    const count = () => all(client.SQLQuery({ query: 'select count(*) as n from streams', params: [] }, md()));
    assert.equal(statOf((await count())[0]), undefined); // starts the sandbox (slow the first time)
    const t0 = Date.now();
    const r = await all(client.SQLQuery({ query: 'select pg_sleep(60)', params: [] }, md()));
    assert.equal(statOf(r[0]), 441);
    assert.match(
      (r[0] as { stat: { msg: string } }).stat.msg,
      new RegExp(`time limit of ${DEFAULT_SQL_TIMEOUT_MS} ms`),
    );
    assert.ok(Date.now() - t0 < 50_000, 'stopped long before the sleep would end');
    assert.equal(statOf((await count())[0]), undefined, 'the sandbox comes back');
  });

  test('a connection has at most maxConcurrentStreams calls open; the next waits for one to end', async () => {
    const own = createBTrDBClient(grpc.address, credentials.createInsecure());
    try {
      const subs = Array.from({ length: CONCURRENT }, () => {
        const s = own.Subscribe(md());
        s.on('error', () => undefined);
        s.write({ op: 0, uuid: [uuid] });
        return s;
      });
      await new Promise((r) => setTimeout(r, 200));
      let answered = false;
      const info = new Promise<void>((resolve, reject) =>
        own.Info({}, md(), (e) => {
          answered = true;
          return e ? reject(e) : resolve();
        }),
      );
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(answered, false, 'the third call waits while two are open');
      subs[0]!.cancel();
      await info;
      subs[1]!.cancel();
    } finally {
      own.close();
    }
  });
});

describe('HTTP limits', () => {
  test('a body over the limit is 413 with a JSON error and inserts nothing', async () => {
    const n = 1000;
    const body = JSON.stringify({
      times: Array.from({ length: n }, (_, i) => String(500 + i)),
      values: Array(n).fill(1.5),
    });
    assert.ok(body.length > BODY_BYTES);
    const a = await api('POST', `/api/streams/${stream}/points`, body);
    assert.equal(a.status, 413);
    assert.equal(a.json.error?.name, 'PayloadTooLarge');
    assert.equal(await count(), 10);
  });

  test('following more streams than /api/live allows is 400', async () => {
    const ids = Array.from({ length: 65 }, () => newStreamId()).join(',');
    const a = await api('GET', `/api/live?uuid=${ids}`);
    assert.equal(a.status, 400);
  });
});

test('the documented defaults are the ones in the code', () => {
  const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../../docs/api/limits.md'), 'utf8');
  const cfg = parseServeConfig(['--data', ':memory:'], {}, () => '');
  assert.equal(cfg.maxMessageBytes, DEFAULT_MAX_MESSAGE_MB * 1024 * 1024);
  assert.equal(cfg.maxConcurrentStreams, DEFAULT_MAX_CONCURRENT_STREAMS);
  assert.equal(cfg.maxBodyBytes, DEFAULT_MAX_BODY_MB * 1024 * 1024);
  const rows: [string, string][] = [
    ['gRPC request message', `${DEFAULT_MAX_MESSAGE_MB} MiB`],
    ['concurrent calls per gRPC connection', String(DEFAULT_MAX_CONCURRENT_STREAMS)],
    ['HTTP request body', `${DEFAULT_MAX_BODY_MB} MiB`],
    ['annotations per stream', String(MAX_ANNOTATIONS_PER_STREAM)],
    ['streams per Subscribe call', String(MAX_SUBSCRIBED_STREAMS)],
    ['SQL time', `${DEFAULT_SQL_TIMEOUT_MS} ms`],
    ['SQL result', DEFAULT_SQL_MAX_ROWS.toLocaleString('en-US')],
  ];
  for (const [name, value] of rows) {
    const line = doc.split('\n').find((l) => l.startsWith(`| ${name}`));
    assert.ok(line, `docs/api/limits.md has a row "${name}"`);
    assert.ok(line.includes(value), `"${name}" row says ${value}: ${line}`);
  }
});

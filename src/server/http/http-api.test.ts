import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { DbError } from '../../core/errors.ts';
import type { Backend } from '../../db/backend.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import { type Answer, countingBackend, errorOf, stalledGet, TestClient } from './http-testing.ts';
import { type HttpServer, startHttpServer } from './index.ts';
import { pointsFromJson } from './insert-body.ts';

let db: Database;
let server: HttpServer;
let api: TestClient;

interface StreamJson {
  uuid: string;
  collection: string;
  name: string;
  unit: string;
  tags: Record<string, string>;
  annotations: Record<string, string>;
  propertyVersion: number;
  version: number;
}
interface PointJson {
  time: string;
  value: number | string;
  flags?: number;
}
interface WindowJson {
  time: string;
  min: number;
  mean: number;
  max: number;
  count: number;
  stddev: number;
}

const json = <T>(a: Answer): T => a.json as T;

async function createStream(
  collection: string,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<StreamJson> {
  const a = await api.send('POST', '/api/streams', { collection, tags: { name, unit: 'V' }, ...extra });
  assert.equal(a.status, 201, a.text);
  return json<StreamJson>(a);
}

async function insert(uuid: string, times: (string | number)[], values: (number | string)[]): Promise<number> {
  const a = await api.send('POST', `/api/streams/${uuid}/points`, { times, values });
  assert.equal(a.status, 200, a.text);
  return json<{ version: number }>(a).version;
}

before(async () => {
  db = await openDatabase(null);
  server = await startHttpServer(db, { address: '127.0.0.1:0', liveHeartbeatMs: 50 });
  api = new TestClient(server.url);
});

after(async () => {
  await server.close();
  await db.close();
});

describe('server endpoints', () => {
  test('info reports the BTrDB protocol version and the HTTP API version', async () => {
    const a = await api.get('/api/info');
    assert.equal(a.status, 200);
    const i = json<{ majorVersion: number; minorVersion: number; httpApiVersion: string }>(a);
    assert.equal(i.majorVersion, 5);
    assert.ok(i.minorVersion >= 30);
    assert.equal(i.httpApiVersion, '1.0.0');
  });

  test('healthz and readyz answer ok while the server runs', async () => {
    assert.equal((await api.get('/healthz')).status, 200);
    const r = await api.get('/readyz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ready' });
  });

  test('an unknown path under /api is a JSON 404 and a wrong method a 405 with Allow', async () => {
    const a = await api.get('/api/nope');
    assert.equal(a.status, 404);
    assert.equal(errorOf(a).name, 'NotFound');
    const b = await api.request('PUT', '/api/streams');
    assert.equal(b.status, 405);
    assert.equal(b.headers.get('allow'), 'GET, POST');
  });

  test('an unknown query parameter is rejected with the known ones named', async () => {
    const a = await api.get('/api/collections?prefx=a');
    assert.equal(a.status, 400);
    assert.equal(errorOf(a).code, 438);
    assert.match(errorOf(a).message, /known: prefix/);
  });

  test('the web plotter is served at / with a strict content security policy', async () => {
    const a = await api.get('/');
    assert.equal(a.status, 200);
    assert.match(a.headers.get('content-type') ?? '', /text\/html/);
    assert.match(a.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(a.text, /<canvas id="plot">/);
    const js = await api.get('/js/app.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const again = await api.get('/js/app.js', { 'if-none-match': js.headers.get('etag') ?? '' });
    assert.equal(again.status, 304);
  });

  test('static paths cannot escape the web folder', async () => {
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/js/../../package.json', '/%00', '/js/']) {
      assert.equal((await api.get(p)).status, 404, p);
    }
  });
});

describe('streams and metadata', () => {
  test('create answers 201 with the descriptor and property version 1', async () => {
    const s = await createStream('http/meta/a', 'volts', { annotations: { site: 'north' } });
    assert.equal(s.collection, 'http/meta/a');
    assert.equal(s.name, 'volts');
    assert.equal(s.unit, 'V');
    assert.deepEqual(s.tags, { name: 'volts', unit: 'V', ingress: '' });
    assert.deepEqual(s.annotations, { site: 'north' });
    assert.equal(s.propertyVersion, 1);
    const info = await api.get(`/api/streams/${s.uuid}`);
    assert.deepEqual(info.json, s);
  });

  test('create rejects bad input with the BTrDB code mapped to an HTTP status', async () => {
    const s = await createStream('http/meta/dup', 'x');
    const cases: [unknown, number, string][] = [
      [{ uuid: s.uuid, collection: 'http/meta/other', tags: { name: 'y' } }, 409, 'SameStream'],
      [{ collection: 'http/meta/dup', tags: { name: 'x', unit: 'V' } }, 409, 'AmbiguousStream'],
      [{ collection: '', tags: { name: 'x' } }, 400, 'InvalidCollection'],
      [{ collection: 'c', tags: { colour: 'red' } }, 400, 'InvalidTagKey'],
      [{ collection: 'c', tags: { name: 'a\u0000b' } }, 400, 'InvalidTagValue'],
      [{ collection: 'c', tagz: {} }, 400, 'InvalidParameter'],
      [{ tags: {} }, 400, 'InvalidParameter'],
      [{ collection: 5 }, 400, 'InvalidParameter'],
      [{ uuid: 'not-a-uuid', collection: 'c' }, 400, 'InvalidParameter'],
    ];
    for (const [body, status, name] of cases) {
      const a = await api.send('POST', '/api/streams', body);
      assert.equal(a.status, status, `${JSON.stringify(body)}: ${a.text}`);
      assert.equal(errorOf(a).name, name, JSON.stringify(body));
    }
  });

  test('a body that is not JSON, empty, or of another media type is rejected', async () => {
    const notJson = await api.request('POST', '/api/streams', {
      body: '{',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(notJson.status, 400);
    assert.match(errorOf(notJson).message, /not valid JSON/);
    const empty = await api.request('POST', '/api/streams', {
      body: '',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(empty.status, 400);
    const xml = await api.request('POST', '/api/streams', {
      body: '<a/>',
      headers: { 'content-type': 'application/xml' },
    });
    assert.equal(xml.status, 415);
    assert.equal(errorOf(xml).name, 'UnsupportedMediaType');
  });

  test('stream info of an unknown stream is 404 and of a malformed uuid 400', async () => {
    const a = await api.get('/api/streams/6f1c0f6e-0000-4000-8000-000000000000');
    assert.equal(a.status, 404);
    assert.deepEqual(errorOf(a), {
      code: 404,
      name: 'NoSuchStream',
      message: 'stream 6f1c0f6e-0000-4000-8000-000000000000 does not exist',
    });
    const b = await api.get('/api/streams/xyz');
    assert.equal(b.status, 400);
    assert.equal(errorOf(b).code, 438);
  });

  test('metadata update checks the property version and raises it', async () => {
    const s = await createStream('http/meta/update', 'u');
    const a = await api.send('PATCH', `/api/streams/${s.uuid}`, {
      expectedPropertyVersion: 1,
      tags: { unit: 'kV' },
      annotations: { owner: 'grid', gone: null },
    });
    assert.equal(a.status, 200, a.text);
    const after = json<StreamJson>(a);
    assert.equal(after.unit, 'kV');
    assert.deepEqual(after.annotations, { owner: 'grid' });
    assert.ok(after.propertyVersion > 1);
    const stale = await api.send('PATCH', `/api/streams/${s.uuid}`, {
      expectedPropertyVersion: 1,
      annotations: { a: 'b' },
    });
    assert.equal(stale.status, 409);
    assert.equal(errorOf(stale).name, 'AnnotationVersionMismatch');
    const moved = await api.send('PATCH', `/api/streams/${s.uuid}`, {
      expectedPropertyVersion: after.propertyVersion,
      collection: 'http/meta/moved',
    });
    assert.equal(json<StreamJson>(moved).collection, 'http/meta/moved');
    const nothing = await api.send('PATCH', `/api/streams/${s.uuid}`, { expectedPropertyVersion: 9 });
    assert.equal(nothing.status, 400);
    const removeAnn = await api.send('PATCH', `/api/streams/${s.uuid}`, {
      expectedPropertyVersion: json<StreamJson>(moved).propertyVersion,
      annotations: { owner: null },
    });
    assert.deepEqual(json<StreamJson>(removeAnn).annotations, {});
  });

  test('list streams filters by prefix, exact collection, tags, key presence and search text', async () => {
    const a = await createStream('http/list/x', 'alpha', { annotations: { kind: 'pmu' } });
    const b = await createStream('http/list/y', 'beta');
    await api.send('PATCH', `/api/streams/${b.uuid}`, { expectedPropertyVersion: 1, tags: { unit: 'Hz' } });
    const ids = async (q: string) =>
      json<{ streams: StreamJson[] }>(await api.get(`/api/streams?${q}`))
        .streams.map((s) => s.uuid)
        .sort();
    assert.deepEqual(await ids('collection=http/list'), [a.uuid, b.uuid].sort());
    assert.deepEqual(await ids('collection=http/list&prefix=false'), []);
    assert.deepEqual(await ids('collection=http/list/x&prefix=false'), [a.uuid]);
    assert.deepEqual(await ids('collection=http/list&tag[unit]=Hz'), [b.uuid]);
    assert.deepEqual(await ids('collection=http/list&hasannotation=kind'), [a.uuid]);
    assert.deepEqual(await ids('collection=http/list&annotation[kind]=pmu&tag[name]=alpha'), [a.uuid]);
    assert.deepEqual(await ids('q=BETA'), [b.uuid]);
    const limited = json<{ streams: StreamJson[]; truncated: boolean }>(
      await api.get('/api/streams?collection=http/list&limit=1'),
    );
    assert.equal(limited.streams.length, 1);
    assert.equal(limited.truncated, true);
    const nd = await api.get('/api/streams?collection=http/list', { accept: 'application/x-ndjson' });
    assert.equal(nd.text.trim().split('\n').length, 2);
    assert.equal((await api.get('/api/streams?limit=0')).status, 400);
    assert.equal((await api.get('/api/streams?tag=x')).status, 400);
  });

  test('collections and metadata usage list what exists under a prefix', async () => {
    await createStream('http/coll/one', 'c1', { annotations: { note: 'n' } });
    await createStream('http/coll/two', 'c2');
    const c = json<{ collections: string[] }>(await api.get('/api/collections?prefix=http/coll/'));
    assert.deepEqual(c.collections, ['http/coll/one', 'http/coll/two']);
    const u = json<{ tags: Record<string, number>; annotations: Record<string, number> }>(
      await api.get('/api/metadata-usage?prefix=http/coll/'),
    );
    assert.equal(u.tags.name, 2);
    assert.equal(u.annotations.note, 1);
  });

  test('read-only SQL answers rows and rejects anything but a SELECT', async () => {
    const s = await createStream('http/sql', 'q1');
    const a = await api.send('POST', '/api/sql', {
      query: 'select uuid, name, property_version from streams where collection = $1',
      params: ['http/sql'],
    });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.json, { rows: [{ uuid: s.uuid, name: 'q1', property_version: 1 }] });
    const bad = await api.send('POST', '/api/sql', { query: 'delete from streams' });
    assert.equal(bad.status, 400);
    assert.equal(errorOf(bad).name, 'BadSQLValue');
    const nd = await api.request('POST', '/api/sql?format=ndjson', {
      body: JSON.stringify({ query: "select name from streams where collection = 'http/sql'" }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(nd.text, '{"name":"q1"}\n');
  });

  test('obliterate erases the stream for good', async () => {
    const s = await createStream('http/obliterate', 'gone');
    const a = await api.request('DELETE', `/api/streams/${s.uuid}`);
    assert.equal(a.status, 200);
    assert.equal((await api.get(`/api/streams/${s.uuid}`)).status, 404);
    const again = await api.send('POST', '/api/streams', {
      uuid: s.uuid,
      collection: 'http/obliterate',
      tags: { name: 'x' },
    });
    assert.equal(again.status, 409);
    assert.equal(errorOf(again).name, 'ReusedUUID');
  });
});

describe('data', () => {
  let s: StreamJson;
  before(async () => {
    s = await createStream('http/data', 'd');
    await insert(s.uuid, ['1000', '2000', '3000', 4000, '5000'], [1, 2, 3, 4, 5]);
  });

  test('raw values come back in every format with the version header', async () => {
    const a = await api.get(`/api/streams/${s.uuid}/points?start=0&end=10000`);
    assert.equal(a.status, 200);
    const body = json<{ version: number; points: PointJson[] }>(a);
    assert.deepEqual(
      body.points.map((p) => [p.time, p.value]),
      [
        ['1000', 1],
        ['2000', 2],
        ['3000', 3],
        ['4000', 4],
        ['5000', 5],
      ],
    );
    assert.equal(a.headers.get('x-arbor-version'), String(body.version));
    const nd = await api.get(`/api/streams/${s.uuid}/points?start=0&end=10000`, { accept: 'application/x-ndjson' });
    assert.equal(nd.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
    assert.deepEqual(
      nd.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as PointJson),
      body.points,
    );
    const csv = await api.get(`/api/streams/${s.uuid}/points?start=0&end=3000&format=csv`);
    assert.equal(csv.text, 'time,value,flags\n1000,1,0\n2000,2,0\n');
    assert.match(csv.headers.get('content-disposition') ?? '', /attachment/);
    const arrow = await api.bytes(`/api/streams/${s.uuid}/points?start=0&end=10000`, {
      accept: 'application/vnd.apache.arrow.stream',
    });
    assert.equal(arrow.type, 'application/vnd.apache.arrow.stream');
    const t = tableFromIPC(arrow.body);
    assert.deepEqual(
      t.schema.fields.map((f) => f.name),
      ['time', 'value'],
    );
    assert.deepEqual([...(t.getChild('value')!.toArray() as Float64Array)], [1, 2, 3, 4, 5]);
  });

  test('times may be ISO-8601 in and out', async () => {
    const a = await api.get(
      `/api/streams/${s.uuid}/points?start=1970-01-01T00:00:00.000002Z&end=1970-01-01T00:00:00.000004Z&timefmt=iso`,
    );
    assert.deepEqual(
      json<{ points: PointJson[] }>(a).points.map((p) => p.time),
      ['1970-01-01T00:00:00.000002000Z', '1970-01-01T00:00:00.000003000Z'],
    );
  });

  test('bad ranges and times are 400 InvalidTimeRange', async () => {
    for (const q of ['start=5&end=5', 'start=9&end=1', 'start=yesterday&end=1', `start=0&end=${2n ** 64n}`]) {
      const a = await api.get(`/api/streams/${s.uuid}/points?${q}`);
      assert.equal(a.status, 400, q);
      assert.equal(errorOf(a).code, 413, q);
    }
  });

  test('an Accept header nothing matches is 406', async () => {
    const a = await api.get(`/api/streams/${s.uuid}/points`, { accept: 'image/png' });
    assert.equal(a.status, 406);
    const b = await api.get(`/api/streams/${s.uuid}/points`, { accept: 'text/csv;q=0.5, application/x-ndjson' });
    assert.match(b.headers.get('content-type') ?? '', /ndjson/);
  });

  test('aligned windows and windows answer statistics, and bad widths are 415', async () => {
    const aw = json<{ windows: WindowJson[] }>(
      await api.get(`/api/streams/${s.uuid}/aligned-windows?start=0&end=8192&pw=12`),
    );
    assert.deepEqual(aw.windows, [
      { time: '0', min: 1, mean: 2.5, max: 4, count: 4, stddev: Math.sqrt(1.25) },
      { time: '4096', min: 5, mean: 5, max: 5, count: 1, stddev: 0 },
    ]);
    const w = json<{ windows: WindowJson[] }>(
      await api.get(`/api/streams/${s.uuid}/windows?start=1000&end=6000&width=2500`),
    );
    assert.deepEqual(
      w.windows.map((x) => [x.time, x.count, x.mean]),
      [
        ['1000', 3, 2],
        ['3500', 2, 4.5],
      ],
    );
    const csv = await api.get(`/api/streams/${s.uuid}/aligned-windows?start=0&end=4096&pw=12&format=csv`);
    assert.equal(csv.text, `time,min,mean,max,count,stddev\n0,1,2.5,4,4,${Math.sqrt(1.25)}\n`);
    for (const q of [
      'aligned-windows?start=0&end=1&pw=64',
      'aligned-windows?start=0&end=1&pw=x',
      'windows?start=0&end=1&width=0',
    ]) {
      const a = await api.get(`/api/streams/${s.uuid}/${q}`);
      assert.equal(a.status, 400, q);
      assert.equal(errorOf(a).name, 'InvalidPointWidth', q);
    }
    const many = await api.get(`/api/streams/${s.uuid}/windows?start=0&end=${10n ** 15n}&width=1`);
    assert.equal(many.status, 400);
    assert.match(errorOf(many).message, /windows requested/);
  });

  test('aligned windows are capped like windows: at the limit answers, one more is refused before any read', async () => {
    const limit = 1000;
    let reads = 0;
    const spy = new Proxy(db as Backend, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (prop === 'alignedWindows' || prop === 'windows') reads++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const capped = await startHttpServer(spy, { address: '127.0.0.1:0', webRoot: null, maxWindows: limit });
    const c = new TestClient(capped.url);
    // Window index of t at width w, rounded toward −∞ (the engine floors both ends of the range).
    const slot = (t: bigint, w: bigint): bigint => (t >= 0n ? t / w : -((-t + w - 1n) / w));
    const slots = (start: bigint, end: bigint, pw: number): bigint => {
      const w = 2n ** BigInt(pw);
      const n = slot(end, w) - slot(start, w);
      return n > 0n ? n : 0n;
    };
    try {
      for (const [start, pw] of [
        [-13n, 3],
        [1003n, 0],
        [999n, 7],
      ] as const) {
        const w = 2n ** BigInt(pw);
        // The largest end with exactly `limit` windows, and the smallest with one more.
        const atLimit = (slot(start, w) + BigInt(limit) + 1n) * w - 1n;
        const over = atLimit + 1n;
        assert.equal(slots(start, atLimit, pw), BigInt(limit));
        assert.equal(slots(start, over, pw), BigInt(limit) + 1n);
        const q = (end: bigint, extra = '') =>
          `/api/streams/${s.uuid}/aligned-windows?start=${start}&end=${end}&pw=${pw}${extra}`;
        const ok = await c.get(q(atLimit));
        assert.equal(ok.status, 200, ok.text);
        assert.deepEqual(ok.json, (await api.get(q(atLimit))).json, 'the capped server answers as the default one');
        assert.ok(json<{ windows: WindowJson[] }>(ok).windows.length > 0);
        const version = json<StreamJson>(await c.get(`/api/streams/${s.uuid}`)).version;
        const before = reads;
        for (const extra of ['', '&format=ndjson', '&format=csv', '&format=arrow']) {
          const no = await c.get(q(over, extra));
          assert.equal(no.status, 400, `${start} pw ${pw}${extra}: ${no.text}`);
          assert.deepEqual(Object.keys(no.json as object), ['error']);
          const e = errorOf(no);
          assert.deepEqual([e.code, e.name], [438, 'InvalidParameter']);
          assert.match(
            e.message,
            new RegExp(`^${limit + 1} windows requested, at most ${limit} per request: raise pw`),
          );
        }
        const count = await c.get(`/api/streams/${s.uuid}/count?start=${start}&end=${over}&pw=${pw}`);
        assert.deepEqual([count.status, errorOf(count).code], [400, 438]);
        assert.equal(reads, before, 'a refused request reads nothing');
        assert.equal(json<StreamJson>(await c.get(`/api/streams/${s.uuid}`)).version, version);
      }
      // The same limit, code and error shape as /windows.
      const wins = await c.get(`/api/streams/${s.uuid}/windows?start=0&end=${limit + 1}&width=1`);
      assert.equal(wins.status, 400);
      assert.deepEqual(Object.keys(errorOf(wins)).sort(), ['code', 'message', 'name']);
      assert.deepEqual([errorOf(wins).code, errorOf(wins).name], [438, 'InvalidParameter']);
      assert.match(errorOf(wins).message, new RegExp(`^${limit + 1} windows requested, at most ${limit} per request`));
      assert.equal((await c.get(`/api/streams/${s.uuid}/windows?start=0&end=${limit}&width=1`)).status, 200);
    } finally {
      await capped.close();
    }
  });

  test('nearest looks forward and strictly backward, and finding nothing is 404 NoSuchPoint', async () => {
    assert.deepEqual(json(await api.get(`/api/streams/${s.uuid}/nearest?time=2500`)), {
      time: '3000',
      value: 3,
      version: json<{ version: number }>(await api.get(`/api/streams/${s.uuid}`)).version,
    });
    const back = json<PointJson>(await api.get(`/api/streams/${s.uuid}/nearest?time=3000&backward=true`));
    assert.equal(back.time, '2000');
    const none = await api.get(`/api/streams/${s.uuid}/nearest?time=1000&backward=true`);
    assert.equal(none.status, 404);
    assert.equal(errorOf(none).name, 'NoSuchPoint');
    assert.equal((await api.get(`/api/streams/${s.uuid}/nearest`)).status, 400);
    assert.equal((await api.get(`/api/streams/${s.uuid}/nearest?time=1&backward=maybe`)).status, 400);
  });

  test('count sums windows like the clients and counts exactly when precise', async () => {
    assert.equal(json<{ count: number }>(await api.get(`/api/streams/${s.uuid}/count`)).count, 5);
    const precise = await api.get(`/api/streams/${s.uuid}/count?start=1500&end=4001&precise=true`);
    assert.equal(json<{ count: number }>(precise).count, 3);
  });

  test('insert accepts CSV and Arrow bodies as well as JSON', async () => {
    const t = await createStream('http/data/formats', 'f');
    const csv = await api.request('POST', `/api/streams/${t.uuid}/points`, {
      body: 'value,time\n1.5,10\n2.5,1970-01-01T00:00:00.00000002Z\n',
      headers: { 'content-type': 'text/csv' },
    });
    assert.equal(csv.status, 200, csv.text);
    assert.equal(json<{ inserted: number }>(csv).inserted, 2);
    const bare = await api.request('POST', `/api/streams/${t.uuid}/points`, {
      body: '30,3.5,7\n',
      headers: { 'content-type': 'text/csv; charset=utf-8' },
    });
    assert.equal(bare.status, 200, bare.text);
    const arrow = await api.bytes(`/api/streams/${t.uuid}/points?format=arrow`);
    const back = await api.request('POST', `/api/streams/${s.uuid}/points?policy=replace`, {
      body: arrow.body,
      headers: { 'content-type': 'application/vnd.apache.arrow.stream' },
    });
    assert.equal(back.status, 200, back.text);
    const all = json<{ points: PointJson[] }>(await api.get(`/api/streams/${t.uuid}/points`)).points;
    assert.deepEqual(all, [
      { time: '10', value: 1.5 },
      { time: '20', value: 2.5 },
      { time: '30', value: 3.5, flags: 7 },
    ]);
    const copied = json<{ points: PointJson[] }>(await api.get(`/api/streams/${s.uuid}/points?end=100`)).points;
    assert.deepEqual(
      copied.map((p) => p.value),
      [1.5, 2.5, 3.5],
    );
  });

  test('insert rejects bad points whole, naming what is wrong', async () => {
    const t = await createStream('http/data/bad', 'b');
    const cases: [unknown, number, number][] = [
      [{ times: ['1'], values: ['NaN'] }, 400, 425],
      [{ times: ['1', '2'], values: [1] }, 400, 438],
      [{ times: [`${2n ** 62n * 3n}`], values: [1] }, 400, 413],
      [{ times: ['soon'], values: [1] }, 400, 413],
      [{ times: [1.5], values: [1] }, 400, 413],
      [{ times: ['1'], values: ['one'] }, 400, 438],
      [{ times: ['1'], values: [1], flags: [-1] }, 400, 438],
      [{ times: ['1'], values: [1], extra: 1 }, 400, 438],
      [[1, 2], 400, 438],
    ];
    for (const [body, status, code] of cases) {
      const a = await api.send('POST', `/api/streams/${t.uuid}/points`, body);
      assert.equal(a.status, status, `${JSON.stringify(body)}: ${a.text}`);
      assert.equal(errorOf(a).code, code, JSON.stringify(body));
    }
    const csv = await api.request('POST', `/api/streams/${t.uuid}/points`, {
      body: 'time,value\n1,2\n2,x\n',
      headers: { 'content-type': 'text/csv' },
    });
    assert.equal(csv.status, 400);
    assert.match(errorOf(csv).message, /line 3/);
    const arrow = await api.request('POST', `/api/streams/${t.uuid}/points`, {
      body: 'not arrow',
      headers: { 'content-type': 'application/vnd.apache.arrow.stream' },
    });
    assert.equal(arrow.status, 400);
    const png = await api.request('POST', `/api/streams/${t.uuid}/points`, {
      body: 'x',
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(png.status, 415);
    assert.equal(json<{ points: PointJson[] }>(await api.get(`/api/streams/${t.uuid}/points`)).points.length, 0);
    const policy = await api.send('POST', `/api/streams/${t.uuid}/points?policy=sometimes`, { times: [], values: [] });
    assert.equal(policy.status, 400);
  });

  test('NaN is stored and read back as "NaN" in a stream created to allow it', async () => {
    const t = await createStream('http/data/nan', 'n', { allowNonFinite: true });
    await insert(t.uuid, ['1', '2', '3'], ['NaN', 'Infinity', -1]);
    const pts = json<{ points: PointJson[] }>(await api.get(`/api/streams/${t.uuid}/points`)).points;
    assert.deepEqual(
      pts.map((p) => p.value),
      ['NaN', 'Infinity', -1],
    );
  });

  test('merge policy replace keeps only the new point', async () => {
    const t = await createStream('http/data/merge', 'm');
    await insert(t.uuid, ['110'], [2]);
    const a = await api.send('POST', `/api/streams/${t.uuid}/points?policy=replace`, { times: ['110'], values: [3] });
    assert.equal(a.status, 200);
    const pts = json<{ points: PointJson[] }>(await api.get(`/api/streams/${t.uuid}/points`)).points;
    assert.deepEqual(pts, [{ time: '110', value: 3 }]);
  });

  test('delete makes a new version, old versions keep the points, and unknown versions are 410', async () => {
    const t = await createStream('http/data/delete', 'del');
    await insert(t.uuid, ['1', '2', '3'], [1, 2, 3]);
    // A buffered insert's version may be folded into the next commit; a flushed one is kept.
    const v1 = json<{ version: number }>(await api.request('POST', `/api/streams/${t.uuid}/flush`)).version;
    const d = await api.request('DELETE', `/api/streams/${t.uuid}/points?start=2&end=3`);
    assert.equal(d.status, 200);
    const v2 = json<{ version: number }>(d).version;
    assert.ok(v2 > v1);
    const now = json<{ points: PointJson[] }>(await api.get(`/api/streams/${t.uuid}/points`)).points;
    assert.deepEqual(
      now.map((p) => p.time),
      ['1', '3'],
    );
    const old = json<{ points: PointJson[]; version: number }>(
      await api.get(`/api/streams/${t.uuid}/points?version=${v1}`),
    );
    assert.equal(old.version, v1);
    assert.equal(old.points.length, 3);
    const gone = await api.get(`/api/streams/${t.uuid}/points?version=999999`);
    assert.equal(gone.status, 410);
    assert.equal(errorOf(gone).name, 'VersionNotAvailable');
    const ch = json<{ ranges: { start: string; end: string }[] }>(
      await api.get(`/api/streams/${t.uuid}/changes?from=${v1}`),
    );
    assert.ok(ch.ranges.length >= 1);
    assert.equal((await api.request('DELETE', `/api/streams/${t.uuid}/points?start=2`)).status, 400);
  });

  test('flush answers the version and is idempotent', async () => {
    const a = await api.request('POST', `/api/streams/${s.uuid}/flush`);
    const b = await api.request('POST', `/api/streams/${s.uuid}/flush`);
    assert.equal(a.status, 200);
    assert.deepEqual(a.json, b.json);
  });

  test('a request body over the limit is 413 PayloadTooLarge', async () => {
    const small = await startHttpServer(db, { address: '127.0.0.1:0', maxBodyBytes: 100, webRoot: null });
    try {
      const a = await new TestClient(small.url).send('POST', `/api/streams/${s.uuid}/points`, {
        times: Array.from({ length: 50 }, (_, i) => String(i)),
        values: Array.from({ length: 50 }, () => 1),
      });
      assert.equal(a.status, 413);
      assert.equal(errorOf(a).name, 'PayloadTooLarge');
    } finally {
      await small.close();
    }
  });
});

describe('streaming and backpressure', () => {
  let big: StreamJson;
  const N = 200_000;
  before(async () => {
    big = await createStream('http/big', 'big');
    const times = BigInt64Array.from({ length: N }, (_, i) => BigInt(i) * 1000n);
    const values = Float64Array.from({ length: N }, (_, i) => Math.sin(i / 100));
    await db.insert(big.uuid as never, { times, values }, 'never');
    await db.flush(big.uuid as never);
  });

  test('a client that reads nothing holds the server’s read back', async () => {
    let total = 0;
    for await (const _ of db.rawValues(big.uuid as never, -(1n << 60n), 1n << 61n, 0)) total++;
    const { backend, pulled } = countingBackend(db);
    const s = await startHttpServer(backend, { address: '127.0.0.1:0', webRoot: null, graceMs: 100 });
    try {
      const { destroy } = await stalledGet(`${s.url}/api/streams/${big.uuid}/points?format=ndjson`);
      await new Promise((r) => setTimeout(r, 300));
      const soFar = pulled();
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(pulled(), soFar, 'the read stopped while the client is not reading');
      assert.ok(soFar < total / 2, `pulled ${soFar} of ${total} batches`);
      destroy();
    } finally {
      await s.close();
    }
  });

  test('a long answer streams completely in every format', async () => {
    const nd = await api.get(`/api/streams/${big.uuid}/points?format=ndjson`);
    assert.equal(nd.text.trim().split('\n').length, N);
    const arrow = await api.bytes(`/api/streams/${big.uuid}/points?format=arrow`);
    const t = tableFromIPC(arrow.body);
    assert.equal(t.numRows, N);
    assert.ok(t.batches.length > 1, 'several record batches in one IPC stream');
    const js = json<{ points: PointJson[] }>(await api.get(`/api/streams/${big.uuid}/points`));
    assert.equal(js.points.length, N);
    assert.equal(js.points[N - 1]?.time, String((N - 1) * 1000));
  });

  test('an error after the first chunk ends an NDJSON answer with an error line', async () => {
    let total = 0;
    for await (const _ of db.rawValues(big.uuid as never, -(1n << 60n), 1n << 61n, 0)) total++;
    const { backend } = countingBackend(db, { failAfter: Math.floor(total / 2) });
    const s = await startHttpServer(backend, { address: '127.0.0.1:0', webRoot: null });
    try {
      const a = await new TestClient(s.url).get(`/api/streams/${big.uuid}/points?format=ndjson`);
      assert.equal(a.status, 200);
      const lines = a.text.trim().split('\n');
      assert.ok(lines.length > 1000, 'points came before the error');
      const last = JSON.parse(lines.at(-1)!) as { error?: { code: number } };
      assert.equal(last.error?.code, 500);
      const j = await fetch(`${s.url}/api/streams/${big.uuid}/points`)
        .then((r) => r.text())
        .catch((e: unknown) => e);
      assert.ok(j instanceof Error || !(j as string).endsWith(']}'), 'a JSON answer is cut, never silently short');
    } finally {
      await s.close();
    }
  });
});

describe('live (server-sent events)', () => {
  test('a subscriber gets ready, then the points inserted after it', async () => {
    const s = await createStream('http/live', 'l');
    const ac = new AbortController();
    const res = await fetch(`${server.url}/api/streams/${s.uuid}/live`, { signal: ac.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (re: RegExp) => {
      while (!re.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${re}: ${text}`);
        text += value;
      }
    };
    await until(/event: ready\ndata: .*\n\n/);
    assert.match(text, new RegExp(`"streams":\\["${s.uuid}"\\]`));
    await insert(s.uuid, ['100', '200'], [1.5, 2.5]);
    await until(/event: points\n/);
    await until(/event: points\ndata: .*\n\n/);
    const data = JSON.parse(/event: points\ndata: (.*)\n\n/.exec(text)![1]!) as {
      uuid: string;
      times: string[];
      values: number[];
    };
    assert.deepEqual(data, { uuid: s.uuid, times: ['100', '200'], values: [1.5, 2.5] });
    await until(/: ping\n\n/);
    ac.abort();
  });

  test('following an unknown stream is 404 before the event stream starts', async () => {
    const a = await api.get('/api/live?uuid=6f1c0f6e-0000-4000-8000-000000000001');
    assert.equal(a.status, 404);
    assert.equal((await api.get('/api/live')).status, 400);
  });

  test('closing the server ends open live streams', async () => {
    const s = await createStream('http/live/close', 'c');
    const other = await startHttpServer(db, { address: '127.0.0.1:0', webRoot: null });
    const res = await fetch(`${other.url}/api/live?uuid=${s.uuid}`);
    const body = res.text();
    await other.close();
    assert.match(await body, /event: ready/);
  });
});

describe('metrics and OpenAPI', () => {
  test('metrics count requests by endpoint and status and include engine figures', async () => {
    const s = await createStream('http/metrics', 'm');
    await insert(s.uuid, ['1', '2'], [1, 2]);
    await api.get(`/api/streams/${s.uuid}/points`);
    await api.get('/api/collections');
    await api.get('/api/streams/bad-uuid');
    const m = await api.get('/metrics');
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /text\/plain; version=0.0.4/);
    assert.match(m.text, /arbordb_http_requests_total\{endpoint="\/api\/collections",method="GET",status="200"\} \d+/);
    assert.match(
      m.text,
      /arbordb_http_requests_total\{endpoint="\/api\/streams\/\{uuid\}",method="GET",status="400"\} \d+/,
    );
    assert.match(
      m.text,
      /arbordb_http_request_duration_seconds_bucket\{endpoint="\/api\/collections",le="\+Inf"\} \d+/,
    );
    assert.match(m.text, /arbordb_http_points_ingested_total [1-9]/);
    assert.match(m.text, /arbordb_http_points_read_total [1-9]/);
    assert.match(m.text, /arbordb_engine_commits_total \d+/);
    assert.match(m.text, /arbordb_engine_wal_syncs_total \d+/);
    assert.match(m.text, /arbordb_engine_leaf_cache_hits_total \d+/);
    assert.match(m.text, /arbordb_catalog_streams [1-9]/);
    assert.doesNotMatch(m.text, /arbordb_disk_bytes/, 'an in-memory database has no disk figure');
  });

  test('the OpenAPI document lists every route with the parameters it validates', async () => {
    const a = await api.get('/openapi.json');
    assert.equal(a.status, 200);
    const doc = a.json as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { parameters: { name: string; in: string; required: boolean }[]; security?: unknown[] }>
      >;
    };
    assert.equal(doc.openapi, '3.1.0');
    for (const r of server.app.routes) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.method} ${r.path} is documented`);
      assert.deepEqual(
        op.parameters.map((p) => [p.name, p.in, p.required]),
        Object.entries(r.params).map(([n, p]) => [n, p.in, p.in === 'path' || p.required]),
      );
    }
    assert.deepEqual(doc.paths['/healthz']?.get?.security, []);
    // Every route that reads a body publishes it: required-ness, and a schema per media type.
    for (const r of server.app.routes) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()] as unknown as {
        requestBody?: { required: boolean; content: Record<string, { schema?: unknown }> };
      };
      if (r.body === undefined) {
        assert.equal(op.requestBody, undefined, `${r.method} ${r.path} reads no body`);
        continue;
      }
      assert.ok(op.requestBody, `${r.method} ${r.path} documents its body`);
      assert.equal(op.requestBody.required, r.body.required, `${r.method} ${r.path}`);
      assert.deepEqual(Object.keys(op.requestBody.content), Object.keys(r.body.content), `${r.method} ${r.path}`);
      for (const [type, media] of Object.entries(op.requestBody.content)) {
        assert.deepEqual(media.schema, r.body.content[type], `${r.method} ${r.path} ${type} schema`);
        assert.equal(typeof media.schema, 'object', `${r.method} ${r.path} ${type} has a schema`);
      }
    }
    const insertOp = doc.paths['/api/streams/{uuid}/points']?.post as unknown as {
      requestBody: { content: Record<string, unknown> };
    };
    assert.deepEqual(Object.keys(insertOp.requestBody.content), [
      'application/json',
      'text/csv',
      'application/vnd.apache.arrow.stream',
    ]);
  });
});

/**
 * A small evaluator of the JSON Schema keywords the OpenAPI document uses, written here so the
 * published insert schema is checked by something other than the code it describes. A keyword it
 * does not know fails the test (the schema grew and this checker must learn it).
 */
function schemaAccepts(schema: unknown, v: unknown): boolean {
  assert.ok(typeof schema === 'object' && schema !== null && !Array.isArray(schema), 'a schema is an object');
  const sc = schema as Record<string, unknown>;
  const typeOf = (x: unknown): string =>
    x === null
      ? 'null'
      : Array.isArray(x)
        ? 'array'
        : typeof x === 'number' && Number.isInteger(x)
          ? 'integer'
          : typeof x;
  for (const [k, arg] of Object.entries(sc)) {
    switch (k) {
      case 'description':
      case 'examples':
      case 'default':
      case 'title':
      case 'format': // an annotation in JSON Schema 2020-12 unless a vocabulary asserts it
        break;
      case 'type': {
        const t = typeOf(v);
        const ok = arg === t || (arg === 'number' && t === 'integer');
        if (!ok) return false;
        break;
      }
      case 'enum':
        if (!(arg as unknown[]).some((e) => e === v)) return false;
        break;
      case 'minimum':
        if (typeof v === 'number' && v < (arg as number)) return false;
        break;
      case 'maximum':
        if (typeof v === 'number' && v > (arg as number)) return false;
        break;
      case 'pattern':
        if (typeof v === 'string' && !new RegExp(arg as string, 'u').test(v)) return false;
        break;
      case 'minItems':
        if (Array.isArray(v) && v.length < (arg as number)) return false;
        break;
      case 'maxItems':
        if (Array.isArray(v) && v.length > (arg as number)) return false;
        break;
      case 'items':
        if (Array.isArray(v) && !v.every((x) => schemaAccepts(arg, x))) return false;
        break;
      case 'anyOf':
        if (!(arg as unknown[]).some((s) => schemaAccepts(s, v))) return false;
        break;
      case 'oneOf':
        if ((arg as unknown[]).filter((s) => schemaAccepts(s, v)).length !== 1) return false;
        break;
      case 'required':
        if (typeOf(v) === 'object' && !(arg as string[]).every((p) => Object.hasOwn(v as object, p))) return false;
        break;
      case 'properties':
        if (typeOf(v) === 'object') {
          for (const [p, ps] of Object.entries(arg as Record<string, unknown>)) {
            const o = v as Record<string, unknown>;
            if (Object.hasOwn(o, p) && !schemaAccepts(ps, o[p])) return false;
          }
        }
        break;
      case 'additionalProperties':
        if (typeOf(v) === 'object') {
          const known = Object.keys((sc.properties ?? {}) as object);
          for (const [p, x] of Object.entries(v as object)) {
            if (known.includes(p)) continue;
            if (arg === false || (arg !== true && !schemaAccepts(arg, x))) return false;
          }
        }
        break;
      default:
        assert.fail(`the test's schema checker does not know the keyword ${k}`);
    }
  }
  return true;
}

describe('the published insert schema agrees with the insert validator', () => {
  const valid: unknown[] = [
    { times: [], values: [] },
    { times: ['1704067200000000000', '2024-01-01T00:00:01Z'], values: [1.5, -2] },
    { times: [1, -5, Number.MAX_SAFE_INTEGER], values: [0, 1e300, -0.5] },
    { times: ['1', 2], values: ['NaN', 'Infinity'] },
    { times: ['3'], values: ['-Infinity'], flags: [0] },
    { times: ['1', '2'], values: [1, 2], flags: [0, 4294967295] },
    { times: ['-9223372036854775808'], values: [1] },
  ];
  const invalid: unknown[] = [
    null,
    [],
    'times',
    5,
    {},
    { times: ['1'] },
    { values: [1] },
    { times: '1', values: [1] },
    { times: ['1'], values: 1 },
    { times: [true], values: [1] },
    { times: [1.5], values: [1] },
    { times: [null], values: [1] },
    { times: [Number.MAX_SAFE_INTEGER + 1], values: [1] },
    { times: [{}], values: [1] },
    { times: ['1'], values: ['one'] },
    { times: ['1'], values: ['nan'] },
    { times: ['1'], values: [null] },
    { times: ['1'], values: [[1]] },
    { times: ['1'], values: [1], flags: [-1] },
    { times: ['1'], values: [1], flags: [0.5] },
    { times: ['1'], values: [1], flags: [4294967296] },
    { times: ['1'], values: [1], flags: ['0'] },
    { times: ['1'], values: [1], flags: null },
    { times: ['1'], values: [1], flags: 0 },
    { times: ['1'], values: [1], extra: 1 },
    { times: ['1'], values: [1], Times: ['1'] },
  ];
  // What JSON Schema cannot say; the schema states both in its descriptions instead.
  const beyondSchema: unknown[] = [
    { times: ['1', '2'], values: [1] },
    { times: ['1'], values: [1, 2] },
    { times: ['1'], values: [1], flags: [] },
    { times: ['1', '2'], values: [1, 2], flags: [0] },
    { times: ['soon'], values: [1] },
    { times: [''], values: [1] },
    { times: ['9223372036854775808'], values: [1] },
  ];
  let schema: unknown;
  before(async () => {
    const doc = (await api.get('/openapi.json')).json as {
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
    };
    schema = doc.paths['/api/streams/{uuid}/points']?.post.requestBody.content['application/json']?.schema;
    assert.ok(schema, 'the insert JSON schema is published');
  });
  const validatorAccepts = (body: unknown): boolean => {
    try {
      pointsFromJson(body);
      return true;
    } catch (e) {
      assert.ok(e instanceof DbError, `a refusal is a DbError, got ${String(e)}`);
      return false;
    }
  };

  test('valid bodies in every accepted shape pass both', () => {
    for (const b of valid) {
      assert.equal(validatorAccepts(b), true, `validator accepts ${JSON.stringify(b)}`);
      assert.equal(schemaAccepts(schema, b), true, `schema accepts ${JSON.stringify(b)}`);
    }
  });

  test('wrong types, missing and extra fields fail both', () => {
    for (const b of invalid) {
      assert.equal(validatorAccepts(b), false, `validator refuses ${JSON.stringify(b)}`);
      assert.equal(schemaAccepts(schema, b), false, `schema refuses ${JSON.stringify(b)}`);
    }
  });

  test('mixed lengths and unreadable time text fail the validator only, as the schema says', () => {
    const described = JSON.stringify(schema);
    assert.match(described, /same length/);
    assert.match(described, /ISO-8601/);
    for (const b of beyondSchema) {
      assert.equal(validatorAccepts(b), false, `validator refuses ${JSON.stringify(b)}`);
      assert.equal(schemaAccepts(schema, b), true, `schema cannot express the rule broken by ${JSON.stringify(b)}`);
    }
  });
});

describe('authentication', () => {
  let secured: HttpServer;
  before(async () => {
    secured = await startHttpServer(db, { address: '127.0.0.1:0', apiKeys: ['k1', 'k2'] });
  });
  after(async () => {
    await secured.close();
  });

  test('without a key the API answers 401 with a Bearer challenge', async () => {
    const a = await new TestClient(secured.url).get('/api/info');
    assert.equal(a.status, 401);
    assert.equal(a.headers.get('www-authenticate'), 'Bearer realm="arbordb"');
    assert.equal(errorOf(a).name, 'Unauthorized');
    assert.equal((await new TestClient(secured.url).get('/metrics')).status, 401);
  });

  test('a wrong key is refused and every configured key is accepted', async () => {
    const bad = await new TestClient(secured.url, 'nope').get('/api/info');
    assert.equal(bad.status, 401);
    assert.equal(errorOf(bad).message, 'invalid api key');
    for (const k of ['k1', 'k2']) assert.equal((await new TestClient(secured.url, k).get('/api/info')).status, 200);
    const lower = await fetch(`${secured.url}/api/info`, { headers: { authorization: 'bearer k2' } });
    assert.equal(lower.status, 200);
  });

  test('health checks, the spec and the web page need no key', async () => {
    const c = new TestClient(secured.url);
    for (const p of ['/healthz', '/readyz', '/openapi.json', '/']) assert.equal((await c.get(p)).status, 200, p);
  });
});

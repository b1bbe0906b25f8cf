/**
 * The HTTP API answers exactly what the embedded API answers: the same queries asked both ways
 * (HTTP ↔ `Connection`/`Stream` over the same Database) must agree value for value.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { Connection } from '../../client/connection.ts';
import type { Stream } from '../../client/stream.ts';
import type { StatPoint } from '../../core/stat.ts';
import { MAX_INSERT_TIME, MIN_TIME } from '../../core/time.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import { DEFAULT_MAX_WINDOWS } from './app.ts';
import { TestClient } from './http-testing.ts';
import { type HttpServer, startHttpServer } from './index.ts';
import { alignedWindowCount } from './routes-data.ts';

let db: Database;
let server: HttpServer;
let api: TestClient;
let conn: Connection;
let stream: Stream;
let versions: number[];

const T0 = 1_700_000_000_000_000_000n;
const N = 30_000;

interface WindowJson {
  time: string;
  min: number;
  mean: number;
  max: number;
  count: number;
  stddev: number;
}

/** Deterministic irregular data: jittered 120 Hz with a gap, duplicated times and a burst. */
function data(): { times: BigInt64Array; values: Float64Array } {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const times = new BigInt64Array(N);
  const values = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const gap = i > N / 2 ? 3_600_000_000_000n : 0n;
    const dup = i % 997 === 1 ? -8_333_333n : 0n;
    times[i] = T0 + BigInt(i) * 8_333_333n + BigInt(Math.round((rnd() - 0.5) * 2000)) + gap + dup;
    values[i] = 60 + Math.sin(i / 50) * 0.05 + (rnd() - 0.5) * 0.01;
  }
  return { times, values };
}

const statsOf = (ws: WindowJson[]): StatPoint[] =>
  ws.map((w) => ({ time: BigInt(w.time), min: w.min, mean: w.mean, max: w.max, count: w.count, stddev: w.stddev }));

before(async () => {
  db = await openDatabase(null);
  server = await startHttpServer(db, { address: '127.0.0.1:0', webRoot: null });
  api = new TestClient(server.url);
  conn = new Connection(db);
  stream = await conn.create({
    collection: 'conformance/http',
    tags: { name: 'f', unit: 'Hz' },
    annotations: { a: '1' },
  });
  const d = data();
  versions = [];
  for (let i = 0; i < N; i += 7000) {
    await stream.insert({ times: d.times.subarray(i, i + 7000), values: d.values.subarray(i, i + 7000) });
    versions.push(await stream.flush());
  }
  await stream.delete(T0 + 1_000_000_000n, T0 + 2_000_000_000n);
  versions.push(await stream.version());
});

after(async () => {
  await server.close();
  await db.close();
});

const ranges: [bigint, bigint][] = [
  [MIN_TIME, MAX_INSERT_TIME],
  [T0, T0 + 10_000_000_000n],
  [T0 + 123_456_789n, T0 + 987_654_321n],
  [T0 + 100_000_000_000n, T0 + 4_000_000_000_000n],
];

test('raw values over HTTP equal the embedded values, at the latest and at older versions', async () => {
  for (const [start, end] of ranges) {
    for (const version of [0, versions[1]!, versions.at(-1)!]) {
      const mine = await stream.valuesArray(start, end, { version });
      const a = await api.get(
        `/api/streams/${stream.uuid}/points?start=${start}&end=${end}&version=${version}&format=ndjson`,
      );
      const lines =
        a.text === ''
          ? []
          : a.text
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as { time: string; value: number });
      assert.deepEqual(
        lines.map((p) => BigInt(p.time)),
        [...mine.times],
        `times ${start}..${end} v${version}`,
      );
      assert.deepEqual(
        lines.map((p) => p.value),
        [...mine.values],
        `values ${start}..${end} v${version}`,
      );
      assert.equal(Number(a.headers.get('x-arbor-version')), mine.version);
      const arrow = tableFromIPC(
        (
          await api.bytes(
            `/api/streams/${stream.uuid}/points?start=${start}&end=${end}&version=${version}&format=arrow`,
          )
        ).body,
      );
      assert.deepEqual([...(arrow.getChild('value')!.toArray() as Float64Array)], [...mine.values]);
    }
  }
});

test('aligned windows over HTTP equal the embedded ones at every point width tried', async () => {
  for (const [start, end] of ranges) {
    for (const pw of [0, 20, 27, 30, 36, 44, 62]) {
      // Beyond the server's window cap HTTP refuses (tested in http-api.test.ts).
      if (alignedWindowCount(start, end, pw) > BigInt(DEFAULT_MAX_WINDOWS)) continue;
      const mine = await stream.alignedWindows(start, end, pw);
      const a = await api.get(`/api/streams/${stream.uuid}/aligned-windows?start=${start}&end=${end}&pw=${pw}`);
      const body = a.json as { version: number; windows: WindowJson[] };
      assert.deepEqual(statsOf(body.windows), mine.points, `pw ${pw} ${start}..${end}`);
      assert.equal(body.version, mine.version);
    }
  }
});

test('windows over HTTP equal the embedded ones, empty windows included', async () => {
  for (const [start, end] of ranges.slice(1)) {
    for (const width of [1_000_000_000n, 7_777_777_777n, 60_000_000_000n]) {
      if ((end - start) / width > 100_000n) continue;
      const mine = await stream.windows(start, end, width);
      const a = await api.get(`/api/streams/${stream.uuid}/windows?start=${start}&end=${end}&width=${width}`);
      assert.deepEqual(statsOf((a.json as { windows: WindowJson[] }).windows), mine.points, `width ${width}`);
    }
  }
});

test('nearest, count and version over HTTP equal the embedded answers', async () => {
  for (const t of [MIN_TIME, T0, T0 + 1_500_000_000n, T0 + 150_000_000_000n, MAX_INSERT_TIME - 1n]) {
    for (const backward of [false, true]) {
      const mine = await stream.nearest(t, { backward });
      const a = await api.get(`/api/streams/${stream.uuid}/nearest?time=${t}&backward=${backward}`);
      if (mine === null) assert.equal(a.status, 404);
      else assert.deepEqual(a.json, { time: mine.time.toString(), value: mine.value, version: mine.version });
    }
  }
  for (const [start, end] of ranges) {
    for (const precise of [false, true]) {
      const mine = await stream.count({ start, end, precise });
      const a = await api.get(`/api/streams/${stream.uuid}/count?start=${start}&end=${end}&precise=${precise}`);
      assert.equal((a.json as { count: number }).count, mine, `count ${start}..${end} precise=${precise}`);
    }
  }
  const info = (await api.get(`/api/streams/${stream.uuid}`)).json as { version: number; propertyVersion: number };
  assert.equal(info.version, await stream.version());
});

test('changes over HTTP equal the embedded ranges', async () => {
  for (const [from, to] of [
    [versions[0]!, 0],
    [versions[1]!, versions[3]!],
  ] as const) {
    const mine = await stream.changes(from, to, 30);
    const a = await api.get(`/api/streams/${stream.uuid}/changes?from=${from}&to=${to}&resolution=30`);
    const body = a.json as { version: number; ranges: { start: string; end: string }[] };
    assert.deepEqual(
      body.ranges.map((r) => [BigInt(r.start), BigInt(r.end)]),
      mine.ranges.map((r) => [r.start, r.end]),
    );
  }
});

test('metadata answers over HTTP equal the embedded catalog answers', async () => {
  const other = await conn.create({ collection: 'conformance/http/sub', tags: { name: 'g', unit: 'V' } });
  const listed = (await api.get('/api/streams?collection=conformance/')).json as { streams: { uuid: string }[] };
  const mine = await conn.streamsInCollection('conformance/');
  assert.deepEqual(listed.streams.map((s) => s.uuid).sort(), mine.map((s) => s.uuid).sort());
  assert.deepEqual((await api.get('/api/collections?prefix=conformance')).json, {
    collections: await conn.listCollections('conformance'),
  });
  assert.deepEqual(
    (await api.get('/api/metadata-usage?prefix=conformance')).json,
    await conn.collectionMetadata('conformance'),
  );
  const q = 'select uuid, collection, name, unit from streams where collection like $1 order by name';
  const a = await api.send('POST', '/api/sql', { query: q, params: ['conformance/%'] });
  assert.deepEqual((a.json as { rows: unknown[] }).rows, await conn.query(q, ['conformance/%']));
  const d = (await api.get(`/api/streams/${other.uuid}`)).json as {
    tags: Record<string, string>;
    annotations: Record<string, string>;
  };
  assert.deepEqual(d.tags, await other.tags());
  assert.deepEqual(d.annotations, await other.annotations());
});

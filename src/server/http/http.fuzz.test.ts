/**
 * The HTTP API under hostile query strings, paths and bodies, through the real server in-process:
 * every answer must be a deliberate one (4xx with a JSON error body, or a success), never a 500
 * and never a fault reported to the server's error log (a TypeError in a parser, say).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { arrowSamples } from '../../../test/fuzz/arrow-samples.ts';
import {
  describeTally,
  type FuzzTally,
  fuzzDecoder,
  fuzzDecoderAsync,
  hostileBytes,
  mutated,
} from '../../../test/fuzz/fuzz.ts';
import { isDbError } from '../../core/errors.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import { createHttpApp } from './app.ts';
import type { Answer } from './http-testing.ts';
import { TestClient } from './http-testing.ts';
import { type HttpServer, startHttpServer } from './index.ts';
import { CsvPoints } from './insert-body.ts';

let db: Database;
let server: HttpServer;
let api: TestClient;
let uuid = '';
const faults: string[] = [];

before(async () => {
  db = await openDatabase(null);
  server = await startHttpServer(db, {
    address: '127.0.0.1:0',
    webRoot: null,
    maxBodyBytes: 1 << 20,
    log: (line) => faults.push(line),
  });
  api = new TestClient(server.url);
  const a = await api.send('POST', '/api/streams', { collection: 'fuzz', tags: { name: 'f', unit: 'V' } });
  assert.equal(a.status, 201, a.text);
  uuid = (a.json as { uuid: string }).uuid;
  const p = await api.send('POST', `/api/streams/${uuid}/points`, { times: ['1000', '2000'], values: [1, 2] });
  assert.equal(p.status, 200, p.text);
});

after(async () => {
  await server.close();
  await db.close();
});

/** Answers of the current test by HTTP status (reported with the case counts). */
let statuses = new Map<number, number>();
function statusLine(): string {
  const line = `; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((x, y) => x[0] - y[0])))}`;
  statuses = new Map();
  return line;
}

/** A deliberate answer: not a server fault, and a JSON error body for every error status. */
function deliberate(a: Answer, what: string): void {
  statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  assert.ok(a.status < 500, `${what}: ${a.status} ${a.text.slice(0, 300)}`);
  if (a.status >= 400) {
    const e = (a.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    assert.ok(typeof e?.message === 'string' && e.message.length > 0, `${what}: error without a JSON body: ${a.text}`);
  }
  assert.deepEqual(faults, [], `${what}: the server logged a fault`);
}

/** Values that break careless parameter parsers. */
const hostileValue = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1e400',
    'NaN',
    '9223372036854775807',
    '9223372036854775808',
    '-9223372036854775809',
    '18446744073709551616',
    '99999999999999999999999999999999',
    '2024-01-01T00:00:00Z',
    '2024-13-45T99:99:99Z',
    '0x10',
    ' 5 ',
    '%',
    '%zz',
    '\u0000',
    'true',
    'a'.repeat(5000),
    '1'.repeat(400),
    'json',
    'arrow',
  ),
  fc.string({ maxLength: 30 }),
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map(String),
);

/** GET routes with a stream, their query parameters named by the route table itself. */
function routes(): { path: string; query: string[] }[] {
  const app = createHttpApp(db);
  return app.routes
    .filter((r) => r.method === 'GET' && !r.path.includes('live') && r.path !== '/metrics')
    .map((r) => ({
      path: r.path,
      query: Object.entries(r.params as Record<string, { in: string }>)
        .filter(([, p]) => p.in === 'query')
        .map(([name]) => name),
    }));
}

describe('the HTTP API under fuzzing', () => {
  it('HTTP CSV bodies (CsvPoints): points or a DbError for any text', (t) => {
    const valid = ['time,value\n1,2\n3,4.5\n', '1704067200000000000,1.5,7\r\n2024-01-01T00:00:01Z,NaN,0\r\n'];
    const tally = fuzzDecoder({
      name: 'csv points body',
      inputs: hostileBytes(
        valid.map((v) => new TextEncoder().encode(v)),
        120,
      ),
      decode: (b) => {
        const p = new CsvPoints();
        const text = new TextDecoder().decode(b);
        for (let i = 0; i < text.length; i += 7) p.push(text.slice(i, i + 7));
        return p.end();
      },
      expected: (e) => isDbError(e) && e.message.length > 0,
      check: (batch) => {
        assert.equal(batch.values.length, batch.times.length);
        if (batch.flags !== undefined) assert.equal(batch.flags.length, batch.times.length);
      },
      runs: 3000,
    });
    t.diagnostic(describeTally(tally));
  });

  it('answers hostile query strings on every GET endpoint deliberately', async (t) => {
    const all = routes();
    assert.ok(all.length >= 8);
    const request = fc.tuple(
      fc.nat(all.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constant(''), fc.constantFrom('[k]', '[]', 'x')), hostileValue), {
        maxLength: 5,
      }),
      fc.boolean(),
    );
    const tally = await fuzzDecoderAsync({
      name: 'http query strings',
      inputs: request.map((r) => new TextEncoder().encode(JSON.stringify(r))),
      decode: async (b) => {
        const [ri, pairs, raw] = JSON.parse(new TextDecoder().decode(b)) as [
          number,
          [number, string, string][],
          boolean,
        ];
        const route = all[ri]!;
        const names = [...route.query, 'bogus'];
        const qs = pairs
          .map(([k, suffix, v]) => {
            const key = names[k % names.length]! + suffix;
            return raw ? `${key}=${v}` : `${encodeURIComponent(key)}=${encodeURIComponent(v)}`;
          })
          .join('&');
        const path = route.path.replace('{uuid}', uuid);
        const a = await api.get(`${path}?${qs}`);
        deliberate(a, `GET ${path}?${qs.slice(0, 200)}`);
        return a.status;
      },
      expected: () => false,
      runs: 600,
    });
    t.diagnostic(describeTally(tally) + statusLine());
  });

  it('answers hostile paths deliberately', async (t) => {
    const segment = fc.oneof(hostileValue, fc.constantFrom('%', '%2F', '..', uuid, uuid.toUpperCase(), '{uuid}'));
    const tally = await fuzzDecoderAsync({
      name: 'http paths',
      inputs: fc
        .tuple(fc.constantFrom('points', 'windows', 'aligned-windows', 'count', 'nearest', 'changes', ''), segment)
        .map(([tail, s]) => new TextEncoder().encode(`/api/streams/${encodeURI(s).replace(/%25/g, '%')}/${tail}`)),
      decode: async (b) => {
        const path = new TextDecoder().decode(b);
        const a = await api.get(path);
        deliberate(a, `GET ${path.slice(0, 200)}`);
        return a.status;
      },
      expected: () => false,
      runs: 300,
    });
    t.diagnostic(describeTally(tally) + statusLine());
  });

  for (const [type, seeds] of [
    [
      'application/json',
      [
        '{"times":["1704067200000000000","2024-01-01T00:00:01Z",3],"values":[1.5,"NaN",-2],"flags":[0,1,2]}',
        '{"times":[],"values":[]}',
      ],
    ],
    ['text/csv', ['time,value\n1704067200000000000,1.5\n1704067200008333333,2\n', '5,6,7\r\n8,"9",0\r\n']],
  ] as const) {
    it(`answers hostile ${type} insert bodies deliberately`, async (t) => {
      const tally = await fuzzDecoderAsync({
        name: `http insert ${type}`,
        inputs: hostileBytes(
          seeds.map((s) => new TextEncoder().encode(s)),
          200,
        ),
        decode: (b) => insert(type, b),
        expected: () => false,
        runs: 400,
      });
      t.diagnostic(describeTally(tally) + statusLine());
    });
  }

  it('answers JSON insert bodies of any shape deliberately', async (t) => {
    const item = fc.oneof(
      hostileValue,
      fc.double(),
      fc.integer(),
      fc.constantFrom(null, true, [], {}, -0, 2 ** 53, 2 ** 64, -1, 4294967296),
    );
    // Mostly well-typed rows (so the deeper checks run), with hostile items and keys mixed in.
    const time = fc.oneof(
      { weight: 4, arbitrary: fc.bigInt({ min: -(1n << 62n), max: 1n << 62n }).map(String) },
      { weight: 1, arbitrary: item },
    );
    const value = fc.oneof({ weight: 4, arbitrary: fc.double() }, { weight: 1, arbitrary: item });
    const flag = fc.oneof({ weight: 4, arbitrary: fc.nat() }, { weight: 1, arbitrary: item });
    const body = fc
      .tuple(fc.array(fc.tuple(time, value, flag), { maxLength: 6 }), fc.boolean(), fc.option(item, { freq: 8 }))
      .map(([rows, withFlags, extra]) => ({
        times: rows.map((r) => r[0]),
        values: rows.map((r) => r[1]),
        ...(withFlags ? { flags: rows.map((r) => r[2]) } : {}),
        ...(extra === null ? {} : { extra }),
      }));
    const tally = await fuzzDecoderAsync({
      name: 'http insert json shapes',
      inputs: body.map((b) => new TextEncoder().encode(JSON.stringify(b))),
      decode: (b) => insert('application/json', b),
      expected: () => false,
      runs: 400,
    });
    t.diagnostic(describeTally(tally) + statusLine());
  });

  it('answers hostile Arrow insert bodies deliberately', async (t) => {
    const tally = await fuzzDecoderAsync({
      name: 'http insert arrow',
      inputs: mutated(arrowSamples(), 4),
      decode: (b) => insert('application/vnd.apache.arrow.stream', b),
      expected: () => false,
      runs: 400,
    });
    t.diagnostic(describeTally(tally) + statusLine());
  });

  it('answers hostile stream creation and metadata bodies deliberately', async (t) => {
    const seeds = [
      '{"collection":"a/b","tags":{"name":"x","unit":"V"},"annotations":{"k":"v"},"allowNonFinite":true}',
      '{"collection":"c","tags":{"name":"y"},"uuid":"0b5e2f6a-9c1d-4e8f-a2b3-c4d5e6f70819"}',
    ].map((s) => new TextEncoder().encode(s));
    const tallies: FuzzTally[] = [];
    for (const [method, path] of [
      ['POST', '/api/streams'],
      ['PATCH', `/api/streams/{uuid}`],
    ] as const) {
      tallies.push(
        await fuzzDecoderAsync({
          name: `http ${method} streams`,
          inputs: hostileBytes(seeds, 200),
          decode: async (b) => {
            const p = path.replace('{uuid}', uuid);
            const a = await api.request(method, p, { body: b, headers: { 'content-type': 'application/json' } });
            deliberate(a, `${method} ${p} ${Buffer.from(b).toString('hex')}`);
            return a.status;
          },
          expected: () => false,
          runs: 250,
        }),
      );
    }
    t.diagnostic(tallies.map(describeTally).join('; ') + statusLine());
  });
});

async function insert(type: string, body: Uint8Array): Promise<number> {
  const a = await api.request('POST', `/api/streams/${uuid}/points`, { body, headers: { 'content-type': type } });
  deliberate(a, `POST points (${type}) ${Buffer.from(body).toString('hex').slice(0, 400)}`);
  return a.status;
}

/**
 * Keys with roles over the real transports: `runServer` on a data directory whose `keys` file
 * holds a read, a write and an admin key (plus a plain `--api-key`, role admin). Every gRPC method
 * and every HTTP route is called with every key: a too-weak key gets PERMISSION_DENIED (gRPC
 * status 7) / HTTP 403 with a JSON body, the right one passes the gate. Real writes are refused to
 * weak keys and leave the data untouched; revoking and adding keys takes effect without a restart.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { streamIdToBytes } from '../../core/uuid.ts';
import { BTRDB_RPCS, type BTrDBClient, createBTrDBClient, type RpcName } from '../../wire/index.ts';
import { generateKey, type KeyEntry, writeKeyEntries } from '../service/keys-file.ts';
import { ACCESS, httpRouteAccess, ROLES, type Role, roleAllows } from '../service/roles.ts';
import { type RunningServer, runServer } from './run-server.ts';
import { parseServeConfig } from './serve-config.ts';

const PLAIN = 'plain-admin-key';
let dir: string;
let server: RunningServer;
let client: BTrDBClient;
let base: string;
const entries: KeyEntry[] = [];
const keys = {} as Record<Role, string>;

const md = (key: string | undefined): Metadata => {
  const m = new Metadata();
  if (key !== undefined) m.set('authorization', `Bearer ${key}`);
  return m;
};

type Outcome = { readonly code: number; readonly details: string; readonly messages: unknown[] };

/** Call any RPC with its zero-valued request; resolves with the gRPC status (0 = passed the gate). */
function callRpc(name: RpcName, key: string | undefined, request?: unknown): Promise<Outcome> {
  const rpc = BTRDB_RPCS[name];
  const req = request ?? rpc.request.decode(new Uint8Array(0));
  const c = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  return new Promise((resolve) => {
    const messages: unknown[] = [];
    const fail = (e: ServiceError) => resolve({ code: e.code, details: e.details, messages });
    if (rpc.kind === 'U') {
      c[name]!.call(client, req, md(key), (e: ServiceError | null, r: unknown) =>
        e ? fail(e) : resolve({ code: 0, details: '', messages: [r] }),
      );
      return;
    }
    const stream = (
      rpc.kind === 'S' ? c[name]!.call(client, req, md(key)) : c[name]!.call(client, md(key))
    ) as NodeJS.EventEmitter & { write?: (m: unknown) => void; end?: () => void };
    stream.on('data', (m: unknown) => messages.push(m));
    stream.on('error', fail);
    stream.on('end', () => resolve({ code: 0, details: '', messages }));
    if (rpc.kind === 'B') {
      // Subscribe stays open once admitted (a refusal arrives at once): admitted = no error
      // within 300 ms, then we cancel it.
      const timer = setTimeout(() => {
        stream.removeAllListeners('error');
        stream.on('error', () => undefined);
        (stream as unknown as { cancel(): void }).cancel();
        resolve({ code: 0, details: 'admitted (still open after 300 ms)', messages });
      }, 300);
      stream.once('error', () => clearTimeout(timer));
    }
  });
}

async function http(method: string, p: string, key: string | undefined, body?: unknown) {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + p, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, contentType: res.headers.get('content-type') ?? '' };
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-access-'));
  for (const role of ROLES) {
    const made = generateKey(role, `${role} test key`, new Set(entries.map((e) => e.id)));
    entries.push(made.entry);
    keys[role] = made.key;
  }
  writeKeyEntries(path.join(dir, 'keys'), entries);
  const cfg = parseServeConfig(
    ['--data', dir, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--api-key', PLAIN],
    {},
    (f) => fs.readFileSync(f, 'utf8'),
  );
  assert.equal(cfg.keysFile, path.join(dir, 'keys'), 'DATA/keys is the default keys file');
  server = await runServer(cfg, { out: () => undefined, err: () => undefined });
  client = createBTrDBClient(server.grpc.address, credentials.createInsecure());
  base = server.http.url;
});

after(async () => {
  client?.close();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('gRPC', () => {
  test('every method refuses a too-weak key with PERMISSION_DENIED and accepts the right role', async () => {
    for (const name of Object.keys(BTRDB_RPCS) as RpcName[]) {
      const need = ACCESS.grpc[name];
      for (const role of ROLES) {
        const o = await callRpc(name, keys[role]);
        if (roleAllows(role, need)) {
          assert.equal(o.code, status.OK, `${name} with a ${role} key passes (${o.details})`);
        } else {
          assert.equal(o.code, status.PERMISSION_DENIED, `${name} with a ${role} key is refused`);
          assert.match(o.details, new RegExp(`${name} needs a ${need} key; this key has role ${role}`));
        }
      }
      assert.equal((await callRpc(name, PLAIN)).code, status.OK, `${name} with the plain (admin) key`);
      const bad = await callRpc(name, `${keys.admin.slice(0, -1)}x`);
      assert.equal(bad.code, status.UNAUTHENTICATED, `${name} with a forged key`);
      assert.equal(bad.details, 'invalid api key');
    }
  });

  test('a read key cannot write, a write key cannot obliterate; data stays as it was', async () => {
    const id = randomUUID();
    const uuid = streamIdToBytes(id as never);
    const create = { uuid, collection: 'access/test', tags: [], annotations: [] };
    assert.equal((await callRpc('Create', keys.read, create)).code, status.PERMISSION_DENIED);
    assert.equal((await callRpc('Create', keys.write, create)).code, status.OK);
    const points = { times: BigInt64Array.of(10n, 20n), values: Float64Array.of(1, 2) };
    const insert = (times: bigint[]) => ({
      uuid,
      sync: false,
      values: { times: BigInt64Array.from(times), values: Float64Array.from(times, Number) },
      merge_policy: 0,
    });
    assert.equal((await callRpc('Insert', keys.write, { ...insert([]), values: points })).code, status.OK);
    const read = async () => {
      const o = await callRpc('RawValues', keys.read, { uuid, start: 0n, end: 100n, versionMajor: 0n });
      assert.equal(o.code, status.OK);
      return (o.messages as { values: { times: BigInt64Array } }[]).flatMap((m) => [...m.values.times]);
    };
    assert.deepEqual(await read(), [10n, 20n]);
    assert.equal((await callRpc('Insert', keys.read, insert([30n]))).code, status.PERMISSION_DENIED);
    assert.equal((await callRpc('Delete', keys.read, { uuid, start: 0n, end: 100n })).code, status.PERMISSION_DENIED);
    const tags = {
      uuid,
      expectedPropertyVersion: 1n,
      tags: [{ key: 'name', val: { value: 'x' } }],
      collection: '',
      remove: [],
    };
    assert.equal((await callRpc('SetStreamTags', keys.read, tags)).code, status.PERMISSION_DENIED);
    assert.equal((await callRpc('Obliterate', keys.write, { uuid })).code, status.PERMISSION_DENIED);
    assert.deepEqual(await read(), [10n, 20n], 'nothing changed');
    const info = await callRpc('StreamInfo', keys.read, { uuid, omitVersion: false, omitDescriptor: false });
    const d = (info.messages[0] as { descriptor?: { propertyVersion: bigint; tags: unknown[] } }).descriptor;
    assert.equal(d?.propertyVersion, 1n, 'metadata unchanged');
    const gone = await callRpc('Obliterate', keys.admin, { uuid });
    assert.equal(gone.code, status.OK);
    assert.equal((gone.messages[0] as { stat?: unknown }).stat, undefined);
    const after = await callRpc('StreamInfo', keys.read, { uuid, omitVersion: false, omitDescriptor: false });
    assert.equal((after.messages[0] as { stat?: { code: number } }).stat?.code, 404);
  });
});

describe('HTTP', () => {
  const concrete = (p: string) => p.replace('{uuid}', randomUUID());
  const bodyOf = (method: string): unknown => (method === 'GET' || method === 'DELETE' ? undefined : {});

  test('every route refuses a too-weak key with 403 and a JSON body, and accepts the right role', async () => {
    const routes = server.http.app.routes;
    assert.ok(routes.length >= 20);
    for (const r of routes) {
      const need = httpRouteAccess(r.method, r.path);
      const p = concrete(r.path) + (r.path === '/api/live' ? `?uuid=${randomUUID()}` : '');
      if (need === 'public') {
        const a = await http(r.method, p, undefined);
        assert.ok(a.status !== 401 && a.status !== 403, `${r.method} ${r.path} is public`);
        continue;
      }
      const none = await http(r.method, p, undefined, bodyOf(r.method));
      assert.equal(none.status, 401, `${r.method} ${r.path} without a key`);
      for (const role of ROLES) {
        const a = await http(r.method, p, keys[role], bodyOf(r.method));
        if (roleAllows(role, need)) {
          assert.ok(a.status !== 401 && a.status !== 403, `${r.method} ${r.path} with a ${role} key: ${a.status}`);
        } else {
          assert.equal(a.status, 403, `${r.method} ${r.path} with a ${role} key`);
          assert.match(a.contentType, /application\/json/);
          const e = (a.json as { error: { code: number; name: string; message: string } }).error;
          assert.equal(e.code, 403);
          assert.equal(e.name, 'Forbidden');
          assert.match(e.message, new RegExp(`needs a ${need} key; this key has role ${role}`));
        }
      }
    }
  });

  test('a read key cannot insert, delete or obliterate over HTTP; the data stays', async () => {
    const id = randomUUID();
    assert.equal((await http('POST', '/api/streams', keys.read, { uuid: id, collection: 'access/http' })).status, 403);
    const made = await http('POST', '/api/streams', keys.write, { uuid: id, collection: 'access/http' });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const pts = { times: ['5', '6'], values: [1.5, 2.5] };
    assert.equal((await http('POST', `/api/streams/${id}/points`, keys.write, pts)).status, 200);
    assert.equal(
      (await http('POST', `/api/streams/${id}/points`, keys.read, { times: ['7'], values: [3] })).status,
      403,
    );
    assert.equal((await http('DELETE', `/api/streams/${id}/points?start=0&end=100`, keys.read)).status, 403);
    assert.equal((await http('PATCH', `/api/streams/${id}`, keys.read, { tags: { name: 'x' } })).status, 403);
    assert.equal((await http('DELETE', `/api/streams/${id}`, keys.write)).status, 403);
    const got = await http('GET', `/api/streams/${id}/points?start=0&end=100`, keys.read);
    assert.equal(got.status, 200);
    assert.deepEqual(
      (got.json as { points: { time: unknown }[] }).points.map((x) => String(x.time)),
      ['5', '6'],
    );
    assert.equal((await http('DELETE', `/api/streams/${id}`, keys.admin)).status < 300, true);
    assert.equal((await http('GET', `/api/streams/${id}`, keys.read)).status, 404);
  });
});

describe('keys change while serving', () => {
  test('a revoked key is refused and a new key accepted over gRPC and HTTP, without a restart', async () => {
    const file = path.join(dir, 'keys');
    const extra = generateKey('write', 'temporary', new Set(entries.map((e) => e.id)));
    writeKeyEntries(file, [...entries, extra.entry]);
    await new Promise((r) => setTimeout(r, 150)); // > the 100 ms re-check bound
    assert.equal((await callRpc('Flush', extra.key, { uuid: new Uint8Array(16) })).code, status.OK);
    assert.equal((await http('GET', '/api/info', extra.key)).status, 200);
    writeKeyEntries(file, entries); // revoke it
    await new Promise((r) => setTimeout(r, 150));
    const g = await callRpc('Info', extra.key);
    assert.equal(g.code, status.UNAUTHENTICATED);
    assert.equal(g.details, 'invalid api key');
    assert.equal((await http('GET', '/api/info', extra.key)).status, 401);
    assert.equal((await callRpc('Info', keys.read)).code, status.OK, 'the other keys still work');
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Database } from '../../db/database.ts';
import { BTRDB_RPCS } from '../../wire/index.ts';
import { createHttpApp } from '../http/app.ts';
import { ACCESS, grpcMethodRole, httpRouteAccess, httpRouteListed, ROLES, roleAllows } from './roles.ts';

test('roles are ordered read < write < admin', () => {
  const allowed = ROLES.flatMap((have) =>
    ROLES.filter((need) => roleAllows(have, need)).map((need) => `${have}>=${need}`),
  );
  assert.deepEqual(allowed, [
    'read>=read',
    'write>=read',
    'write>=write',
    'admin>=read',
    'admin>=write',
    'admin>=admin',
  ]);
});

test('every gRPC method has exactly one line in the access table', () => {
  assert.deepEqual(Object.keys(ACCESS.grpc).sort(), Object.keys(BTRDB_RPCS).sort());
});

test('read keys cannot insert, delete, obliterate or change metadata over gRPC; obliterate is admin only', () => {
  const writes = [
    'Insert',
    'ArrowInsert',
    'Delete',
    'Create',
    'SetStreamTags',
    'SetStreamAnnotations',
    'Flush',
  ] as const;
  for (const m of writes) assert.equal(grpcMethodRole(m), 'write', m);
  assert.equal(grpcMethodRole('Obliterate'), 'admin');
  assert.equal(grpcMethodRole('FaultInject'), 'admin');
  assert.equal(grpcMethodRole('SQLQuery'), 'read');
});

test('every HTTP route has exactly one line in the access table, and only health checks and the spec are public', async () => {
  const db = await Database.open(null, { background: false });
  try {
    const app = createHttpApp(db, { webRoot: null });
    const keys = app.routes.map((r) => `${r.method} ${r.path}`);
    const missing = app.routes.filter((r) => !httpRouteListed(r.method, r.path)).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(missing, [], 'add these routes to ACCESS.http in src/server/service/roles.ts');
    assert.deepEqual(
      Object.keys(ACCESS.http).filter((k) => !keys.includes(k)),
      [],
      'stale lines',
    );
    for (const r of app.routes) {
      assert.equal(httpRouteAccess(r.method, r.path) === 'public', r.public === true, `${r.method} ${r.path}`);
      if (r.method !== 'GET' && r.path !== '/api/sql') {
        assert.notEqual(httpRouteAccess(r.method, r.path), 'read', `${r.method} ${r.path} changes data`);
      }
    }
    assert.equal(httpRouteAccess('DELETE', '/api/streams/{uuid}'), 'admin');
  } finally {
    await db.close();
  }
});

test('a route missing from the table needs admin (fail closed)', () => {
  assert.equal(httpRouteAccess('POST', '/api/admin/something-new'), 'admin');
  assert.equal(httpRouteAccess('GET', '/api/not-listed'), 'admin');
});

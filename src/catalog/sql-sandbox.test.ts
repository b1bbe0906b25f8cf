import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { rejectsWith, sid, stream } from './catalog-testing.ts';
import { openPgliteCatalog, type PgliteCatalog } from './pglite-catalog.ts';

let cat: PgliteCatalog;
before(async () => {
  cat = await openPgliteCatalog(null);
  await cat.create(stream(1, 'sql/a', { name: 'Boston_1', unit: 'V' }, { site: 'north', 'quote"key': 'a"b\\c' }));
  await cat.create(stream(2, 'sql/a', { name: 'Boston_2', unit: 'A', distiller: 'd' }, { site: 'south' }));
  await cat.create(stream(3, 'sql/b', { name: 'Other', unit: 'V' }));
  await cat.create(stream(4, 'other', { name: 'Elsewhere', unit: 'Hz' }, { owner: 'x' }));
});
after(async () => {
  await cat.close();
});

test('select * from streams returns every documented column, with hstore as a JSON object', async () => {
  const rows = await cat.sql('select * from streams where collection like $1 order by name', ['sql/%']);
  assert.deepEqual(rows, [
    {
      uuid: sid(1),
      collection: 'sql/a',
      name: 'Boston_1',
      unit: 'V',
      ingress: '',
      distiller: null,
      property_version: 1,
      annotations: { site: 'north', 'quote"key': 'a"b\\c' },
    },
    {
      uuid: sid(2),
      collection: 'sql/a',
      name: 'Boston_2',
      unit: 'A',
      ingress: '',
      distiller: 'd',
      property_version: 1,
      annotations: { site: 'south' },
    },
    {
      uuid: sid(3),
      collection: 'sql/b',
      name: 'Other',
      unit: 'V',
      ingress: '',
      distiller: null,
      property_version: 1,
      annotations: null,
    },
  ]);
});

test("the btrdb-python client's queries work", async () => {
  const ann = await cat.sql(
    'select distinct(skeys(annotations)) as annotations from streams where collection like $1',
    ['sql/%'],
  );
  assert.deepEqual(ann.map((r) => r.annotations).sort(), ['quote"key', 'site']);
  const allAnn = await cat.sql('select distinct(skeys(annotations)) as annotations from streams', []);
  assert.deepEqual(allAnn.map((r) => r.annotations).sort(), ['owner', 'quote"key', 'site']);
  const names = await cat.sql('select distinct(name) as name from streams where collection like $1', ['sql/%']);
  assert.deepEqual(names.map((r) => r.name).sort(), ['Boston_1', 'Boston_2', 'Other']);
  const units = await cat.sql('select distinct(unit) as unit from streams', []);
  assert.deepEqual(units.map((r) => r.unit).sort(), ['A', 'Hz', 'V']);
  const doc = await cat.sql('select uuid from streams where name = $1 or name = $2', ['Boston_1', 'Boston_2']);
  assert.deepEqual(doc.map((r) => r.uuid).sort(), [sid(1), sid(2)]);
  const arrow = await cat.sql("select annotations -> 'site' as site from streams where name = $1::text;", ['Boston_1']);
  assert.deepEqual(arrow, [{ site: 'north' }]);
});

/** Each must be refused with 441 (and must not have changed anything). */
const HOSTILE: ReadonlyArray<readonly [string, string]> = [
  ['create table x (a int)', 'CREATE'],
  ['drop table streams', 'DROP'],
  ['alter table streams add column z int', 'ALTER'],
  ['insert into streams (uuid) values (gen_random_uuid())', 'INSERT'],
  ['update streams set name = $1', 'UPDATE'],
  ['delete from streams', 'DELETE'],
  ['truncate streams', 'TRUNCATE'],
  ['select * into stolen from streams', 'INTO is not allowed'],
  ['select 1; drop table streams', 'syntax error'],
  ['select 1) as q; drop table streams; select (1', 'multiple commands'],
  ['with d as (delete from streams returning *) select * from d', 'data-modifying'],
  ['copy streams to stdout', 'COPY'],
  ["select set_config('role', 'postgres', false)", 'permission denied for function set_config'],
  ["select pg_read_file('/etc/passwd')", 'permission denied for function pg_read_file'],
  ["select lo_import('/etc/passwd')", 'permission denied for function lo_import'],
  ["select nextval('streams_seq')", 'does not exist'],
  ['select nextval(0::oid::regclass)', 'permission denied for function nextval'],
  ['select setval(0::oid::regclass, 1)', 'permission denied for function setval'],
  ["select dblink('host=x', 'select 1')", 'does not exist'],
  ['select pg_terminate_backend(1)', 'permission denied for function pg_terminate_backend'],
  ['select pg_advisory_lock(1)', 'permission denied for function pg_advisory_lock'],
  ["select pg_notify('c', 'x')", 'permission denied for function pg_notify'],
  ["select query_to_xml('select 1', true, true, '')", 'permission denied for function query_to_xml'],
  ["select ts_stat('select 1')", 'permission denied for function ts_stat'],
  ['select * from pg_catalog.pg_authid', 'permission denied for table pg_authid'],
  ['select rolname from pg_roles', 'permission denied for view pg_roles'],
  ['select relname from pg_class', 'permission denied for table pg_class'],
  ['select * from information_schema.tables', 'permission denied for schema information_schema'],
  ['select * from catalog_stream', 'does not exist'],
  ['select * from catalog_obliterated', 'does not exist'],
  ['select * from public.catalog_info', 'does not exist'],
  ['select * from streams for update', 'read-only transaction'],
  ["select current_setting('data_directory')", 'permission denied'],
  ['set role postgres', 'SET'],
  ['reset role', 'RESET'],
  ['set session authorization postgres', 'SET'],
  ['commit; select 1', 'COMMIT'],
  ['begin; select 1', 'BEGIN'],
  ['rollback', 'ROLLBACK'],
  ['explain select 1', 'EXPLAIN'],
  ['lock table streams', 'LOCK'],
  ['do $$ begin perform 1; end $$', 'DO'],
  ['vacuum streams', 'VACUUM'],
  ['listen x', 'LISTEN'],
  ['prepare p as select 1', 'PREPARE'],
  ['grant select on streams to public', 'GRANT'],
  ['select 1 /*', 'unterminated'],
];

test('hostile statements are refused with 441 and change nothing', async () => {
  for (const [query, why] of HOSTILE) {
    const msg = await rejectsWith(cat.sql(query, []), 441);
    assert.ok(msg.includes(why), `${query} → ${msg}`);
  }
  const rows = await cat.sql('select count(*) as n, current_user as who from streams', []);
  assert.deepEqual(rows, [{ n: 4, who: 'arbor_sql' }]);
  assert.equal(await cat.count(), 4);
});

test('pg_sleep is stopped by the time limit, and the sandbox comes back', async () => {
  const restarts = cat.sandbox.stats.restarts;
  const t0 = performance.now();
  const msg = await rejectsWith(cat.sql('select pg_sleep(10)', [], { timeoutMs: 300 }), 441);
  const ms = performance.now() - t0;
  assert.match(msg, /time limit of 300 ms/);
  assert.ok(ms < 5000, `took ${ms} ms`);
  assert.equal(cat.sandbox.stats.restarts, restarts + 1);
  assert.deepEqual(await cat.sql('select count(*) as n from streams', []), [{ n: 4 }]);
});

test('a CPU-heavy cross join is stopped by the time limit', async () => {
  const t0 = performance.now();
  const q = 'select count(*) from generate_series(1, 100000) a, generate_series(1, 100000) b';
  assert.match(await rejectsWith(cat.sql(q, [], { timeoutMs: 300 }), 441), /time limit/);
  assert.ok(performance.now() - t0 < 5000);
  const rec = 'with recursive r(n) as (select 1 union all select n + 1 from r) select count(*) from r';
  await rejectsWith(cat.sql(rec, [], { timeoutMs: 300 }), 441);
});

test('the catalog keeps working while a user query is being stopped', async () => {
  const slow = cat.sql('select pg_sleep(10)', [], { timeoutMs: 500 });
  await cat.create(stream(10, 'during', { name: 'x' }));
  assert.equal((await cat.get(sid(10)))?.collection, 'during');
  await rejectsWith(slow, 441);
  assert.deepEqual(await cat.sql('select name from streams where collection = $1', ['during']), [{ name: 'x' }]);
  await cat.obliterate(sid(10));
});

test('queries see every change made before them', async () => {
  await cat.create(stream(20, 'fresh', { name: 'f' }, { v: '1' }));
  const q = 'select collection, annotations, property_version from streams where uuid = $1::uuid';
  assert.deepEqual(await cat.sql(q, [sid(20)]), [
    { collection: 'fresh', annotations: { v: '1' }, property_version: 1 },
  ]);
  await cat.setAnnotations(sid(20), 1, { v: '2', w: 'x' }, []);
  await cat.setTags(sid(20), 2, {}, 'fresh2', []);
  assert.deepEqual(await cat.sql(q, [sid(20)]), [
    { collection: 'fresh2', annotations: { v: '2', w: 'x' }, property_version: 3 },
  ]);
  await cat.obliterate(sid(20));
  assert.deepEqual(await cat.sql(q, [sid(20)]), []);
  await cat.createMany(Array.from({ length: 6000 }, (_, i) => stream(1000 + i, 'fresh/bulk', { name: `b${i}` })));
  assert.deepEqual(await cat.sql('select count(*) as n from streams where collection = $1', ['fresh/bulk']), [
    { n: 6000 },
  ]);
});

test('more rows than maxRows is 441; bad limits are 438', async () => {
  assert.equal((await cat.sql('select * from generate_series(1, 5) g', [], { maxRows: 5 })).length, 5);
  assert.match(await rejectsWith(cat.sql('select * from generate_series(1, 6) g', [], { maxRows: 5 }), 441), /5 rows/);
  await rejectsWith(cat.sql('select 1', [], { timeoutMs: 0 }), 438);
  await rejectsWith(cat.sql('select 1', [], { maxRows: -1 }), 438);
});

test('Postgres errors in user SQL are 441 with its message', async () => {
  assert.match(await rejectsWith(cat.sql('select nosuchcolumn from streams', []), 441), /nosuchcolumn/);
  assert.match(await rejectsWith(cat.sql('select $1::int', ['abc']), 441), /invalid input syntax/);
  assert.match(await rejectsWith(cat.sql('select $2::text', ['a']), 441), /parameter/);
});

test('concurrent queries are queued and all answered', async () => {
  const all = await Promise.all(
    Array.from({ length: 20 }, (_, i) => cat.sql('select $1::int * 2 as v', [String(i)], { timeoutMs: 5000 })),
  );
  assert.deepEqual(
    all.map((r) => r[0]?.v),
    Array.from({ length: 20 }, (_, i) => i * 2),
  );
});

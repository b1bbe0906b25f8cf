/**
 * The catalog on a real PostgreSQL server (started by test/cluster/postgres.ts): the shared
 * contract, races between two catalogs (two pools, as two nodes would have) and between
 * processes, user SQL's limits, and a paused / killed and restarted server. The server tests at
 * the end stop and kill the server, so they run last.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { type PgHandle, startPostgres } from '../../test/cluster/postgres.ts';
import { isDbError } from '../core/errors.ts';
import { catalogConformance } from './catalog.conformance.ts';
import { rejectsWith, sid, stream } from './catalog-testing.ts';
import { openPgServerCatalog, type PgServerCatalog } from './pg-server-catalog.ts';
import { openPgliteCatalog } from './pglite-catalog.ts';
import type { Catalog } from './types.ts';

const server: PgHandle = await startPostgres();
after(async () => {
  await server.stop();
});

/** Run one statement as the server's superuser, on a connection of its own. */
async function admin<R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], db = 'postgres'): Promise<R[]> {
  const c = new pg.Client({ connectionString: dbUrl(db), connectionTimeoutMillis: 5000, query_timeout: 10_000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

function dbUrl(db: string): string {
  return server.url.replace(/\/postgres$/, `/${db}`);
}

let databases = 0;
/** A new, empty database; returns its name. */
async function freshDatabase(): Promise<string> {
  const name = `catalog_${++databases}`;
  await admin(`create database ${name}`);
  return name;
}

const openFresh = async (): Promise<PgServerCatalog> => openPgServerCatalog(dbUrl(await freshDatabase()));

catalogConformance('PostgreSQL server', openFresh);

describe('two catalogs on one server (two pools, as two nodes have)', () => {
  let a: PgServerCatalog;
  let b: PgServerCatalog;
  let db: string;
  it('both open the same new database at once; the schema is made once', async () => {
    db = await freshDatabase();
    [a, b] = await Promise.all([openPgServerCatalog(dbUrl(db)), openPgServerCatalog(dbUrl(db))]);
    const rows = await admin<{ n: number }>(`select count(*)::int as n from catalog_info`, [], db);
    assert.deepEqual(rows, [{ n: 1 }]);
  });

  it('racing creates of one uuid: exactly one wins, the other is 417; of one tag set: the other is 418', async () => {
    for (let round = 0; round < 30; round++) {
      const same = await Promise.allSettled([
        a.create(stream(1000 + round, 'race/uuid', { name: `a${round}` })),
        b.create(stream(1000 + round, 'race/uuid', { name: `b${round}` })),
      ]);
      assert.equal(same.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}`);
      const lost = same.find((r) => r.status === 'rejected');
      assert.ok(lost?.status === 'rejected' && isDbError(lost.reason, 417), String(lost));
      const tagset = await Promise.allSettled([
        a.create(stream(2000 + round, 'race/tags', { name: `n${round}` })),
        b.create(stream(3000 + round, 'race/tags', { name: `n${round}` })),
      ]);
      assert.equal(tagset.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}`);
      const lost2 = tagset.find((r) => r.status === 'rejected');
      assert.ok(lost2?.status === 'rejected' && isDbError(lost2.reason, 418), String(lost2));
    }
    assert.equal((await a.lookup({ collection: 'race/', isPrefix: true })).length, 60);
  });

  it('racing setTags with one expected version from both: exactly one wins, the others are 423', async () => {
    await a.create(stream(4000, 'race/set', { name: 'r' }));
    for (let round = 1; round <= 20; round++) {
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 === 0 ? a : b).setTags(sid(4000), round, { unit: `u${round}.${i}` }, '', []),
        ),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}`);
      for (const r of results) if (r.status === 'rejected') assert.ok(isDbError(r.reason, 423), String(r.reason));
      assert.equal((await b.get(sid(4000)))?.propertyVersion, round + 1);
    }
  });

  it('racing setTags of two streams onto one tag set: one wins, the other is 418', async () => {
    for (let round = 0; round < 10; round++) {
      await a.create(stream(5000 + 2 * round, `race/collide${round}`, { name: 'x' }));
      await a.create(stream(5001 + 2 * round, `race/collide${round}`, { name: 'y' }));
      const results = await Promise.allSettled([
        a.setTags(sid(5000 + 2 * round), 1, { name: 'same' }, '', []),
        b.setTags(sid(5001 + 2 * round), 1, { name: 'same' }, '', []),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}`);
      const lost = results.find((r) => r.status === 'rejected');
      assert.ok(lost?.status === 'rejected' && isDbError(lost.reason, 418), String(lost));
    }
  });

  it('an obliterate racing a create of the same uuid never leaves the uuid both live and obliterated', async () => {
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 40; round++) {
      const id = sid(6000 + round);
      await a.create(stream(6000 + round, 'race/obliterate', { name: `o${round}` }));
      const [gone, again] = await Promise.allSettled([
        a.obliterate(id),
        b.create(stream(6000 + round, 'race/obliterate', { name: `o${round}` })),
      ]);
      assert.equal(gone.status, 'fulfilled', String(gone.status === 'rejected' ? gone.reason : ''));
      assert.equal(again.status, 'rejected', `round ${round}: the create of an obliterated uuid succeeded`);
      const code = isDbError(again.reason) ? again.reason.code : -1;
      assert.ok(code === 417 || code === 429, `round ${round}: ${String(again.reason)}`);
      outcomes.set(String(code), (outcomes.get(String(code)) ?? 0) + 1);
      assert.equal(await b.get(id), undefined);
      assert.equal(await b.isObliterated(id), true);
    }
    const both = await admin<{ n: number }>(
      'select count(*)::int as n from catalog_stream s join catalog_obliterated o using (uuid)',
      [],
      db,
    );
    assert.deepEqual(both, [{ n: 0 }]);
  });

  it('three processes open a new database at once and race on one stream: every version is won once', async () => {
    const fresh = await freshDatabase();
    const child = path.join(import.meta.dirname, 'pg-server-catalog-child.ts');
    const run = (name: string) =>
      new Promise<{ created: boolean; wins: number[] }>((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', child, dbUrl(fresh), sid(1), '25', name], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.once('close', (code) =>
          code === 0 ? resolve(JSON.parse(out) as { created: boolean; wins: number[] }) : reject(new Error(err)),
        );
      });
    const results = await Promise.all([run('p1'), run('p2'), run('p3')]);
    assert.equal(results.filter((r) => r.created).length, 1, 'exactly one process created the stream');
    const wins = results.flatMap((r) => r.wins).sort((x, y) => x - y);
    const c = await openPgServerCatalog(dbUrl(fresh));
    try {
      const final = (await c.get(sid(1)))?.propertyVersion ?? 0;
      assert.deepEqual(
        wins,
        Array.from({ length: final - 1 }, (_, i) => i + 2),
        'each version 2..final was won by exactly one process',
      );
      assert.ok(wins.length >= 25, `only ${wins.length} wins`);
    } finally {
      await c.close();
    }
  });

  it('closes both', async () => {
    await a.close();
    await b.close();
  });
});

describe('user SQL on the server', () => {
  let cat: PgServerCatalog;
  let ref: Catalog;
  let db: string;
  const fill = async (c: Catalog) => {
    await c.create(stream(1, 'sql/a', { name: 'Boston_1', unit: 'V' }, { site: 'north', 'quote"key': 'a"b\\c' }));
    await c.create(stream(2, 'sql/a', { name: 'Boston_2', unit: 'A', distiller: 'd' }, { site: 'south' }));
    await c.create(stream(3, 'sql/b', { name: 'Other', unit: 'V' }));
    await c.create(stream(4, 'other', { name: 'Elsewhere', unit: 'Hz' }, { owner: 'x' }));
    await c.create(stream(5, 'gone', { name: 'g' }));
    await c.obliterate(sid(5));
  };

  it('opens a server catalog and, as the reference, a PGlite catalog with the same streams', async () => {
    db = await freshDatabase();
    cat = await openPgServerCatalog(dbUrl(db));
    ref = await openPgliteCatalog(null);
    await fill(cat);
    await fill(ref);
  });

  it('read-only queries answer exactly what the PGlite sandbox answers', async () => {
    const queries: Array<[string, string[]]> = [
      ['select * from streams order by uuid', []],
      ['select * from streams where collection like $1 order by name', ['sql/%']],
      [
        'select distinct(skeys(annotations)) as annotations from streams where collection like $1 order by 1',
        ['sql/%'],
      ],
      ['select distinct(unit) as unit from streams order by 1', []],
      ['select uuid from streams where name = $1 or name = $2 order by 1', ['Boston_1', 'Boston_2']],
      ["select annotations -> 'site' as site from streams where name = $1::text;", ['Boston_1']],
      ['select count(*) as n, max(property_version) as v from streams', []],
      ['select collection, count(*) as n from streams group by 1 order by 1', []],
      ['with x as (select * from streams) select name from x where unit = $1 order by 1', ['V']],
      ['values (1, $1::text)', ['v']],
    ];
    for (const [q, p] of queries) assert.deepEqual(await cat.sql(q, p), await ref.sql(q, p), q);
    assert.deepEqual(await cat.sql('select current_user as who', []), [{ who: 'arbor_sql' }]);
  });

  /** Each must be 441 with a message matching the pattern, and change nothing. */
  const HOSTILE: ReadonlyArray<readonly [string, RegExp]> = [
    ['create table x (a int)', /CREATE/],
    ['drop table streams', /DROP/],
    ['drop table catalog_stream', /DROP/],
    ['insert into streams (uuid) values (gen_random_uuid())', /INSERT/],
    ['insert into catalog_stream (uuid) values (gen_random_uuid())', /INSERT/],
    ['update streams set name = $1', /UPDATE/],
    ['delete from catalog_obliterated', /DELETE/],
    ['truncate catalog_stream', /TRUNCATE/],
    ['select * into stolen from streams', /INTO is not allowed/],
    ['select 1; drop table streams', /syntax error/],
    ['select 1) as q; drop table streams; select (1', /multiple commands/],
    [
      'select 1 as x) as arbor_q; commit; reset role; drop table catalog_obliterated; select * from (select 1',
      /multiple commands/,
    ],
    ['with d as (delete from catalog_stream returning *) select * from d', /data-modifying/],
    ['copy catalog_stream to stdout', /COPY/],
    ['select * from catalog_stream', /permission denied for table catalog_stream/],
    ['select * from catalog_obliterated', /permission denied for table catalog_obliterated/],
    ['select * from public.catalog_info', /permission denied for table catalog_info/],
    ["select query_to_xml('select * from catalog_obliterated', true, true, '')", /permission denied for table/],
    ["select set_config('role', 'postgres', false)", /permission denied for function set_config/],
    ["select set_config('session_authorization', 'postgres', true)", /permission denied for function set_config/],
    ["select set_config('statement_timeout', '0', true)", /permission denied for function set_config/],
    ["select pg_read_file('/etc/passwd')", /permission denied for function pg_read_file/],
    ["select lo_import('/etc/passwd')", /permission denied for function lo_import|read-only/],
    ['select pg_terminate_backend(pg_backend_pid())', /permission denied|must be a (member|superuser)/],
    ["select current_setting('data_directory')", /permission denied|must be superuser|pg_read_all_settings/],
    ['select * from streams for update', /read-only transaction|permission denied/],
    ['set role postgres', /SET/],
    ['reset role', /RESET/],
    ['commit; select 1', /COMMIT/],
    ['do $$ begin perform 1; end $$', /DO/],
    ['grant select on catalog_stream to public', /GRANT/],
  ];

  it('statements that write, read other tables or change role are 441 and change nothing', async () => {
    for (const [query, why] of HOSTILE) {
      const msg = await rejectsWith(cat.sql(query, []), 441);
      assert.match(msg, why, query);
    }
    assert.equal(await cat.count(), 4);
    assert.equal(await cat.isObliterated(sid(5)), true);
    const tables = await admin<{ t: string }>(
      "select tablename as t from pg_tables where schemaname = 'public' order by 1",
      [],
      db,
    );
    assert.deepEqual(
      tables.map((r) => r.t),
      ['catalog_info', 'catalog_obliterated', 'catalog_stream'],
    );
  });

  it('a query past its time limit is 441 and stopped on the server; the catalog goes on', async () => {
    const t0 = performance.now();
    const msg = await rejectsWith(cat.sql('select pg_sleep(10)', [], { timeoutMs: 300 }), 441);
    assert.match(msg, /time limit of 300 ms/);
    assert.ok(performance.now() - t0 < 3000, `took ${performance.now() - t0} ms`);
    const sleeping = await admin<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where query like '%pg_sleep(10)%' and pid <> pg_backend_pid()",
    );
    assert.deepEqual(sleeping, [{ n: 0 }]);
    assert.deepEqual(await cat.sql('select count(*) as n from streams', []), [{ n: 4 }]);
  });

  it('a session advisory lock taken by user SQL is released before the connection is reused', async () => {
    await cat.sql('select pg_advisory_lock(4242) from streams limit 1', []);
    const free = await admin<{ got: boolean }>('select pg_try_advisory_lock(4242) as got');
    assert.deepEqual(free, [{ got: true }]);
  });

  it('more rows than maxRows is 441; Postgres errors are 441 with their message', async () => {
    assert.equal((await cat.sql('select * from generate_series(1, 5) g', [], { maxRows: 5 })).length, 5);
    assert.match(
      await rejectsWith(cat.sql('select * from generate_series(1, 6) g', [], { maxRows: 5 }), 441),
      /5 rows/,
    );
    assert.match(await rejectsWith(cat.sql('select nosuchcolumn from streams', []), 441), /nosuchcolumn/);
    assert.match(await rejectsWith(cat.sql('select $1::int', ['abc']), 441), /invalid input syntax/);
    await rejectsWith(cat.sql('select 1', [], { timeoutMs: 0 }), 438);
  });

  it('closes', async () => {
    await cat.close();
    await ref.close();
  });
});

describe('a server that is unreachable, paused, killed and restarted', () => {
  it('errors name the server without its password', async () => {
    const closed = await startPostgres();
    const url = closed.url.replace('postgres@', 'postgres:s3cret-pw@');
    await closed.stop();
    const t0 = performance.now();
    try {
      await openPgServerCatalog(url, { connectTimeoutMs: 2000 });
      assert.fail('open succeeded');
    } catch (e) {
      assert.ok(isDbError(e, 500), String(e));
      assert.match(e.message, /^catalog server postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres: connection refused/);
      assert.doesNotMatch(e.message, /s3cret/);
    }
    assert.ok(performance.now() - t0 < 3000);
  });

  it('a server with fsync off is refused', async () => {
    const unsafe = await startPostgres({ settings: { fsync: 'off' } });
    try {
      assert.match(await rejectsWith(openPgServerCatalog(unsafe.url), 500), /fsync is off/);
    } finally {
      await unsafe.stop();
    }
  });

  let cat: PgServerCatalog;
  it('opens a catalog with 1 s deadlines', async () => {
    cat = await openPgServerCatalog(dbUrl(await freshDatabase()), { connectTimeoutMs: 1000, queryTimeoutMs: 1000 });
    await cat.create(stream(1, 'life', { name: 'before' }));
  });

  it("a user query may run past the catalog's 1 s statement limit when its own limit allows", async () => {
    const rows = await cat.sql('select pg_sleep(1.5)::text as slept', [], { timeoutMs: 4000 });
    assert.deepEqual(rows, [{ slept: '' }]);
  });

  it('while paused (SIGSTOP) calls fail within the deadline with a clear error, and work after SIGCONT', async () => {
    server.pause();
    try {
      for (const call of [
        () => cat.get(sid(1)),
        () => cat.create(stream(2, 'life', { name: 'paused' })),
        () => cat.lookup({ collection: 'life', isPrefix: false }),
        () => cat.sql('select 1', [], { timeoutMs: 500 }),
      ]) {
        const t0 = performance.now();
        const msg = await rejectsWith(call(), 500);
        const ms = performance.now() - t0;
        assert.match(
          msg,
          /^catalog server postgres:\/\/postgres@127\.0\.0\.1:\d+\/catalog_\d+: no (answer|connection)/,
        );
        assert.ok(ms < 3500, `failed only after ${ms} ms`);
      }
    } finally {
      server.resume();
    }
    assert.equal((await cat.get(sid(1)))?.tags.name, 'before');
    // the create may or may not have been applied (its outcome was unknown): either way it is consistent
    const again = await cat.create(stream(3, 'life', { name: 'resumed' }));
    assert.equal(again.propertyVersion, 1);
  });

  it('killed (SIGKILL): calls fail fast; restarted: the same catalog works again with every acknowledged change', async () => {
    await cat.setAnnotations(sid(1), 1, { k: 'v' }, []);
    await server.kill();
    const msg = await rejectsWith(cat.get(sid(1)), 500);
    assert.match(msg, /connection refused|connection was lost/);
    await server.restart();
    const m = await cat.get(sid(1));
    assert.deepEqual(m?.annotations, { k: 'v' });
    assert.equal((await cat.get(sid(3)))?.tags.name, 'resumed');
    await cat.create(stream(4, 'life', { name: 'after' }));
    assert.deepEqual(await cat.sql('select name from streams where name = $1', ['after']), [{ name: 'after' }]);
    await cat.close();
  });
});

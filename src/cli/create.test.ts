/**
 * The metadata commands in-process over one in-memory database: create, ls, info, query — and the
 * help text of every command this folder adds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectionOver } from '../client/index.ts';
import { Database } from '../db/database.ts';
import { checkCommand } from './check.ts';
import { createCommand, createStream, parseFilters, parsePairs } from './create.ts';
import { exportCommand } from './export.ts';
import { importCommand } from './import.ts';
import { describeStream, formatInfo, infoCommand, infoJson, versionRanges } from './info.ts';
import { formatStreamRows, listStreams, lsCommand, renderTable, rowJson } from './ls.ts';
import { UsageError } from './main.ts';
import { formatRows, queryCommand, runQuery } from './query.ts';

let db: Database;

const base = { annotations: {}, allowNonFinite: false };

describe('metadata commands', () => {
  before(async () => {
    db = await Database.open(null, { background: false });
  });
  after(() => db.close());

  test('create makes streams with tags, annotations and an optional uuid', async () => {
    const conn = connectionOver(db);
    const uuid = await createStream(conn, {
      ...base,
      collection: 'grid/sub1',
      tags: { name: 'VA', unit: 'V', ingress: 'pmu' },
      annotations: { phase: 'A' },
      uuid: '00000000-0000-4000-8000-000000000001',
    });
    assert.equal(uuid, '00000000-0000-4000-8000-000000000001');
    await createStream(conn, {
      ...base,
      collection: 'grid/sub1',
      tags: { name: 'VB', unit: 'V' },
      annotations: { phase: 'B' },
    });
    await createStream(conn, { ...base, collection: 'grid/sub2', tags: { name: 'IA', unit: 'A' } });
    await assert.rejects(
      createStream(conn, { ...base, collection: 'x', tags: { name: 'y', colour: 'red' } }),
      /408|tag key/,
    );
  });

  test('ls lists by prefix and filters, with points and time span', async () => {
    const conn = connectionOver(db);
    await (await conn.streams('grid/sub1/VA')).streams[0]!.insert([
      [1_000_000_000n, 1],
      [2_000_000_000n, 2],
    ]);
    const all = await listStreams(conn, { prefix: 'grid/' });
    assert.deepEqual(
      all.map((r) => [r.collection, r.name, r.points]),
      [
        ['grid/sub1', 'VA', 2],
        ['grid/sub1', 'VB', 0],
        ['grid/sub2', 'IA', 0],
      ],
    );
    assert.equal(all[0]!.first, 1_000_000_000n);
    assert.equal(all[0]!.last, 2_000_000_000n);
    assert.deepEqual(
      (await listStreams(conn, { prefix: '', tags: { unit: 'A' } })).map((r) => r.name),
      ['IA'],
    );
    assert.deepEqual(
      (await listStreams(conn, { prefix: 'grid', annotations: { phase: null } })).map((r) => r.name),
      ['VA', 'VB'],
    );
    assert.deepEqual(await listStreams(conn, { prefix: 'grid', exact: true }), []);
    const text = formatStreamRows(all, false);
    assert.match(text, /^uuid +collection +name +unit +pver +points +first +last\n/);
    assert.match(text, /grid\/sub1 +VA +V +1 +2 +1970-01-01T00:00:01\.000000000Z +1970-01-01T00:00:02\.000000000Z\n/);
    assert.deepEqual(rowJson(all[0]!).first, '1000000000');
    assert.doesNotMatch(formatStreamRows(await listStreams(conn, { prefix: '', brief: true }), true), /points/);
  });

  test('info reports metadata, versions, points, span and bytes', async () => {
    const conn = connectionOver(db);
    const r = await describeStream(db, conn, 'grid/sub1/VA');
    assert.equal(r.uuid, '00000000-0000-4000-8000-000000000001');
    assert.deepEqual(r.annotations, { phase: 'A' });
    assert.equal(r.points, 2);
    assert.equal(r.earliest?.time, 1_000_000_000n);
    assert.equal(r.latest?.value, 2);
    assert.ok(r.version > 10 && r.retainedVersions.includes(r.version));
    assert.ok(r.bytes > 0 && r.blocks >= 1);
    assert.match(formatInfo(r), /points +2\n/);
    assert.equal(JSON.parse(infoJson(r)).earliest.time, '1000000000');
    const empty = await describeStream(db, conn, 'grid/sub2/IA');
    assert.deepEqual([empty.points, empty.bytes, empty.earliest], [0, 0, null]);
    await assert.rejects(describeStream(db, conn, 'grid/sub2/nope'), /404|no stream/);
    assert.equal(versionRanges([10, 11, 12, 15, 17, 18]), '10–12, 15, 17–18');
  });

  test('query runs read-only SQL with parameters and prints a table', async () => {
    const conn = connectionOver(db);
    const rows = await runQuery(conn, 'select name, unit from streams where collection like $1 order by name', [
      'grid/%',
    ]);
    assert.deepEqual(rows, [
      { name: 'IA', unit: 'A' },
      { name: 'VA', unit: 'V' },
      { name: 'VB', unit: 'V' },
    ]);
    assert.equal(formatRows(rows), 'name  unit\n----  ----\nIA    A\nVA    V\nVB    V\n(3 rows)\n');
    const ann = await runQuery(conn, "select annotations from streams where name = 'VA'", []);
    assert.match(formatRows(ann), /\{"phase":"A"\}/);
    await assert.rejects(runQuery(conn, 'delete from streams', []), /441|BadSQL|read-only|not allowed/i);
  });

  test('key=value flags parse, filters allow a bare key', () => {
    assert.deepEqual(parsePairs(['a=1', 'b=x=y', 'c='], 'tag'), { a: '1', b: 'x=y', c: '' });
    assert.throws(() => parsePairs(['novalue'], 'tag'), UsageError);
    assert.deepEqual(parseFilters(['unit=V', 'phase']), { unit: 'V', phase: null });
  });

  test('tables right-align numeric columns', () => {
    assert.equal(
      renderTable(
        ['a', 'n'],
        [
          ['xy', '5'],
          ['z', '10'],
        ],
      ),
      'a    n\n--  --\nxy   5\nz   10\n',
    );
  });

  test('every command prints help with a description and examples', async () => {
    const commands = [createCommand, lsCommand, infoCommand, importCommand, exportCommand, queryCommand, checkCommand];
    const write = process.stdout.write;
    const texts = new Map<(argv: string[]) => Promise<void>, string>();
    for (const cmd of commands) {
      let text = '';
      process.stdout.write = ((s: string) => {
        text += s;
        return true;
      }) as typeof process.stdout.write;
      try {
        await cmd(['--help']);
      } finally {
        process.stdout.write = write;
      }
      assert.match(text, /^arbor \w+ — .+\n/);
      assert.match(text, /Usage:|arbor import csv FILE/);
      assert.match(text, /Examples:\n {2}arbor /);
      assert.match(text, /--data DIR/);
      texts.set(cmd, text);
    }
    // check's help names every option it parses, and shows each in an example.
    const check = texts.get(checkCommand)!;
    for (const option of ['--data', '--repair', '--json']) {
      assert.match(check, new RegExp(`Usage: arbor check .*${option}`), option);
      assert.match(check, new RegExp(`Examples:\\n(?: {2}arbor check .*\\n)*? {2}arbor check .*${option}`), option);
    }
    // export's help documents --flags.
    assert.match(texts.get(exportCommand)!, /\n {2}--flags {2,}\S/);
  });
});

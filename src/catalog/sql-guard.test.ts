import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { firstKeyword, prepareUserSql, skipSpaceAndComments, wrapUserSql } from './sql-guard.ts';

function rejects441(query: string, params: string[] = []): string {
  try {
    prepareUserSql(query, params);
  } catch (e) {
    assert.ok(isDbError(e, 441), `expected 441 for ${query}, got ${String(e)}`);
    return e.message;
  }
  assert.fail(`expected ${JSON.stringify(query)} to be rejected`);
}

test('comments and whitespace before the first keyword are skipped', () => {
  assert.equal(firstKeyword('  -- hi\n /* a /* nested */ b */ SELECT 1'), 'select');
  assert.equal(firstKeyword('(select 1)'), '(');
  assert.equal(firstKeyword('WITH x as (select 1) select * from x'), 'with');
  assert.equal(skipSpaceAndComments('/* never closed'), '/* never closed'.length);
});

test('read-only statement kinds pass and trailing semicolons are dropped', () => {
  assert.equal(prepareUserSql('select 1;;  \n', []), 'select 1');
  assert.equal(prepareUserSql('table streams', []), 'table streams');
  assert.equal(prepareUserSql('values (1)', []), 'values (1)');
  assert.equal(prepareUserSql("select ';'", []), "select ';'");
});

test('other statement kinds are rejected with a message naming the statement', () => {
  assert.match(rejects441('drop table streams'), /DROP statement/);
  assert.match(rejects441('  insert into streams values (1)'), /INSERT statement/);
  assert.match(rejects441('/* x */ COPY streams TO stdout'), /COPY statement/);
  assert.match(rejects441('set role postgres'), /SET statement/);
  assert.match(rejects441('commit; select 1'), /COMMIT statement/);
  assert.match(rejects441('   '), /empty query/);
  assert.match(rejects441('-- only a comment'), /empty query/);
  assert.match(rejects441('select 1', ['a\0']), /\$1 contains NUL/);
  assert.match(rejects441('select 1\0'), /NUL/);
  assert.match(rejects441(`select ${'1'.repeat(70_000)}`), /characters long/);
});

test('the wrapper makes the statement a sub-select that a trailing comment cannot break', () => {
  const w = wrapUserSql('select 1 -- c', 10);
  assert.equal(w, 'select row_to_json(arbor_q.*)::text as j from (\nselect 1 -- c\n) as arbor_q limit 11');
});

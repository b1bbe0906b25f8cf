import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DbError } from '../core/errors.ts';
import { connectionProblem, PgPoolClient, redactUrl } from './pg-pool-client.ts';

test('redactUrl drops the password and the query string, and keeps user, host, port and database', () => {
  assert.equal(
    redactUrl('postgres://arbor:s3cret@db.example:5433/catalog'),
    'postgres://arbor@db.example:5433/catalog',
  );
  assert.equal(
    redactUrl('postgres://arbor@127.0.0.1:5432/catalog?password=s3cret&sslmode=disable'),
    'postgres://arbor@127.0.0.1:5432/catalog',
  );
  assert.equal(redactUrl('postgres://u@h/db'), 'postgres://u@h/db');
  assert.equal(redactUrl('not a url with s3cret'), '(unparsable URL)');
});

test('connectionProblem tells connection failures from errors the database raised for a statement', () => {
  const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  assert.equal(connectionProblem(coded('ECONNREFUSED'), 1, 2), 'connection refused');
  assert.equal(connectionProblem(coded('EPIPE'), 1, 2), 'connection closed');
  const aggregate = Object.assign(new AggregateError([coded('ECONNREFUSED')], 'all failed'), {});
  assert.equal(connectionProblem(aggregate, 1, 2), 'connection refused');
  assert.equal(connectionProblem(coded('57P01'), 1, 2), 'the server is shutting down');
  assert.equal(connectionProblem(coded('08006'), 1, 2), 'connection failure');
  assert.match(connectionProblem(new Error('Query read timeout'), 1000, 2500) ?? '', /no answer within 2500 ms/);
  assert.match(
    connectionProblem(new Error('timeout exceeded when trying to connect'), 1000, 2500) ?? '',
    /no connection within 1000 ms/,
  );
  assert.match(connectionProblem(new Error('Connection terminated unexpectedly'), 1, 2) ?? '', /connection was lost/);
  assert.equal(connectionProblem(coded('23505', 'duplicate key'), 1, 2), undefined);
  assert.equal(connectionProblem(coded('42501', 'permission denied'), 1, 2), undefined);
  assert.equal(connectionProblem(new DbError(417, 'exists'), 1, 2), undefined);
});

test('bad pool limits are 438', () => {
  assert.throws(
    () => new PgPoolClient('postgres://u@127.0.0.1:1/db', { maxConnections: 0 }),
    (e) => e instanceof DbError && e.code === 438,
  );
  assert.throws(
    () => new PgPoolClient('postgres://u@127.0.0.1:1/db', { queryTimeoutMs: 1.5 }),
    (e) => e instanceof DbError && e.code === 438,
  );
});

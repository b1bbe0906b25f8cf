import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DbError, ERROR_CODES, type ErrorCode } from '../../core/errors.ts';
import { HTTP_STATUS_OF_CODE, HttpError, httpErrorOf } from './errors.ts';

test('every BTrDB code has an HTTP status', () => {
  for (const code of Object.keys(ERROR_CODES)) {
    const status = HTTP_STATUS_OF_CODE[Number(code) as ErrorCode];
    assert.ok(status >= 400 && status < 600, `code ${code} → ${status}`);
  }
});

test('a DbError keeps its code, name and message', () => {
  const a = httpErrorOf(new DbError(423, 'stale'));
  assert.equal(a.status, 409);
  assert.deepEqual(a.body, { error: { code: 423, name: 'AnnotationVersionMismatch', message: 'stale' } });
  assert.equal(a.internal, false);
  assert.equal(httpErrorOf(new DbError(401, 'none')).status, 404);
  assert.equal(httpErrorOf(new DbError(450, 'gone')).status, 410);
  assert.equal(httpErrorOf(new DbError(426, 'full')).status, 507);
});

test('HTTP errors keep their status and headers, and anything else is an internal 500', () => {
  const h = httpErrorOf(new HttpError(401, 'Unauthorized', 'no key', { 'www-authenticate': 'Bearer' }));
  assert.equal(h.status, 401);
  assert.deepEqual(h.headers, { 'www-authenticate': 'Bearer' });
  const x = httpErrorOf(new TypeError('boom'));
  assert.equal(x.status, 500);
  assert.equal(x.internal, true);
  assert.deepEqual(x.body.error, { code: 500, name: 'InvariantFailure', message: 'internal error: boom' });
});

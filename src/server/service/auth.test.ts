import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiKeyAuth, bearerKey } from './auth.ts';

test('bearerKey accepts the scheme word in any case and trims spaces', () => {
  assert.equal(bearerKey('Bearer abc'), 'abc');
  assert.equal(bearerKey('bearer abc'), 'abc');
  assert.equal(bearerKey('BEARER   abc  '), 'abc');
  assert.equal(bearerKey('Basic abc'), undefined);
  assert.equal(bearerKey('Bearer'), undefined);
  assert.equal(bearerKey(undefined), undefined);
});

test('a server without keys is open', () => {
  const a = new ApiKeyAuth([]);
  assert.equal(a.open, true);
  assert.deepEqual(a.check(undefined), { ok: true, keyIndex: null });
});

test('only a configured key passes, and it is reported by position', () => {
  const a = new ApiKeyAuth(['k1', 'k2']);
  assert.deepEqual(a.check('Bearer k2'), { ok: true, keyIndex: 1 });
  assert.equal(a.check('Bearer k3').ok, false);
  assert.equal(a.check('Bearer k').ok, false);
  assert.equal(a.check('Bearer k1x').ok, false);
  assert.equal(a.check('k1').ok, false);
  assert.equal(a.check(undefined).ok, false);
});

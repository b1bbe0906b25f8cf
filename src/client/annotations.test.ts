import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { decodeAnnotation, encodeAnnotation, encodeAnnotations } from './annotations.ts';

test('strings are stored verbatim and other values JSON-encoded, like btrdb-python', () => {
  assert.deepEqual(
    encodeAnnotations({ a: 'x', b: 5, c: true, d: null, e: { f: [1, 'g'] }, h: 12345678901234567890n }),
    {
      a: 'x',
      b: '5',
      c: 'true',
      d: 'null',
      e: '{"f":[1,"g"]}',
      h: '12345678901234567890',
    },
  );
});

test('decoding parses JSON and falls back to the raw string', () => {
  assert.equal(decodeAnnotation('5'), 5);
  assert.deepEqual(decodeAnnotation('{"f":1}'), { f: 1 });
  assert.equal(decodeAnnotation('north west'), 'north west');
});

test('a value JSON cannot encode is rejected with 409', () => {
  assert.throws(
    () => encodeAnnotation('k', { toJSON: () => undefined }),
    (e) => isDbError(e, 409),
  );
});

test('with encoding off, a non-string value is rejected with 409', () => {
  assert.throws(
    () => encodeAnnotations({ k: 5 }, false),
    (e) => isDbError(e, 409),
  );
});

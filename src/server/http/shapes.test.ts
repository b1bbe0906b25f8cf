import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDbError } from '../../core/errors.ts';
import { array, bool, int, nullable, object, optional, record, str } from './shapes.ts';

const shape = object({
  name: str({ maxLength: 5 }),
  n: optional(int({ min: 0, max: 9 })),
  tags: optional(record(nullable(str()))),
  list: optional(array(bool(), { maxItems: 2 })),
});

const message = (v: unknown): string => {
  try {
    shape.check(v, 'body');
  } catch (e) {
    if (isDbError(e, 438)) return e.message;
    throw e;
  }
  return '';
};

test('a shape checks and narrows a JSON value', () => {
  assert.deepEqual(shape.check({ name: 'ab', tags: { a: null, b: 'x' } }, 'body'), {
    name: 'ab',
    n: undefined,
    tags: { a: null, b: 'x' },
    list: undefined,
  });
});

test('a failed check names the JSON path and what was wrong', () => {
  assert.equal(message({}), 'body.name is required');
  assert.equal(message({ name: 'toolong' }), 'body.name is longer than 5 characters');
  assert.equal(message({ name: 'a', n: 10 }), 'body.n 10 is outside [0, 9]');
  assert.equal(message({ name: 'a', tags: { k: 1 } }), 'body.tags.k must be a string, got 1');
  assert.equal(message({ name: 'a', list: [true, 1] }), 'body.list[1] must be true or false, got 1');
  assert.equal(message({ name: 'a', list: [true, true, true] }), 'body.list has 3 items, at most 2 allowed');
  assert.match(message({ name: 'a', other: 1 }), /^body\.other is not a known key/);
  assert.equal(message([]), 'body must be an object, got an array');
});

test('the JSON schema of a shape lists required and optional keys', () => {
  assert.deepEqual(shape.schema.required, ['name']);
  assert.equal(shape.schema.additionalProperties, false);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDbError } from '../core/errors.ts';
import {
  annotationMap,
  tagColumns,
  validateAnnotationKey,
  validateAnnotationValue,
  validateCollection,
  validateTagKey,
  validateTagValue,
} from './validate.ts';

function code(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(isDbError(e), `expected a DbError, got ${String(e)}`);
    return e.code;
  }
}

test('a collection must be 1 to 255 UTF-8 bytes without NUL or lone surrogates', () => {
  assert.equal(
    code(() => validateCollection('a/b')),
    undefined,
  );
  assert.equal(
    code(() => validateCollection('x'.repeat(255))),
    undefined,
  );
  assert.equal(
    code(() => validateCollection('é'.repeat(127))),
    undefined,
  ); // 254 bytes
  assert.equal(
    code(() => validateCollection('')),
    407,
  );
  assert.equal(
    code(() => validateCollection('x'.repeat(256))),
    407,
  );
  assert.equal(
    code(() => validateCollection('é'.repeat(128))),
    407,
  ); // 256 bytes, 128 chars
  assert.equal(
    code(() => validateCollection('a\0b')),
    407,
  );
  assert.equal(
    code(() => validateCollection('a\uD800b')),
    407,
  );
  assert.equal(
    code(() => validateCollection('a\uDC00')),
    407,
  );
  assert.equal(
    code(() => validateCollection('emoji 😀 ok')),
    undefined,
  );
});

test('tag keys are only name, unit, ingress and distiller', () => {
  for (const k of ['name', 'unit', 'ingress', 'distiller']) assert.equal(validateTagKey(k), k);
  for (const k of ['Name', 'foo', '', 'name '])
    assert.equal(
      code(() => validateTagKey(k)),
      408,
    );
});

test('tag and annotation values are at most 255 characters without NUL', () => {
  assert.equal(
    code(() => validateTagValue('name', 'é'.repeat(255))),
    undefined,
  ); // 510 bytes is fine
  assert.equal(
    code(() => validateTagValue('name', '😀'.repeat(255))),
    undefined,
  ); // code points, not UTF-16 units
  assert.equal(
    code(() => validateTagValue('name', 'x'.repeat(256))),
    409,
  );
  assert.equal(
    code(() => validateTagValue('name', 'a\0')),
    409,
  );
  assert.equal(
    code(() => validateAnnotationValue('k', '')),
    undefined,
  );
  assert.equal(
    code(() => validateAnnotationValue('k', 'x'.repeat(256))),
    409,
  );
  assert.equal(
    code(() => validateAnnotationValue('k', '\uDFFF')),
    409,
  );
});

test('annotation keys are 1 to 255 bytes without NUL', () => {
  assert.equal(
    code(() => validateAnnotationKey('Any Key-with.stuff/ü')),
    undefined,
  );
  assert.equal(
    code(() => validateAnnotationKey('')),
    408,
  );
  assert.equal(
    code(() => validateAnnotationKey('k'.repeat(256))),
    408,
  );
  assert.equal(
    code(() => validateAnnotationKey('a\0')),
    408,
  );
});

test('error messages name the bad value', () => {
  assert.throws(() => validateTagKey('colour'), /"colour"/);
  assert.throws(() => validateCollection('a\0b'), /"a\\u0000b"/);
});

test('tagColumns fills unset name, unit and ingress with empty strings and leaves distiller unset', () => {
  assert.deepEqual(tagColumns({ name: 'n' }), { name: 'n', unit: '', ingress: '', distiller: null });
  assert.deepEqual(tagColumns({ distiller: '' }), { name: '', unit: '', ingress: '', distiller: '' });
  assert.equal(
    code(() => tagColumns({ nme: 'x' })),
    408,
  );
  assert.deepEqual(annotationMap({ a: '1' }), { a: '1' });
  assert.equal(
    code(() => annotationMap({ '': '1' })),
    408,
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamDescriptor, StreamId } from '../core/types.ts';
import { memberMatcher, selectsMembers } from './stream-set-filter.ts';

const d: StreamDescriptor = {
  id: '0d22a53b-e2ef-4e0a-ab89-b2d48fb2592a' as StreamId,
  collection: 'NorthWest/90807',
  tags: { name: 'L1MAG', unit: 'volts', ingress: '' },
  annotations: { phase: 'A', rating: '5' },
  propertyVersion: 1,
};

test('a string matches case-insensitively and exactly, a RegExp anywhere', () => {
  assert.equal(memberMatcher({ name: 'l1mag' })(d), true);
  assert.equal(memberMatcher({ name: 'L1' })(d), false);
  assert.equal(memberMatcher({ collection: /west/i })(d), true);
  assert.equal(memberMatcher({ unit: /^amps$/ })(d), false);
});

test('a global RegExp gives the same answer on every call', () => {
  const m = memberMatcher({ unit: /volt/g });
  assert.equal(m(d), true);
  assert.equal(m(d), true);
});

test('tags and annotations must all match, annotation values encoded like update', () => {
  assert.equal(memberMatcher({ tags: { unit: 'volts', ingress: '' } })(d), true);
  assert.equal(memberMatcher({ annotations: { phase: 'A', rating: 5 } })(d), true);
  assert.equal(memberMatcher({ annotations: { phase: 'B' } })(d), false);
  assert.equal(memberMatcher({ tags: { distiller: '' } })(d), false);
});

test('only member criteria need metadata', () => {
  assert.equal(selectsMembers({}), false);
  assert.equal(selectsMembers({ unit: 'x' }), true);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDbError } from '../../core/errors.ts';
import {
  boolParam,
  intParam,
  listParam,
  mapParam,
  parseParams,
  parseTimeText,
  positiveBigParam,
  timeParam,
  uuidParam,
  versionParam,
} from './params.ts';

const spec = {
  uuid: uuidParam(),
  start: timeParam('start', 0n),
  pw: intParam('pw', { min: 0, max: 63, code: 415 }),
  width: positiveBigParam('width', 415),
  on: boolParam('on'),
  version: versionParam(),
  tag: mapParam('tags'),
  id: listParam('ids', { type: 'string' }, (t) => t.toUpperCase()),
};

const parse = (q: string, uuid = 'ABCDEF00-0000-4000-8000-000000000000') =>
  parseParams(spec, { uuid }, new URLSearchParams(q));

const code = (fn: () => unknown): number => {
  try {
    fn();
  } catch (e) {
    if (isDbError(e)) return e.code;
    throw e;
  }
  return 0;
};

test('parameters parse to typed values with defaults', () => {
  const p = parse('pw=12&width=1000&on=yes&tag[unit]=Hz&tag[name]=f&id=a,b&id=c');
  assert.deepEqual(p, {
    uuid: 'abcdef00-0000-4000-8000-000000000000',
    start: 0n,
    pw: 12,
    width: 1000n,
    on: true,
    version: 0,
    tag: { unit: 'Hz', name: 'f' },
    id: ['A', 'B', 'C'],
  });
});

test('times are ns integers or ISO-8601, anything else is 413', () => {
  assert.equal(parseTimeText('-5', 't'), -5n);
  assert.equal(parseTimeText('2024-01-01T00:00:00.000000001Z', 't'), 1_704_067_200_000_000_001n);
  assert.equal(parseTimeText('2024-01-01T01:00:00+01:00', 't'), 1_704_067_200_000_000_000n);
  for (const bad of ['1.5', 'now', '', `${2n ** 63n}`])
    assert.equal(
      code(() => parseTimeText(bad, 't')),
      413,
      bad,
    );
});

test('each bad parameter fails with its own code', () => {
  assert.equal(
    code(() => parse('pw=64&width=1')),
    415,
  );
  assert.equal(
    code(() => parse('pw=1.5&width=1')),
    415,
  );
  assert.equal(
    code(() => parse('pw=1&width=0')),
    415,
  );
  assert.equal(
    code(() => parse('pw=1&width=1&version=9007199254740993')),
    450,
  );
  assert.equal(
    code(() => parse('pw=1&width=1&on=perhaps')),
    438,
  );
  assert.equal(
    code(() => parse('pw=1&width=1', 'nope')),
    438,
  );
  assert.equal(
    code(() => parse('width=1')),
    438,
  );
  assert.equal(
    code(() => parse('pw=1&pw=2&width=1')),
    438,
  );
  assert.equal(
    code(() => parse('pw=1&width=1&tag=x')),
    438,
  );
  assert.equal(
    code(() => parse('pw=1&width=1&tag[a]=1&tag[a]=2')),
    438,
  );
  assert.equal(
    code(() => parse('pw=1&width=1&typo=1')),
    438,
  );
});

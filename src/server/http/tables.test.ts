import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { HttpError } from './errors.ts';
import { csvField, jsonNumber, negotiate } from './tables.ts';

const req = (accept?: string) => ({ headers: accept === undefined ? {} : { accept } }) as IncomingMessage;

test('the format parameter wins over the Accept header', () => {
  assert.equal(negotiate(req('text/csv'), 'arrow', ['json', 'arrow']), 'arrow');
  assert.throws(() => negotiate(req(), 'csv', ['json']), HttpError);
});

test('Accept is honoured in q order, and wildcards or no header give the default', () => {
  assert.equal(negotiate(req(), undefined, ['json', 'ndjson']), 'json');
  assert.equal(negotiate(req('*/*'), undefined, ['json', 'ndjson']), 'json');
  assert.equal(negotiate(req('application/x-ndjson'), undefined, ['json', 'ndjson']), 'ndjson');
  assert.equal(
    negotiate(req('text/csv;q=0.2, application/vnd.apache.arrow.stream'), undefined, ['json', 'csv', 'arrow']),
    'arrow',
  );
  assert.equal(negotiate(req('image/png, text/*;q=0.5'), undefined, ['json', 'csv']), 'csv');
  assert.throws(
    () => negotiate(req('image/png'), undefined, ['json']),
    (e: unknown) => e instanceof HttpError && e.status === 406,
  );
});

test('numbers JSON cannot hold become strings, and CSV fields are quoted when needed', () => {
  assert.equal(jsonNumber(1.5), '1.5');
  assert.equal(jsonNumber(Number.NaN), '"NaN"');
  assert.equal(jsonNumber(Number.NEGATIVE_INFINITY), '"-Infinity"');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('plain'), 'plain');
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { describeTally, fuzzDecoder, hostileBytes } from '../../test/fuzz/fuzz.ts';
import { isDbError } from '../core/errors.ts';
import type { StreamId } from '../core/types.ts';
import {
  applyRecord,
  decodeRecord,
  encodeRecord,
  type ManifestRecord,
  type RootJson,
  rootToJson,
  type StreamRecord,
} from './manifest.ts';

const id = '0b5e2f6a-9c1d-4e8f-a2b3-c4d5e6f70819' as StreamId;
const root: RootJson = rootToJson({
  addr: 2 ** 32 + 4096,
  len: 812,
  leaf: true,
  count: 1024,
  min: -1.5,
  max: Number.POSITIVE_INFINITY,
  mean: -0,
  m2: Number.NaN,
})!;

const records: ManifestRecord[] = [
  { k: 'create', id, v: 10, opt: { nonFinite: false }, at: 1_700_000_000_000 },
  { k: 'commit', id, v: 11, root, wal: 5, at: 1_700_000_000_001 },
  { k: 'commit', id, v: 12, root: null, wal: 6, at: 1_700_000_000_002 },
  { k: 'prune', id, keep: [11, 12] },
  { k: 'obliterate', id },
  {
    k: 'state',
    id,
    opt: { nonFinite: true },
    wal: 7,
    versions: [
      [10, null, 1],
      [11, root, 2],
    ],
  },
];

/** Replay a record onto a state that knows the stream (so every kind does its work). */
function replay(r: ManifestRecord): void {
  const state = new Map<StreamId, StreamRecord>();
  applyRecord(state, records[0]!, 'seed');
  applyRecord(state, r, 'fuzz');
}

/** An accepted record must replay without error and survive encode → decode unchanged. */
function reValidate(r: ManifestRecord): void {
  replay(r);
  assert.deepEqual(decodeRecord(encodeRecord(r), 'again'), r);
}

const expected = (e: unknown): boolean => isDbError(e, 500) && e.message.startsWith('manifest fuzz: ');

describe('manifest record decoder under fuzzing', () => {
  it('accepts or rejects with DbError 500 mutations of valid records; accepted ones replay', (t) => {
    const tally = fuzzDecoder({
      name: 'manifest mutations',
      inputs: hostileBytes(records.map(encodeRecord)),
      decode: (b) => decodeRecord(b, 'fuzz'),
      expected,
      check: reValidate,
      runs: 4000,
    });
    t.diagnostic(describeTally(tally));
    assert.ok(tally.decoded > 0 && tally.rejected > 0);
  });

  it('rejects JSON of the wrong shape (any JSON value in any field) with DbError 500, never a TypeError on replay', (t) => {
    const json = fc.jsonValue({ maxDepth: 3 });
    const shapes = fc.oneof(
      fc.record({ k: fc.constantFrom('create', 'commit', 'prune', 'obliterate', 'state', 'relocate'), id: json }),
      fc
        .tuple(
          fc.nat(records.length - 1),
          fc.constantFrom('v', 'opt', 'at', 'root', 'wal', 'keep', 'versions', 'id'),
          json,
        )
        .map(([i, key, value]) => ({ ...records[i]!, [key]: value })),
      fc
        .tuple(fc.constantFrom('a', 'l', 'f', 'n', 's'), json)
        .map(([key, value]) => ({ ...records[1]!, root: { ...root, [key]: value } })),
    );
    const tally = fuzzDecoder({
      name: 'manifest shapes',
      inputs: shapes.map((o) => new TextEncoder().encode(JSON.stringify(o))),
      decode: (b) => decodeRecord(b, 'fuzz'),
      expected,
      check: reValidate,
      runs: 3000,
    });
    t.diagnostic(describeTally(tally));
  });

  it('names the problem of a commit whose root is not an object (was a TypeError on replay)', () => {
    const bad = new TextEncoder().encode(JSON.stringify({ ...records[1]!, root: { ...root, s: 7 } }));
    assert.throws(
      () => decodeRecord(bad, 'fuzz'),
      (e) => expected(e) && /root s is not 64 hex digits/.test((e as Error).message),
    );
    const noOpt = new TextEncoder().encode(JSON.stringify({ k: 'state', id, wal: 1, versions: [] }));
    assert.throws(
      () => decodeRecord(noOpt, 'fuzz'),
      (e) => expected(e) && /malformed state record/.test((e as Error).message),
    );
  });
});

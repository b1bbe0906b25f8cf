import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DbError } from '../core/errors.ts';
import { writeRecord } from '../storage/record-format.ts';
import { BLOCK_SEGMENT, encodeSegmentHeader } from '../storage/segment-header.ts';
import { copyBlockSegment } from './backup-copy.ts';

/** A segment image: header, then records of the given payload sizes (payload bytes from a counter). */
function segment(id: number, sizes: readonly number[]): { bytes: Uint8Array; ends: number[] } {
  const total = BLOCK_SEGMENT.bytes + sizes.reduce((n, s) => n + 8 + s, 0);
  const bytes = new Uint8Array(total);
  bytes.set(encodeSegmentHeader(BLOCK_SEGMENT, id), 0);
  let at = BLOCK_SEGMENT.bytes;
  const ends: number[] = [];
  for (const [k, s] of sizes.entries()) {
    const payload = new Uint8Array(s).map((_, i) => (i * 7 + k) & 0xff);
    writeRecord(bytes, at, payload);
    at += 8 + s;
    ends.push(at);
  }
  return { bytes, ends };
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('copyBlockSegment', () => {
  let dir: string;
  let n = 0;
  const file = (bytes: Uint8Array): string => {
    const f = path.join(dir, `src-${n++}.seg`);
    fs.writeFileSync(f, bytes);
    return f;
  };
  const dst = (): string => path.join(dir, `dst-${n++}.seg`);
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-copy-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('copies a segment larger than one read exactly, with its SHA-256', async () => {
    const { bytes } = segment(
      3,
      Array.from({ length: 400 }, (_, i) => 40_000 + (i % 13) * 997),
    );
    const out = dst();
    let seen = 0;
    const c = await copyBlockSegment(file(bytes), out, 3, bytes.length, false, (k) => {
      seen += k;
    });
    assert.deepEqual(c, { bytes: bytes.length, sha256: sha(bytes) });
    assert.deepEqual(new Uint8Array(fs.readFileSync(out)), bytes);
    assert.equal(seen, bytes.length - BLOCK_SEGMENT.bytes);
  });

  it('leaves out a record cut short at the end of a segment still being written', async () => {
    const { bytes, ends } = segment(1, [100, 2000, 300]);
    const torn = bytes.subarray(0, ends[1]! + 150);
    const out = dst();
    const c = await copyBlockSegment(file(torn), out, 1, 1e9, true);
    assert.deepEqual(c, { bytes: ends[1], sha256: sha(bytes.subarray(0, ends[1])) });
  });

  it('copies no further than the limit', async () => {
    const { bytes, ends } = segment(1, [100, 200, 300]);
    const c = await copyBlockSegment(file(bytes), dst(), 1, ends[1]!, false);
    assert.equal(c?.bytes, ends[1]);
  });

  it('reports a torn tail as corruption when the segment cannot be in the middle of a write', async () => {
    const { bytes, ends } = segment(1, [100, 200]);
    const src = file(bytes.subarray(0, ends[1]! - 1));
    await assert.rejects(
      copyBlockSegment(src, dst(), 1, 1e9, false),
      (e: unknown) => e instanceof DbError && e.location?.file === src && e.location.offset === ends[0],
    );
  });

  it('reports a flipped bit with file and offset, even in the last segment', async () => {
    const { bytes, ends } = segment(1, [100, 200, 300]);
    bytes[ends[0]! + 50] = (bytes[ends[0]! + 50] ?? 0) ^ 1;
    const src = file(bytes);
    const out = dst();
    await assert.rejects(
      copyBlockSegment(src, out, 1, 1e9, true),
      (e: unknown) => e instanceof DbError && e.location?.offset === ends[0] && /checksum mismatch/.test(e.message),
    );
  });

  it('refuses a segment whose header names another id', async () => {
    const { bytes } = segment(2, [10]);
    await assert.rejects(copyBlockSegment(file(bytes), dst(), 5, 1e9, true), DbError);
  });

  it('skips a missing or header-less segment only while it may still be being created', async () => {
    const missing = path.join(dir, 'nope.seg');
    assert.equal(await copyBlockSegment(missing, dst(), 1, 1e9, true), null);
    await assert.rejects(copyBlockSegment(missing, dst(), 1, 1e9, false), DbError);
    const half = file(encodeSegmentHeader(BLOCK_SEGMENT, 1).subarray(0, 9));
    assert.equal(await copyBlockSegment(half, dst(), 1, 1e9, true), null);
  });
});

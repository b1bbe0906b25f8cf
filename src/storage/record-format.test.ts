import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32, recordProblem, writeRecord } from './record-format.ts';
import { BLOCK_SEGMENT, encodeSegmentHeader, LOG_SEGMENT, segmentHeaderProblem } from './segment-header.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('record framing', () => {
  it('a record is its little-endian length, the crc32 of its payload, then the payload (golden bytes)', () => {
    const dst = new Uint8Array(11);
    writeRecord(dst, 0, new Uint8Array([1, 2, 3]));
    assert.equal(hex(dst), '03000000' + '1d80bc55' + '010203');
    assert.equal(crc32(new Uint8Array([1, 2, 3])), 0x55bc801d);
    assert.equal(recordProblem(dst, 0, 11, 100), undefined);
  });

  it('recordProblem names each way a record can be bad', () => {
    const rec = new Uint8Array(11);
    writeRecord(rec, 0, new Uint8Array([1, 2, 3]));
    assert.match(recordProblem(rec, 0, 5, 100) ?? '', /truncated header/);
    assert.match(recordProblem(rec, 0, 10, 100) ?? '', /truncated record/);
    assert.match(recordProblem(rec, 0, 11, 2) ?? '', /exceeds the limit/);
    assert.match(recordProblem(new Uint8Array(16), 0, 16, 100) ?? '', /zero length/);
    rec[9] = 0;
    assert.match(recordProblem(rec, 0, 11, 100) ?? '', /checksum mismatch/);
  });
});

describe('segment headers', () => {
  it('a block segment header is magic, version, id and crc32 (golden bytes)', () => {
    assert.equal(hex(encodeSegmentHeader(BLOCK_SEGMENT, 7)), '41524253' + '01000000' + '07000000' + '1ccb2c70');
  });

  it('a log segment header carries the 64-bit start LSN (golden bytes)', () => {
    const h = encodeSegmentHeader(LOG_SEGMENT, 2 ** 32 + 0x1000);
    assert.equal(hex(h), '4152424c' + '01000000' + '00100000' + '01000000' + '00000000' + '8c9287ce');
    assert.equal(segmentHeaderProblem(LOG_SEGMENT, h, 2 ** 32 + 0x1000), undefined);
  });

  it('a header for another id, a short header or a flipped bit is refused', () => {
    const h = encodeSegmentHeader(BLOCK_SEGMENT, 3);
    assert.match(segmentHeaderProblem(BLOCK_SEGMENT, h, 4) ?? '', /file name says 4/);
    assert.match(segmentHeaderProblem(BLOCK_SEGMENT, h.subarray(0, 9), 3) ?? '', /truncated/);
    assert.match(segmentHeaderProblem(LOG_SEGMENT, h, 3) ?? '', /truncated/);
    h[5] = 1;
    assert.match(segmentHeaderProblem(BLOCK_SEGMENT, h, 3) ?? '', /checksum/);
  });
});

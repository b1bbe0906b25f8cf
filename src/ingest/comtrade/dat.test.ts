import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../../core/errors.ts';
import { type ComtradeConfig, parseCfg } from './cfg.ts';
import { binaryRecordBytes, parseDat } from './dat.ts';

/** A 1999 cfg with nA analog and nD digital channels, `samples` samples at 1000/s. */
function cfg(format: string, nA: number, nD: number, samples: number): ComtradeConfig {
  const lines = ['S,D,1999', `${nA + nD},${nA}A,${nD}D`];
  for (let k = 1; k <= nA; k++) lines.push(`${k},A${k},,,V,1,0,0,-99999,99999,1,1,P`);
  for (let k = 1; k <= nD; k++) lines.push(`${k},D${k},,,0`);
  lines.push('50', '1', `1000,${samples}`, '01/01/2020,00:00:00', '01/01/2020,00:00:00', format, '1');
  return parseCfg(lines.join('\n'));
}

/** Binary records written with DataView (independent of the decoder). */
function records(
  c: ComtradeConfig,
  rows: { ts: number; analog: number[]; digitalWords: number[] }[],
  put: (v: DataView, at: number, x: number) => void,
): Uint8Array {
  const size = binaryRecordBytes(c);
  const bytes = new Uint8Array(size * rows.length);
  const v = new DataView(bytes.buffer);
  const width = c.format === 'BINARY' ? 2 : 4;
  rows.forEach((r, i) => {
    const p = i * size;
    v.setUint32(p, i + 1, true);
    v.setUint32(p + 4, r.ts, true);
    for (const [k, x] of r.analog.entries()) put(v, p + 8 + width * k, x);
    for (const [k, w] of r.digitalWords.entries()) v.setUint16(p + 8 + width * r.analog.length + 2 * k, w, true);
  });
  return bytes;
}

describe('COMTRADE .dat decoder', () => {
  it('decodes BINARY: int16 values, 0x8000 as missing, 17 digitals over two words, 0xFFFFFFFF as no timestamp', () => {
    const c = cfg('BINARY', 2, 17, 3);
    assert.equal(binaryRecordBytes(c), 8 + 4 + 4);
    const bytes = records(
      c,
      [
        { ts: 0, analog: [1, -32767], digitalWords: [0b1000_0000_0000_0001, 0b1] },
        { ts: 1000, analog: [-32768, 32767], digitalWords: [0, 0] },
        { ts: 0xffffffff, analog: [-2, 0], digitalWords: [0b10, 0] },
      ],
      (v, at, x) => v.setInt16(at, x, true),
    );
    const d = parseDat(c, bytes);
    assert.equal(d.count, 3);
    assert.deepEqual([...d.timestamps], [0, 1000, Number.NaN]);
    assert.deepEqual([...d.analog[0]!], [1, Number.NaN, -2]);
    assert.deepEqual([...d.analog[1]!], [-32767, 32767, 0]);
    assert.deepEqual([...d.digital[0]!], [1, 0, 0]);
    assert.deepEqual([...d.digital[1]!], [0, 0, 1]);
    assert.deepEqual([...d.digital[15]!], [1, 0, 0]);
    assert.deepEqual([...d.digital[16]!], [1, 0, 0]);
  });

  it('decodes BINARY32 with 0x80000000 as missing, and FLOAT32 with NaN as missing', () => {
    const c32 = cfg('BINARY32', 2, 0, 2);
    const b32 = records(
      c32,
      [
        { ts: 0, analog: [2_000_000_000, -2147483648], digitalWords: [] },
        { ts: 1, analog: [-2147483647, 7], digitalWords: [] },
      ],
      (v, at, x) => v.setInt32(at, x, true),
    );
    const d32 = parseDat(c32, b32);
    assert.deepEqual([...d32.analog[0]!], [2_000_000_000, -2147483647]);
    assert.deepEqual([...d32.analog[1]!], [Number.NaN, 7]);
    const cf = cfg('FLOAT32', 1, 1, 2);
    const bf = records(
      cf,
      [
        { ts: 0, analog: [1.5], digitalWords: [1] },
        { ts: 1, analog: [Number.NaN], digitalWords: [0] },
      ],
      (v, at, x) => v.setFloat32(at, x, true),
    );
    const df = parseDat(cf, bf);
    assert.deepEqual([...df.analog[0]!], [1.5, Number.NaN]);
    assert.deepEqual([...df.digital[0]!], [1, 0]);
  });

  it('refuses a binary file that is not whole records, or has another sample count than the cfg', () => {
    const c = cfg('BINARY', 1, 0, 2);
    assert.throws(
      () => parseDat(c, new Uint8Array(21), 'x.dat'),
      (e) => isDbError(e, 438) && /^x\.dat: 21 bytes is not a whole number of 10-byte records/.test(e.message),
    );
    assert.throws(
      () => parseDat(c, new Uint8Array(30), 'x.dat'),
      (e) => isDbError(e, 438) && /holds 3 records but the cfg declares 2 samples/.test(e.message),
    );
  });

  it('decodes ASCII: empty analog field = missing, empty timestamp, a trailing comma, CRLF and a final EOF byte', () => {
    const c = cfg('ASCII', 2, 1, 3);
    const text = '1,0,+000012,-3.5e1,1\r\n2,,,7,0,\r\n3,2000,-.25,0,1\r\n\x1a';
    const d = parseDat(c, new TextEncoder().encode(text));
    assert.deepEqual([...d.timestamps], [0, Number.NaN, 2000]);
    assert.deepEqual([...d.analog[0]!], [12, Number.NaN, -0.25]);
    assert.deepEqual([...d.analog[1]!], [-35, 7, 0]);
    assert.deepEqual([...d.digital[0]!], [1, 0, 1]);
  });

  it('reports every bad ASCII line with its number and reason, and returns nothing', () => {
    const c = cfg('ASCII', 1, 1, 5);
    const text = ['1,0,1,0', '2,1,x,0', '3,2,1', '4,3.5,1,0', '5,4,1,2'].join('\n');
    assert.throws(
      () => parseDat(c, new TextEncoder().encode(text), 'y.dat'),
      (e) => {
        assert.ok(isDbError(e, 438));
        assert.match(e.message, /^y\.dat: 4 bad lines, nothing was imported/);
        assert.match(e.message, /line 2: analog channel 1 value "x" is not a number/);
        assert.match(e.message, /line 3: 3 fields, expected 4/);
        assert.match(e.message, /line 4: timestamp "3\.5" is not an integer/);
        assert.match(e.message, /line 5: digital channel 1 value "2" is not 0 or 1/);
        return true;
      },
    );
    assert.throws(
      () => parseDat(c, new TextEncoder().encode('1,0,1,0\n2,0,1,0\n'), 'y.dat'),
      /y\.dat: holds 2 lines but the cfg declares 5 samples/,
    );
  });
});

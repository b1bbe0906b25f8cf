import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildCfg2,
  buildCfg3,
  buildCommand,
  buildData,
  buildHeader,
  crcBitwise,
  type TestPmu,
} from '../../../test/c37118/build-frames.ts';
import { isDbError } from '../../core/errors.ts';
import { crcCcitt } from './crc.ts';
import { commandFrame, restamp } from './encode.ts';
import { decodeFrame } from './frame-decode.ts';
import { c37TimeNs } from './time.ts';
import type { ConfigFrame, DataFrame } from './types.ts';

const INT_POLAR: TestPmu = {
  station: 'Sub A',
  idcode: 7,
  format: 0x0001, // polar int16 phasors, int16 FREQ/DFREQ, int16 analogs
  phasors: [
    { name: 'VA', kind: 'V', factor: 915_527 }, // 9.15527 V per bit
    { name: 'IA', kind: 'I', factor: 45_776 }, // 0.45776 A per bit
  ],
  analogs: [{ name: 'MW', kind: 1, factor: -3 }],
  digitals: [Array.from({ length: 16 }, (_, i) => `B${i}`)],
  fnom50: false,
  cfgcnt: 4,
};
const INT_RECT: TestPmu = { ...INT_POLAR, station: 'Sub B', idcode: 8, format: 0x0000, analogs: [], digitals: [] };

const cfgOf =
  (c: ConfigFrame) =>
  (id: number): ConfigFrame | undefined =>
    id === c.idcode ? c : undefined;

describe('C37.118 frame decoding', () => {
  it('computes the CRC-CCITT check value of "123456789" as 0x29B1', () => {
    assert.equal(crcCcitt(new TextEncoder().encode('123456789')), 0x29b1);
    assert.equal(crcBitwise([...new TextEncoder().encode('123456789')]), 0x29b1);
  });

  it('converts SOC + FRACSEC/TIME_BASE to ns, rounding to the nearest ns with halves up', () => {
    assert.equal(c37TimeNs(1_217_606_730, 500_000, 1_000_000), 1_217_606_730_500_000_000n);
    assert.equal(c37TimeNs(0, 1, 3), 333_333_333n);
    assert.equal(c37TimeNs(0, 2, 3), 666_666_667n);
    assert.equal(c37TimeNs(0, 1, 1024), 976_563n); // 976 562.5 → up
    assert.equal(c37TimeNs(0, 8_388_608, 16_777_215), 500_000_030n); // 500 000 029.8…
    assert.equal(c37TimeNs(10, 16_777_214, 16_777_215), 10_999_999_940n);
    assert.throws(
      () => c37TimeNs(0, 0, 0),
      (e) => isDbError(e, 438),
    );
  });

  it('decodes a CFG-2 with names, PHUNIT/ANUNIT factors, digital names, FNOM and CFGCNT', () => {
    const bytes = buildCfg2(7, 1_000_000, 30, [INT_POLAR]);
    const c = decodeFrame(bytes) as ConfigFrame;
    assert.equal(c.type, 'cfg2');
    assert.equal(c.timeBase, 1_000_000);
    assert.equal(c.dataRate, 30);
    const p = c.pmus[0]!;
    assert.equal(p.station, 'Sub A');
    assert.deepEqual(p.phasorNames, ['VA', 'IA']);
    assert.deepEqual(p.phasorKinds, ['V', 'I']);
    assert.deepEqual(Array.from(p.phasorScale), [9.15527, 0.45776]);
    assert.deepEqual(p.analogKinds, [1]);
    assert.deepEqual(Array.from(p.analogScale), [-3]);
    assert.equal(p.digitalNames[0]![15], 'B15');
    assert.equal(p.nominalHz, 60);
    assert.equal(p.cfgcnt, 4);
  });

  it('decodes int16 polar data with PHUNIT scaling, 1e-4 rad angles, mHz FREQ and 0.01 Hz/s DFREQ', () => {
    const cfg = decodeFrame(buildCfg2(7, 1_000_000, 30, [INT_POLAR])) as ConfigFrame;
    const bytes = buildData(
      7,
      1_600_000_000,
      (0x2f << 24) | 333_333,
      [INT_POLAR],
      [
        {
          stat: 0x8000,
          phasors: [40_000, -15_708, 1000, 31_416],
          freq: -25,
          dfreq: -7,
          analogs: [-100],
          digitals: [0xa5a5],
        },
      ],
    );
    const d = decodeFrame(bytes, { configs: cfgOf(cfg) }) as DataFrame;
    assert.equal(d.type, 'data');
    assert.equal(d.time, 1_600_000_000_333_333_000n);
    assert.equal(d.timeQuality, 0x2f);
    const p = d.pmus[0]!;
    assert.equal(p.stat, 0x8000);
    assert.equal(p.phasors[0], 40_000 * 9.15527);
    assert.equal(p.phasors[1], -15_708 * 1e-4);
    assert.equal(p.phasors[2], 1000 * 0.45776);
    assert.equal(p.phasors[3], 31_416 * 1e-4);
    assert.equal(p.freq, 60 - 0.025);
    assert.equal(p.dfreq, -0.07);
    assert.deepEqual(Array.from(p.analogs), [300]);
    assert.deepEqual(Array.from(p.digitals), [0xa5a5]);
  });

  it('decodes int16 rectangular data with signed components scaled by PHUNIT', () => {
    const cfg = decodeFrame(buildCfg2(8, 1_000_000, 30, [INT_RECT])) as ConfigFrame;
    const d = decodeFrame(
      buildData(
        8,
        1,
        0,
        [INT_RECT],
        [{ stat: 0, phasors: [-3, 4, 100, -200], freq: 0, dfreq: 0, analogs: [], digitals: [] }],
      ),
      { configs: cfgOf(cfg) },
    ) as DataFrame;
    assert.deepEqual(Array.from(d.pmus[0]!.phasors), [-3 * 9.15527, 4 * 9.15527, 100 * 0.45776, -200 * 0.45776]);
  });

  it('decodes float formats without scaling and a multi-PMU frame in block order', () => {
    const f: TestPmu = { ...INT_POLAR, idcode: 9, station: 'F', format: 0x000f, fnom50: true };
    const cfg = decodeFrame(buildCfg2(100, 1_000_000, 50, [f, INT_RECT])) as ConfigFrame;
    const d = decodeFrame(
      buildData(
        100,
        5,
        20_000,
        [f, INT_RECT],
        [
          { stat: 1, phasors: [230.5, 0.25, 12.5, -1.5], freq: 49.98, dfreq: 0.5, analogs: [1.25], digitals: [3] },
          { stat: 2, phasors: [1, 2, 3, 4], freq: 10, dfreq: 100, analogs: [], digitals: [] },
        ],
      ),
      { configs: cfgOf(cfg) },
    ) as DataFrame;
    assert.deepEqual(Array.from(d.pmus[0]!.phasors), [230.5, 0.25, 12.5, -1.5]);
    assert.equal(d.pmus[0]!.freq, Math.fround(49.98));
    assert.equal(d.pmus[0]!.dfreq, 0.5);
    assert.deepEqual(Array.from(d.pmus[0]!.analogs), [1.25]);
    assert.equal(d.pmus[1]!.stat, 2);
    assert.equal(d.pmus[1]!.freq, 60.01);
    assert.equal(d.pmus[1]!.dfreq, 1);
  });

  it('decodes a CFG-3 (2011) with length-prefixed names and float phasor scales', () => {
    const c = decodeFrame(buildCfg3(7, 1_000_000, -2, [INT_POLAR])) as ConfigFrame;
    assert.equal(c.type, 'cfg3');
    assert.equal(c.version, 2);
    assert.equal(c.dataRate, -2);
    const p = c.pmus[0]!;
    assert.equal(p.station, 'Sub A');
    assert.deepEqual(p.phasorNames, ['VA', 'IA']);
    assert.deepEqual(p.phasorKinds, ['V', 'I']);
    assert.deepEqual(Array.from(p.phasorScale), [Math.fround(9.15527), Math.fround(0.45776)]);
    assert.equal(p.digitalNames[0]!.length, 16);
    assert.equal(p.cfgcnt, 4);
  });

  it('decodes command and header frames', () => {
    const c = decodeFrame(buildCommand(7, 5));
    assert.ok(c.type === 'command' && c.command === 5 && c.idcode === 7);
    const ours = decodeFrame(commandFrame(12, 2, 1_700_000_000_123_456_000n));
    assert.ok(ours.type === 'command' && ours.command === 2 && ours.time === 1_700_000_000_123_456_000n);
    const h = decodeFrame(buildHeader(7, 'PMU at substation A'));
    assert.ok(h.type === 'header' && h.text === 'PMU at substation A');
  });

  it('rejects a bad CRC with an error naming the frame offset and the CRC offset', () => {
    const bytes = buildCommand(7, 5);
    bytes[15]! ^= 1;
    assert.throws(
      () => decodeFrame(bytes, { base: 1000 }),
      (e) => isDbError(e, 438) && /offset 1000: bad CRC at offset 1016/.test((e as Error).message),
    );
  });

  it('rejects data without a configuration, and data whose size does not match the configuration', () => {
    const cfg = decodeFrame(buildCfg2(8, 1_000_000, 30, [INT_RECT])) as ConfigFrame;
    const data = buildData(
      8,
      1,
      0,
      [INT_RECT],
      [{ stat: 0, phasors: [1, 2, 3, 4], freq: 0, dfreq: 0, analogs: [], digitals: [] }],
    );
    assert.throws(
      () => decodeFrame(data),
      (e) => isDbError(e, 438) && /no configuration for IDCODE 8/.test((e as Error).message),
    );
    const polarCfg = decodeFrame(buildCfg2(8, 1_000_000, 30, [INT_POLAR])) as ConfigFrame;
    assert.throws(
      () => decodeFrame(data, { configs: cfgOf(polarCfg) }),
      (e) => isDbError(e, 438) && /FRAMESIZE 30 but the configuration of IDCODE 8 needs 34/.test((e as Error).message),
    );
    assert.equal(decodeFrame(data, { configs: cfgOf(cfg) }).type, 'data');
  });

  it('rejects a bad SYNC, a short buffer and a truncated configuration', () => {
    assert.throws(
      () => decodeFrame(new Uint8Array(20)),
      (e) => isDbError(e, 438) && /bad SYNC/.test((e as Error).message),
    );
    assert.throws(
      () => decodeFrame(buildCommand(1, 1).subarray(0, 10)),
      (e) => isDbError(e, 438),
    );
    const cfg = buildCfg2(7, 1_000_000, 30, [INT_POLAR]);
    // Claim one more PMU than the body holds, and re-seal the CRC: the body reader must stop.
    cfg[19] = 2;
    const c = crcBitwise([...cfg.subarray(0, cfg.length - 2)]);
    cfg[cfg.length - 2] = c >>> 8;
    cfg[cfg.length - 1] = c & 0xff;
    assert.throws(
      () => decodeFrame(cfg),
      (e) => isDbError(e, 438) && /PMU 2 STN/.test((e as Error).message),
    );
  });

  it('re-stamps a frame: new SOC/fraction/IDCODE, time-quality byte kept, CRC valid', () => {
    const cfg = decodeFrame(buildCfg2(8, 1_000_000, 30, [INT_RECT])) as ConfigFrame;
    const data = buildData(
      8,
      1,
      0x0a000000,
      [INT_RECT],
      [{ stat: 0, phasors: [1, 2, 3, 4], freq: 0, dfreq: 0, analogs: [], digitals: [] }],
    );
    const r = decodeFrame(restamp(data, 1_800_000_000, 250_000), { configs: cfgOf(cfg) }) as DataFrame;
    assert.equal(r.time, 1_800_000_000_250_000_000n);
    assert.equal(r.timeQuality, 0x0a);
  });
});

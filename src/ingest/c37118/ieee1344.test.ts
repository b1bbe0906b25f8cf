/**
 * The IEEE 1344 capture ../shared/data/pmu-stream-captures/Sample1344.PmuCapture decoded whole,
 * with that folder's README figures asserted (frame counts, station, phasor names, first/last time
 * stamps, value ranges after scaling, frequency range), CRCs recomputed here bit by bit, and a few
 * values recomputed from raw bytes. The capture is required: a missing file fails the suite.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sharedDataDir } from '../../../test/shared-data.ts';
import { DbError } from '../../core/errors.ts';
import {
  decode1344Config,
  decode1344Data,
  type Ieee1344Config,
  type Ieee1344Data,
  ieee1344TimeNs,
  read1344Stream,
} from './ieee1344.ts';

const FILE = path.join(sharedDataDir('pmu-stream-captures'), 'Sample1344.PmuCapture');

function capture(): Uint8Array {
  assert.ok(fs.existsSync(FILE), `capture ${FILE} is missing (shared data not installed?)`);
  return new Uint8Array(fs.readFileSync(FILE));
}

function decodeAll(bytes: Uint8Array): { cfg: Ieee1344Config; data: Ieee1344Data[] } {
  const frames = [...read1344Stream(bytes, 'Sample1344.PmuCapture')];
  const cfgs = frames.filter((f): f is Ieee1344Config => f.type === 'config');
  const data = frames.filter((f): f is Ieee1344Data => f.type === 'data');
  assert.equal(cfgs.length + data.length, frames.length, 'no header frames expected');
  assert.equal(cfgs.length, 1);
  return { cfg: cfgs[0]!, data };
}

/** CRC-CCITT (poly 0x1021, start 0xFFFF), bit by bit — independent of the table in crc.ts. */
function crcBitwise(b: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of b) {
    crc ^= byte << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

const utcNs = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
const SECOND = 1_000_000_000n;
const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

function expectError(fn: () => unknown, code: number, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DbError, `expected a DbError, got ${String(e)}`);
    assert.equal(e.code, code);
    for (const p of parts) assert.ok(e.message.includes(p), `message "${e.message}" lacks "${p}"`);
    return true;
  });
}

describe('IEEE 1344 decoding of Sample1344.PmuCapture', () => {
  it('finds 1 configuration frame of 160 bytes and 973 data frames of 36 bytes', () => {
    const bytes = capture();
    assert.equal(bytes.length, 160 + 973 * 36);
    const { cfg, data } = decodeAll(bytes);
    assert.equal(cfg.frameLength, 160);
    assert.equal(data.length, 973);
    for (const [i, d] of data.entries()) assert.equal(d.offset, 160 + 36 * i);
  });

  it('reads station Shelby, 5 phasors Bus 1, Bus 2, Cordova, Dell, Lagoon Creek, 1 digital word, 30 frames/s', () => {
    const { cfg } = decodeAll(capture());
    assert.equal(cfg.station, 'Shelby');
    assert.deepEqual(
      cfg.phasors.map((p) => [p.name, p.kind]),
      [
        ['Bus 1', 'voltage'],
        ['Bus 2', 'voltage'],
        ['Cordova', 'current'],
        ['Dell', 'current'],
        ['Lagoon Creek', 'current'],
      ],
    );
    assert.equal(cfg.digitals.length, 1);
    assert.equal(cfg.nominalHz, 60);
    assert.equal(cfg.period, 200);
    assert.equal(cfg.frameRate, 30);
    assert.ok(Math.abs(cfg.phasors[0]!.scale - 24.67) < 0.005, `voltage scale ${cfg.phasors[0]!.scale}`);
  });

  it('matches every stored CRC with a bit-by-bit CRC-CCITT recomputed in the test', () => {
    const bytes = capture();
    const frames: [number, number][] = [[0, 160]];
    for (let o = 160; o < bytes.length; o += 36) frames.push([o, 36]);
    for (const [o, n] of frames) {
      const stored = (bytes[o + n - 2]! << 8) | bytes[o + n - 1]!;
      assert.equal(crcBitwise(bytes.subarray(o, o + n - 2)), stored, `frame at ${o}`);
    }
  });

  it('stamps the first frame 2007-04-26 19:15:12 and the last 19:15:45 UTC (SOC on the 1900 epoch)', () => {
    const { cfg, data } = decodeAll(capture());
    const first = data[0]!.time;
    const last = data.at(-1)!.time;
    assert.equal((first / SECOND) * SECOND, utcNs('2007-04-26T19:15:12Z'));
    assert.equal((last / SECOND) * SECOND, utcNs('2007-04-26T19:15:45Z'));
    assert.equal(cfg.time, utcNs('2007-04-26T19:15:12Z'));
    // sample count 800 of 1200 per second: 2/3 s into the first second
    assert.equal(data[0]!.sampleCount, 800);
    assert.equal(first, utcNs('2007-04-26T19:15:12Z') + 666_666_667n);
    const seconds = new Set(data.map((d) => d.time / SECOND));
    assert.equal(seconds.size, 34);
  });

  it('steps the sample count by 40 per frame, resets it each second, and spaces frames 1/30 s apart', () => {
    const { data } = decodeAll(capture());
    for (let i = 1; i < data.length; i++) {
      const a = data[i - 1]!;
      const b = data[i]!;
      const sameSecond = b.soc === a.soc && b.sampleCount === a.sampleCount + 40;
      const nextSecond = b.soc === a.soc + 1 && b.sampleCount === 0 && a.sampleCount === 1160;
      assert.ok(sameSecond || nextSecond, `frame ${i}: ${a.soc}/${a.sampleCount} → ${b.soc}/${b.sampleCount}`);
      const dt = b.time - a.time;
      assert.ok(dt === 33_333_333n || dt === 33_333_334n, `frame ${i}: step ${dt} ns`);
    }
  });

  it('scales bus voltages to about 299 kV line-to-neutral and line currents to 210–550 A', () => {
    const { cfg, data } = decodeAll(capture());
    const mags = cfg.phasors.map((p, i) =>
      data.map((d) => Math.hypot(d.phasors[2 * i]!, d.phasors[2 * i + 1]!) * p.scale),
    );
    for (const i of [0, 1]) {
      const [lo, hi] = range(mags[i]!);
      assert.ok(lo > 297_000 && hi < 301_000, `${cfg.phasors[i]!.name}: ${lo}–${hi} V`);
    }
    const currents = [...mags[2]!, ...mags[3]!, ...mags[4]!];
    const [lo, hi] = range(currents);
    assert.ok(lo >= 205 && lo < 215, `lowest current ${lo} A`);
    assert.ok(hi > 545 && hi <= 555, `highest current ${hi} A`);
  });

  it('agrees with Bus 1 of the first data frame recomputed from its raw bytes', () => {
    const bytes = capture();
    const { data } = decodeAll(bytes);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const re = dv.getInt16(160 + 8);
    const im = dv.getInt16(160 + 10);
    const scale = (dv.getUint32(132) & 0xffffff) / 100_000;
    assert.equal(data[0]!.phasors[0], re);
    assert.equal(data[0]!.phasors[1], im);
    const v = Math.hypot(re, im) * scale;
    assert.ok(Math.abs(v - 299_500) < 1_000, `Bus 1 ${v} V`);
  });

  it('reads frequency 59.950–59.984 Hz, valid status and a zero digital word in every frame', () => {
    const { data } = decodeAll(capture());
    const [lo, hi] = range(data.map((d) => d.frequency));
    assert.ok(Math.abs(lo - 59.95) < 1e-9 && Math.abs(hi - 59.984) < 1e-9, `${lo}–${hi} Hz`);
    for (const d of data) {
      assert.ok(d.syncValid && d.dataValid, `status 0x${d.status.toString(16)} at ${d.offset}`);
      assert.equal(d.digitals[0], 0);
    }
  });
});

describe('IEEE 1344 errors and the time rule', () => {
  it('rejects a data frame with a flipped byte as a bad CRC naming the frame and CRC offsets', () => {
    const bytes = capture().slice();
    const at = 160 + 36 * 5;
    bytes[at + 10]! ^= 0x01;
    expectError(() => [...read1344Stream(bytes, 'x')], 438, 'offset 340', 'bad CRC at offset 374');
  });

  it('rejects a truncated last frame with its offset', () => {
    const bytes = capture();
    const cut = bytes.subarray(0, bytes.length - 10);
    expectError(() => [...read1344Stream(cut, 'x')], 438, `offset ${160 + 36 * 972}`, 'truncated');
  });

  it('rejects a truncated configuration frame and a data frame without configuration', () => {
    const bytes = capture();
    expectError(() => decode1344Config(bytes.subarray(0, 100)), 438, 'offset 0', 'truncated');
    expectError(() => [...read1344Stream(bytes.subarray(160), 'x')], 438, 'before any configuration');
  });

  it('rejects a data frame whose length does not fit the configuration', () => {
    const bytes = capture();
    const cfg = decode1344Config(bytes);
    const fewer: Ieee1344Config = { ...cfg, phasors: cfg.phasors.slice(0, 4) };
    expectError(() => decode1344Data(bytes.subarray(160), fewer, 160), 438, 'offset 160', 'needs 32');
  });

  it('turns sample count 600 at 60 Hz, PERIOD 200 into half a second, and a 50 Hz PERIOD 200 into 1/25 s steps', () => {
    const soc = 2_208_988_800; // 1970-01-01 on the NTP epoch
    assert.equal(ieee1344TimeNs(soc, 600, 200, 60), 500_000_000n);
    assert.equal(ieee1344TimeNs(soc, 40, 200, 50), 40_000_000n);
  });
});

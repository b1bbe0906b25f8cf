/**
 * Fuzzing the C37.118 frame decoder and the pcap reader (test/fuzz/fuzz.ts): mutations of real
 * frames and capture excerpts must decode or be rejected with a DbError carrying a message —
 * never another exception, never a hang or a huge allocation (the per-case time budget).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildCfg2, buildCfg3, buildData, type TestPmu } from '../../../test/c37118/build-frames.ts';
import { describeTally, fuzzDecoder, hostileBytes } from '../../../test/fuzz/fuzz.ts';
import { sharedDataDir } from '../../../test/shared-data.ts';
import { DbError, isDbError } from '../../core/errors.ts';
import { sealFrame } from './encode.ts';
import { decodeFrame } from './frame-decode.ts';
import { pcapFrames } from './pcap-frames.ts';
import { C37Session } from './session.ts';
import type { ConfigFrame } from './types.ts';

const DIR = sharedDataDir('pmu-stream-captures');
const CAPTURES = [
  'C37.118_1PMU_UDP.pcap',
  'C37.118_4in1PMU_TCP.pcap',
  'c37_1100_clean_tcp.pcap',
  'C37.118_1PMU_TCP.pcap',
];

/** The first `n` records of a capture (a small valid pcap). */
function excerpt(file: Uint8Array, n: number): Uint8Array {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let o = 24;
  for (let i = 0; i < n && o + 16 <= file.length; i++) o += 16 + dv.getUint32(o + 8, true);
  return file.slice(0, Math.min(o, file.length));
}

const files = CAPTURES.map((c) => {
  const f = path.join(DIR, c);
  assert.ok(fs.existsSync(f), `capture ${f} is missing`);
  return fs.readFileSync(f);
});

// Real frames (one of each kind per capture) and the configurations to decode their data with.
const frames: Uint8Array[] = [];
const configs = new Map<number, ConfigFrame>();
for (const file of files) {
  const s = new C37Session();
  const kinds = new Set<string>();
  for (const f of pcapFrames(file)) {
    const d = s.decode(f.bytes, f.offset);
    if (d instanceof DbError) continue;
    if (d.type === 'cfg2') configs.set(d.idcode, d);
    if (!kinds.has(d.type)) {
      kinds.add(d.type);
      frames.push(f.bytes.slice());
    }
  }
}
const intPmu: TestPmu = {
  station: 'Z',
  idcode: 9,
  format: 0x0001,
  phasors: [{ name: 'VA', kind: 'V', factor: 1000 }],
  analogs: [{ name: 'A', kind: 1, factor: 5 }],
  digitals: [Array.from({ length: 16 }, (_, i) => `d${i}`)],
  fnom50: true,
  cfgcnt: 1,
};
frames.push(buildCfg3(9, 1_000_000, 30, [intPmu]), buildCfg2(9, 1_000_000, 30, [intPmu]));
configs.set(9, decodeFrame(buildCfg2(9, 1_000_000, 30, [intPmu])) as ConfigFrame);
frames.push(
  buildData(9, 1, 2, [intPmu], [{ stat: 1, phasors: [5, 6], freq: 7, dfreq: 8, analogs: [9], digitals: [10] }]),
);

const decodeAny = (b: Uint8Array) => decodeFrame(b, { configs: (id) => configs.get(id) });

/** Make a mutated frame pass the length and CRC checks, so the body parsers see it. */
function reseal(b: Uint8Array): Uint8Array {
  if (b.length < 16 || b.length > 65535) return b;
  const out = b.slice();
  out[2] = b.length >>> 8;
  out[3] = b.length & 0xff;
  return sealFrame(out);
}

const expected = (e: unknown): boolean => isDbError(e) && (e as Error).message.length > 0;

describe('C37.118 decoding under fuzzing', () => {
  it('decodes or rejects with a DbError any mutation of a real frame', (t) => {
    const tally = fuzzDecoder({
      name: 'c37118 frame',
      inputs: hostileBytes(frames, 200),
      decode: decodeAny,
      expected,
      runs: 3000,
    });
    t.diagnostic(describeTally(tally));
  });

  it('decodes or rejects with a DbError any mutation whose FRAMESIZE and CRC are made valid', (t) => {
    const tally = fuzzDecoder({
      name: 'c37118 frame resealed',
      inputs: hostileBytes(frames, 200).map(reseal),
      decode: decodeAny,
      expected,
      check: (f) => {
        if (f.type === 'data') for (const p of f.pmus) assert.equal(p.phasors.length % 2, 0);
      },
      runs: 3000,
    });
    t.diagnostic(describeTally(tally));
    assert.ok(tally.decoded > 0, 'some resealed mutations decode');
  });

  it('reads frames out of any mutation of a capture excerpt, or rejects it with a DbError', (t) => {
    const samples = files.map((f) => excerpt(f, 40));
    // Half the cases keep a valid global header and mutate the records (the generator's
    // positions lean towards the start, which would otherwise mostly hit the magic number).
    const header = samples[0]!.subarray(0, 24);
    const records = hostileBytes(
      samples.map((x) => x.subarray(24)),
      300,
    ).map((b) => {
      const out = new Uint8Array(24 + b.length);
      out.set(header);
      out.set(b, 24);
      return out;
    });
    const tally = fuzzDecoder({
      name: 'c37118 pcap',
      inputs: fc.oneof(hostileBytes(samples, 300), records),
      decode: (b) => {
        const s = new C37Session();
        let n = 0;
        for (const f of pcapFrames(b)) {
          s.decode(f.bytes, f.offset);
          n++;
        }
        return n;
      },
      expected,
      runs: 1500,
    });
    t.diagnostic(describeTally(tally));
    assert.ok(tally.decoded > 0);
  });
});

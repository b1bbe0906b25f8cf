import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCfg2, buildData, type TestPmu } from '../../../test/c37118/build-frames.ts';
import { openMemory } from '../../../test/c37118/memory-db.ts';
import { sharedDataDir } from '../../../test/shared-data.ts';
import type { Connection } from '../../client/index.ts';
import { DbError } from '../../core/errors.ts';
import { decodeFrame } from './frame-decode.ts';
import { C37Writer } from './ingest-writer.ts';
import { pcapFrames } from './pcap-frames.ts';
import { replayPcap } from './pcap-replay.ts';
import { C37Session } from './session.ts';
import type { ConfigFrame, DataFrame } from './types.ts';

const DIR = sharedDataDir('pmu-stream-captures');
const capture = (name: string): Uint8Array => {
  const f = path.join(DIR, name);
  assert.ok(fs.existsSync(f), `capture ${f} is missing`);
  return fs.readFileSync(f);
};

/** The data frames of a capture, decoded independently of the writer. */
function dataFrames(bytes: Uint8Array): DataFrame[] {
  const s = new C37Session();
  const out: DataFrame[] = [];
  for (const f of pcapFrames(bytes)) {
    const d = s.decode(f.bytes, f.offset);
    if (!(d instanceof DbError) && d.type === 'data') out.push(d);
  }
  return out;
}

/** Equal within 1e-14 relative (an independent formula may round differently in the last bit). */
const close = (a: number, b: number): void =>
  assert.ok(Math.abs(a - b) <= 1e-14 * Math.max(1, Math.abs(b)), `${a} ≠ ${b}`);

let conn: Connection;
before(async () => {
  conn = await openMemory();
});
after(async () => {
  await conn.close();
});

async function points(collection: string, name: string) {
  const [s] = await conn.streamsInCollection(collection, { isPrefix: false, tags: { name } });
  assert.ok(s, `stream ${collection}/${name} exists`);
  return { stream: s, pts: await s.valuesArray(0n, 3_000_000_000_000_000_000n) };
}

describe('C37.118 frames into streams', () => {
  it('maps a polar PMU to magnitude/angle (degrees), FREQ, DFREQ and digital streams with STAT as flags', async () => {
    const bytes = capture('C37.118_1PMU_UDP.pcap');
    const w = new C37Writer(conn, { prefix: 'udp', batchFrames: 100 });
    const r = await replayPcap(bytes, w);
    assert.equal(r.frames.data, 356);
    assert.deepEqual(w.counts, {
      frames: 356,
      unmapped: 0,
      points: 356 * 9,
      configs: 1,
      created: 9,
      streams: 9,
      nonFinite: 0,
      queued: 356 * 9,
    });
    const names = (await conn.streamsInCollection('udp/PMU1', { isPrefix: false }))
      .map((s) => s.descriptor!.tags.name)
      .sort();
    assert.deepEqual(names, ['DFREQ', 'DIGITAL1', 'FREQ', 'VA.ang', 'VA.mag', 'VB.ang', 'VB.mag', 'VC.ang', 'VC.mag']);
    const frames = dataFrames(bytes);
    const { stream, pts } = await points('udp/PMU1', 'VA.ang');
    const d = stream.descriptor!;
    assert.equal(d.tags.unit, 'deg');
    assert.equal(d.annotations.station, 'PMU1');
    assert.equal(d.annotations.idcode, '61');
    assert.equal(d.annotations.stream_idcode, '60');
    assert.equal(d.annotations.channel_type, 'angle');
    assert.equal(d.annotations.phasor_type, 'V');
    assert.equal(d.annotations.nominal_hz, '50');
    assert.equal(d.annotations.cfgcnt, '1');
    assert.match(d.annotations.format ?? '', /^0x0007 \(polar float phasors/);
    assert.equal(pts.times.length, 356);
    frames.forEach((f, i) => {
      assert.equal(pts.times[i], f.time);
      close(pts.values[i]!, (f.pmus[0]!.phasors[1]! * 180) / Math.PI);
      assert.equal(pts.flags?.[i], f.pmus[0]!.stat | (f.timeQuality << 16));
    });
    const mag = (await points('udp/PMU1', 'VA.mag')).pts;
    assert.deepEqual(
      Array.from(mag.values),
      frames.map((f) => f.pmus[0]!.phasors[0]!),
    );
    assert.equal((await points('udp/PMU1', 'VA.mag')).stream.descriptor!.tags.unit, 'V');
    const freq = (await points('udp/PMU1', 'FREQ')).pts;
    assert.deepEqual(
      Array.from(freq.values),
      frames.map((f) => f.pmus[0]!.freq),
    );
    const dig = (await points('udp/PMU1', 'DIGITAL1')).pts;
    assert.deepEqual(
      Array.from(dig.values),
      frames.map((f) => f.pmus[0]!.digitals[0]!),
    );
  });

  it('converts rectangular phasors to magnitude and atan2 angle in degrees', async () => {
    const bytes = capture('C37.118_1PMU_TCP.pcap');
    await replayPcap(bytes, new C37Writer(conn, { prefix: 'rect' }));
    const frames = dataFrames(bytes);
    const mag = (await points('rect/Blue_PMU', 'VALPM.mag')).pts;
    const ang = (await points('rect/Blue_PMU', 'VALPM.ang')).pts;
    assert.equal(mag.values.length, 252);
    frames.forEach((f, i) => {
      const re = f.pmus[0]!.phasors[2]!;
      const im = f.pmus[0]!.phasors[3]!;
      close(mag.values[i]!, Math.sqrt(re * re + im * im));
      close(ang.values[i]!, (Math.atan2(im, re) * 180) / Math.PI);
    });
  });

  it('stores a retransmitted frame once (equal merge policy)', async () => {
    const w = new C37Writer(conn, { prefix: 'retx' });
    const r = await replayPcap(capture('c37_1100_clean_tcp.pcap'), w);
    assert.equal(r.frames.data, 425);
    assert.equal((await points('retx/Reporting1', 'IA P.mag')).pts.times.length, 422);
  });

  it('re-maps on a configuration change: a removed channel stops, a new one is created, CFGCNT updated', async () => {
    const a: TestPmu = {
      station: 'Remap',
      idcode: 5,
      format: 0x000f,
      phasors: [
        { name: 'VA', kind: 'V', factor: 0 },
        { name: 'IA', kind: 'I', factor: 0 },
      ],
      analogs: [{ name: 'MW', kind: 1, factor: 1 }],
      digitals: [],
      fnom50: false,
      cfgcnt: 1,
    };
    const b: TestPmu = { ...a, phasors: [a.phasors[0]!, { name: 'VB', kind: 'V', factor: 0 }], analogs: [], cfgcnt: 2 };
    const w = new C37Writer(conn, { prefix: 'remap', batchFrames: 1000 });
    const cfgA = decodeFrame(buildCfg2(5, 1_000_000, 60, [a])) as ConfigFrame;
    const cfgB = decodeFrame(buildCfg2(5, 1_000_000, 60, [b])) as ConfigFrame;
    const data = (cfg: ConfigFrame, pmu: TestPmu, sec: number, v: number): DataFrame =>
      decodeFrame(
        buildData(
          5,
          sec,
          0,
          [pmu],
          [{ stat: 0, phasors: [v, 0, v + 1, 0], freq: 60, dfreq: 0, analogs: pmu.analogs.map(() => v), digitals: [] }],
        ),
        { configs: () => cfg },
      ) as DataFrame;
    await w.config(cfgA);
    void w.data(data(cfgA, a, 1_700_000_000, 10));
    void w.data(data(cfgA, a, 1_700_000_001, 11));
    await w.config(cfgB);
    await w.data(data(cfgB, b, 1_700_000_002, 12));
    await w.close();
    assert.deepEqual(Array.from((await points('remap/Remap', 'VA.mag')).pts.values), [10, 11, 12]);
    assert.deepEqual(Array.from((await points('remap/Remap', 'IA.mag')).pts.values), [11, 12]); // v + 1 of the first two
    assert.deepEqual(Array.from((await points('remap/Remap', 'MW')).pts.values), [10, 11]);
    assert.deepEqual(Array.from((await points('remap/Remap', 'VB.mag')).pts.values), [13]);
    const va = (await points('remap/Remap', 'VA.mag')).stream;
    assert.equal((await va.refresh()).descriptor!.annotations.cfgcnt, '2');
    assert.equal(w.counts.configs, 2);
  });
});

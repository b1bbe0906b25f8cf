/**
 * Live C37.118 ingest end to end: our PMU simulator (pmu-sim.ts) serves frames replayed from a
 * capture; `arbor ingest c37118` runs as a child process into a temp data directory — over TCP
 * with one forced disconnect + reconnect, and over UDP (configuration over UDP, or fetched over
 * TCP with --config-from) — and is stopped with SIGTERM. The directory is then opened and every
 * stream's points (times, values, flags) and metadata compared with what the simulator sent,
 * decoded independently of the ingest path.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { open } from '../../src/index.ts';
import { channelsOf, channelValue, qualityFlags } from '../../src/ingest/c37118/channel-map.ts';
import { decodeFrame } from '../../src/ingest/c37118/frame-decode.ts';
import type { ConfigFrame, DataFrame } from '../../src/ingest/c37118/types.ts';
import { sharedDataDir } from '../shared-data.ts';
import { framesFromCapture, PmuSimulator } from './pmu-sim.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CAPTURE = path.join(sharedDataDir('pmu-stream-captures'), 'c37_1100_fullclean.pcap');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-c37-live-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Child {
  readonly proc: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exit: Promise<number | null>;
}

function arbor(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT });
  const c: Child = {
    proc,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => proc.on('exit', (code) => resolve(code))),
  };
  proc.stdout!.on('data', (b: Buffer) => {
    c.stdout += b.toString();
  });
  proc.stderr!.on('data', (b: Buffer) => {
    c.stderr += b.toString();
  });
  return c;
}

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Stop the child with SIGTERM; it must flush and exit 0. */
async function stop(c: Child): Promise<void> {
  c.proc.kill('SIGTERM');
  const code = await c.exit;
  assert.equal(code, 0, `ingest exited ${code}\nstdout:\n${c.stdout}\nstderr:\n${c.stderr}`);
}

/** Every stream of the PMU equals what the simulator sent, frame by frame. */
async function checkStored(dir: string, cfg: ConfigFrame, sent: readonly Uint8Array[]): Promise<void> {
  const frames = sent.map((b) => decodeFrame(b, { configs: () => cfg }) as DataFrame);
  const conn = await open(dir);
  try {
    const specs = channelsOf(cfg);
    const streams = await conn.streamsInCollection(specs[0]!.collection, { isPrefix: false });
    assert.equal(streams.length, specs.length);
    for (const spec of specs) {
      const s = streams.find((x) => x.descriptor!.tags.name === spec.name);
      assert.ok(s, `stream ${spec.name}`);
      const d = s.descriptor!;
      assert.equal(d.tags.unit, spec.unit);
      assert.deepEqual(
        Object.fromEntries(Object.keys(spec.annotations).map((k) => [k, d.annotations[k]])),
        spec.annotations,
      );
      const pts = await s.valuesArray(0n, 3_000_000_000_000_000_000n);
      assert.equal(pts.times.length, frames.length, `${spec.name}: points`);
      const polar = (cfg.pmus[0]!.format & 1) !== 0;
      frames.forEach((f, i) => {
        const p = f.pmus[0]!;
        assert.equal(pts.times[i], f.time);
        assert.equal(pts.values[i], channelValue(spec, polar, p.phasors, p.freq, p.dfreq, p.analogs, p.digitals));
        assert.equal(pts.flags?.[i], qualityFlags(p.stat, f.timeQuality));
      });
    }
  } finally {
    await conn.close();
  }
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('live C37.118 ingest against the PMU simulator', () => {
  it('ingests over TCP through a forced disconnect and stores exactly what the simulator sent', async () => {
    assert.ok(fs.existsSync(CAPTURE), `capture ${CAPTURE} is missing`);
    const { cfg, data } = framesFromCapture(fs.readFileSync(CAPTURE), 1);
    const sim = new PmuSimulator({ cfg, data, stamp: 'now', periodMs: 1000 / 60 });
    const port = await sim.listen();
    const dir = path.join(tmp, 'tcp');
    const c = arbor([
      'ingest',
      'c37118',
      '--connect',
      `127.0.0.1:${port}`,
      '--idcode',
      '1',
      '--data',
      dir,
      '--flush-ms',
      '200',
    ]);
    try {
      await until('60 frames', () => sim.sent.length >= 60);
      sim.dropConnections();
      await until('a reconnect and 150 frames', () => sim.connections >= 2 && sim.sent.length >= 150);
      // Stop sending before stopping the client: a frame in flight at SIGTERM is not stored.
      sim.pause();
      await new Promise((r) => setTimeout(r, 300));
      await stop(c);
    } finally {
      c.proc.kill('SIGKILL');
      await sim.close();
    }
    // Commands: off, send CFG-2, on — on each connection — then off when stopped.
    assert.deepEqual(sim.commands.slice(0, 6), [1, 5, 2, 1, 5, 2]);
    assert.match(c.stdout, /link: 2 connects, 1 losses/);
    assert.match(c.stderr, /lost; reconnecting/);
    assert.match(c.stdout, new RegExp(`ingested ${sim.sent.length} data frames`));
    await checkStored(dir, sim.config, sim.sent);
  });

  it('ingests over UDP after a configuration frame sent over UDP', async () => {
    const { cfg, data } = framesFromCapture(fs.readFileSync(CAPTURE), 1);
    const sim = new PmuSimulator({ cfg, data, stamp: 'captured' });
    const port = await freeUdpPort();
    const dir = path.join(tmp, 'udp');
    const c = arbor(['ingest', 'c37118', '--listen', `udp://127.0.0.1:${port}`, '--data', dir]);
    try {
      await until('the listener', () => c.stderr.includes('listening on udp://'));
      await sim.sendUdp('127.0.0.1', port, 0); // the CFG-2 alone
      await until('the channels mapped', () => c.stderr.includes('channels mapped to streams'));
      await sim.sendUdp('127.0.0.1', port, 200, 2, false);
      await new Promise((r) => setTimeout(r, 500));
      await stop(c);
    } finally {
      c.proc.kill('SIGKILL');
      await sim.close();
    }
    assert.match(c.stdout, /ingested 200 data frames/);
    await checkStored(dir, sim.config, sim.sent);
  });

  it('ingests over UDP with the configuration fetched over TCP (--config-from)', async () => {
    const { cfg, data } = framesFromCapture(fs.readFileSync(CAPTURE), 1);
    const sim = new PmuSimulator({ cfg, data, stamp: 'now', periodMs: 1000 / 60 });
    const tcpPort = await sim.listen();
    const port = await freeUdpPort();
    const dir = path.join(tmp, 'udp-cfg');
    const c = arbor([
      'ingest',
      'c37118',
      '--listen',
      `udp://127.0.0.1:${port}`,
      '--config-from',
      `127.0.0.1:${tcpPort}`,
      '--idcode',
      '1',
      '--data',
      dir,
    ]);
    try {
      await until('the channels mapped', () => c.stderr.includes('channels mapped to streams'));
      await until('the listener', () => c.stderr.includes('listening on udp://'));
      await sim.sendUdp('127.0.0.1', port, 120, 2, false);
      await new Promise((r) => setTimeout(r, 500));
      await stop(c);
    } finally {
      c.proc.kill('SIGKILL');
      await sim.close();
    }
    assert.deepEqual(sim.commands, [5]);
    assert.match(c.stdout, /ingested 120 data frames/);
    await checkStored(dir, sim.config, sim.sent);
  });
});

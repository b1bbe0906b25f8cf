import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { startServe } from '../../test/server/spawn-serve.ts';
import { sharedDataDir } from '../../test/shared-data.ts';
import { connectionOver } from '../client/index.ts';
import { connectRemote } from '../client/remote-backend.ts';
import { openDatabase } from '../db/database.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-ingest-cli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function arbor(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('arbor ingest c37118', () => {
  it('explains itself with --help', () => {
    const r = arbor('ingest', '--help');
    assert.equal(r.code, 0);
    for (const f of [
      '--pcap',
      '--connect',
      '--idcode',
      '--listen',
      '--config-from',
      '--data',
      '--server',
      '--batch-frames',
    ])
      assert.ok(r.stdout.includes(f), f);
  });

  it('rejects a missing or doubled source and a malformed HOST:PORT with a clear message', () => {
    let r = arbor('ingest', 'c37118', '--data', path.join(tmp, 'x'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /give exactly one source/);
    r = arbor('ingest', 'c37118', '--pcap', 'a.pcap', '--connect', 'h:1');
    assert.match(r.stderr, /give exactly one source/);
    r = arbor('ingest', 'c37118', '--connect', 'nohost', '--idcode', '1', '--data', path.join(tmp, 'x'));
    assert.match(r.stderr, /--connect must be HOST:PORT/);
    r = arbor('ingest', 'modbus', '--pcap', 'a.pcap');
    assert.match(r.stderr, /unknown protocol "modbus"/);
  });

  it('replays a capture into a data directory, and a second replay adds nothing', () => {
    const pcap = path.join(sharedDataDir('pmu-stream-captures'), 'C37.118_1PMU_UDP.pcap');
    assert.ok(fs.existsSync(pcap), `capture ${pcap} is missing`);
    const dir = path.join(tmp, 'replay');
    let r = arbor('ingest', 'c37118', '--pcap', pcap, '--data', dir, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ingested 356 data frames .* into 9 streams \(9 created\): 3204 points/);
    assert.match(r.stdout, /frames: 356 data, 0 CFG-1, 1 CFG-2, 0 CFG-3, 4 command, 0 header; 0 bad/);
    r = arbor('ingest', 'c37118', '--pcap', pcap, '--data', dir, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /into 9 streams \(0 created\)/);
  });

  it('leaves one copy of each point after the double replay', async () => {
    const conn = connectionOver(await openDatabase(path.join(tmp, 'replay'), { background: false }));
    try {
      const streams = await conn.streamsInCollection('pmu/PMU1', { isPrefix: false });
      assert.equal(streams.length, 9);
      for (const s of streams) assert.equal((await s.valuesArray(0n, 3_000_000_000_000_000_000n)).times.length, 356);
    } finally {
      await conn.close();
    }
  });

  it('reports an unreadable capture file', () => {
    const r = arbor('ingest', 'c37118', '--pcap', path.join(tmp, 'missing.pcap'), '--data', path.join(tmp, 'y'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read .*missing\.pcap/);
  });

  it('replays through a running server with --server (gRPC), without quality flags', async () => {
    const pcap = path.join(sharedDataDir('pmu-stream-captures'), 'C37.118_1PMU_TCP.pcap');
    const server = await startServe(['--data', path.join(tmp, 'served'), '--grpc', '127.0.0.1:0']);
    try {
      const r = arbor('ingest', 'c37118', '--pcap', pcap, '--server', server.address, '--quiet');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /ingested 252 data frames .* into 10 streams \(10 created\): 2520 points/);
      assert.match(r.stdout, /quality flags \(STAT\) not stored/);
      const conn = connectionOver(await connectRemote({ endpoints: server.address }));
      try {
        const streams = await conn.streamsInCollection('pmu/Blue_PMU', { isPrefix: false });
        assert.equal(streams.length, 10);
        const mag = streams.find((s) => s.descriptor!.tags.name === 'V1LPM.mag')!;
        const pts = await mag.valuesArray(0n, 3_000_000_000_000_000_000n);
        assert.equal(pts.times.length, 252);
        assert.ok(pts.values.every((v) => v > 100_040 && v < 100_048));
      } finally {
        await conn.close();
      }
    } finally {
      await server.stop();
    }
  });
});

/**
 * Edge → central replication between two real `arbor serve` processes: a writer keeps ingesting at
 * the edge (and deletes a range) while `arbor replicate` runs as a child process through a TCP
 * proxy to central. The proxy cuts the link for a while (an outage), and the replicator is killed
 * with SIGKILL once and restarted. In the end central holds exactly the edge's points, and the
 * state file records the outage with its end.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectRemote } from '../../src/client/remote-backend.ts';
import { isDbError } from '../../src/core/errors.ts';
import { MAX_TIME, MIN_TIME } from '../../src/core/time.ts';
import type { StreamId } from '../../src/core/types.ts';
import type { Backend } from '../../src/db/backend.ts';
import { readState } from '../../src/db/replicate.ts';
import { type ServeProcess, startServe } from './spawn-serve.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const IDS = [1, 2, 3].map((i) => `00000000-0000-4000-8000-0000000e0d0${i}` as StreamId);
const T0 = 1_750_000_000_000_000_000n;
const STEP = 33_333_333n;

/** A TCP proxy to `target` whose link can be cut (every connection reset, no new ones) and restored. */
class Link {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly target: number) {}
  async up(): Promise<void> {
    const server = net.createServer((c) => {
      const u = net.connect(this.target, '127.0.0.1');
      for (const s of [c, u]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      c.pipe(u);
      u.pipe(c);
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }
  async down(): Promise<void> {
    const s = this.server;
    this.server = null;
    // Stop accepting first, then reset every open connection (close() waits for them).
    const closed = s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve();
    for (const x of this.sockets) x.destroy();
    await closed;
  }
}

/** Every point as `time=value,…`; null while the stream does not exist (not replicated yet). */
async function points(b: Backend, id: StreamId): Promise<string | null> {
  const out: string[] = [];
  try {
    for await (const c of b.rawValues(id, MIN_TIME, MAX_TIME, 0)) {
      for (let i = 0; i < c.value.times.length; i++) out.push(`${c.value.times[i]}=${c.value.values[i]}`);
    }
  } catch (e) {
    if (isDbError(e, 404)) return null;
    throw e;
  }
  return out.join(',');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let tmp: string;
let edge: ServeProcess;
let central: ServeProcess;
let link: Link;
let replicator: ChildProcess | null = null;
let replicatorLog = '';

function startReplicator(stateFile: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', 'src/cli/main.ts', 'replicate', '--from', edge.address, '--to', `127.0.0.1:${link.port}`],
      ...['--state', stateFile, '--interval', '150', '--verify-every', '5'],
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr?.on('data', (d: Buffer) => {
    replicatorLog += d.toString();
  });
  child.stdout?.on('data', (d: Buffer) => {
    replicatorLog += d.toString();
  });
  return child;
}

describe('arbor replicate between two servers', () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-replicate-'));
    [edge, central] = await Promise.all([
      startServe(['--data', path.join(tmp, 'edge'), '--grpc', '127.0.0.1:0']),
      startServe(['--data', path.join(tmp, 'central'), '--grpc', '127.0.0.1:0']),
    ]);
    link = new Link(central.port);
    await link.up();
  });
  after(async () => {
    replicator?.kill('SIGKILL');
    await link?.down();
    await Promise.all([edge?.stop(), central?.stop()]);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test(
    'central ends identical to the edge after a link outage and a replicator crash',
    { timeout: 240_000 },
    async () => {
      const stateFile = path.join(tmp, 'state.json');
      const e = await connectRemote({ endpoints: edge.address });
      const c = await connectRemote({ endpoints: central.address });
      try {
        for (const [i, id] of IDS.entries()) {
          await e.create({
            id,
            collection: `edge/site${i % 2}`,
            tags: { name: `ch${i}`, unit: 'V' },
            annotations: { pmu: 'A' },
          });
        }
        let k = 0n;
        const write = async (): Promise<void> => {
          for (const [i, id] of IDS.entries()) {
            const n = 90;
            const times = BigInt64Array.from({ length: n }, (_, j) => T0 + (k + BigInt(j)) * STEP);
            const values = Float64Array.from({ length: n }, (_, j) => i * 1000 + Number(k) + j / 7);
            await e.insert(id, { times, values }, 'never');
          }
          k += 90n;
        };
        const writeFor = async (ms: number): Promise<void> => {
          const end = Date.now() + ms;
          while (Date.now() < end) {
            await write();
            await sleep(50);
          }
        };

        replicator = startReplicator(stateFile);
        await writeFor(1000);
        // The outage starts once the replicator has copied something (it takes a while to start).
        const firstPass = Date.now() + 60_000;
        while (!/pass 0/.test(replicatorLog)) {
          assert.ok(Date.now() < firstPass, `the replicator made no pass: ${replicatorLog}`);
          await writeFor(200);
        }
        await link.down(); // the outage: the edge keeps ingesting
        await writeFor(2000);
        await e.delete(IDS[0]!, T0 + 100n * STEP, T0 + 400n * STEP); // a delete at the edge, during the outage
        await link.up();
        await writeFor(1500);
        assert.equal(replicator.exitCode, null, `the replicator stopped by itself: ${replicatorLog}`);
        const exited = new Promise((r) => replicator?.once('exit', r));
        replicator.kill('SIGKILL'); // the replicator's own crash
        await exited;
        await writeFor(1000);
        replicator = startReplicator(stateFile);
        await writeFor(1000);

        const deadline = Date.now() + 90_000;
        for (;;) {
          const same = await Promise.all(IDS.map(async (id) => (await points(e, id)) === (await points(c, id))));
          if (same.every(Boolean)) break;
          assert.ok(Date.now() < deadline, `central did not converge; replicator log:\n${replicatorLog}`);
          await sleep(300);
        }
        for (const id of IDS) {
          const edgePts = await points(e, id);
          assert.ok(edgePts !== null && edgePts.length > 0);
          assert.equal(await points(c, id), edgePts, `stream ${id}`);
          const d = (await c.streamInfo(id)).descriptor;
          assert.equal(d.tags.unit, 'V');
          assert.equal(d.annotations.pmu, 'A');
        }
        assert.equal(
          (await points(c, IDS[0]!))?.includes(`${T0 + 200n * STEP}=`),
          false,
          'the edge delete reached central',
        );
        const state = readState(stateFile);
        assert.ok(state.outages.length >= 1, JSON.stringify(state.outages));
        assert.ok(
          state.outages.every((o) => o.end !== null),
          `every outage closed: ${JSON.stringify(state.outages)}`,
        );
        assert.match(replicatorLog, /link down/);
        assert.match(replicatorLog, /link restored/);
      } finally {
        await e.close();
        await c.close();
      }
    },
  );
});

/**
 * Loopback Insert throughput through grpc-js with our codecs. The server runs in a child process
 * and does no work; the client sends 50,000-point InsertParams. A program, not a test:
 *   node --import tsx src/wire/grpc-bench.ts [calls] [inFlight]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { credentials, Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { createBTrDBClient } from './grpc-client.ts';
import { RECOMMENDED_SERVER_OPTIONS, raiseServerFlowControlWindow } from './grpc-server-tuning.ts';
import { type BTrDBHandlers, BTrDBService } from './service-definition.ts';

const perCall = 50_000;

async function serve(window: number): Promise<void> {
  const server = new Server(RECOMMENDED_SERVER_OPTIONS);
  if (window > 0) raiseServerFlowControlWindow(server, window);
  const handlers: Partial<BTrDBHandlers> = {
    Insert: (call, cb) => cb(null, { versionMajor: 1n, versionMinor: BigInt(call.request.values.times.length) }),
  };
  server.addService(BTrDBService, handlers as UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  console.log(`PORT ${port}`);
  process.stdin.resume();
  process.stdin.on('end', () => server.forceShutdown());
}

async function measure(window: number, calls: number, inFlight: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', String(window)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = /PORT (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
  });
  const client = createBTrDBClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const times = new BigInt64Array(perCall).map((_, i) => 1_700_000_000_000_000_000n + BigInt(i) * 8_333_333n);
  const values = new Float64Array(perCall).map((_, i) => Math.sin(i));
  const req = { uuid: new Uint8Array(16), sync: false, values: { times, values }, merge_policy: 0 };
  const one = () => new Promise<void>((resolve, reject) => client.Insert(req, (e) => (e ? reject(e) : resolve())));
  for (let i = 0; i < 5; i++) await one(); // connect + warm up
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < calls) await one();
    }),
  );
  const s = (performance.now() - t0) / 1000;
  client.close();
  child.stdin.end();
  await new Promise((r) => child.once('exit', r));
  return (calls * perCall) / s;
}

if (process.argv[2] === 'serve') {
  await serve(Number(process.argv[3] ?? 0));
} else {
  const calls = Number(process.argv[2] ?? 200);
  const inFlight = Number(process.argv[3] ?? 4);
  console.log(
    `Insert of ${perCall}-point messages (1 MB), ${calls} calls, ${inFlight} in flight, server in a child process`,
  );
  console.log('| server HTTP/2 windows | Mpoints/s |');
  console.log('|---|---:|');
  for (const [window, label] of [
    [0, 'Node default (64 KiB)'],
    [1 << 20, 'raised to 1 MiB'],
    [16 << 20, 'raised to 16 MiB'],
  ] as const) {
    const rate = await measure(window, calls, inFlight);
    console.log(`| ${label} | ${(rate / 1e6).toFixed(2)} |`);
  }
}

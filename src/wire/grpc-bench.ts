/**
 * Loopback Insert throughput through grpc-js with our codecs, server doing no work, with Node's
 * default HTTP/2 windows and with raiseServerFlowControlWindow. A program, not a test:
 *   node --import tsx src/wire/grpc-bench.ts [calls] [inFlight]
 */
import { credentials, Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { createBTrDBClient } from './grpc-client.ts';
import { RECOMMENDED_SERVER_OPTIONS, raiseServerFlowControlWindow } from './grpc-server-tuning.ts';
import { BTrDBService, type BTrDBHandlers } from './service-definition.ts';

const calls = Number(process.argv[2] ?? 200);
const inFlight = Number(process.argv[3] ?? 4);
const perCall = 50_000;

async function run(tuneServer: boolean, clientWindow: number | undefined): Promise<number> {
  const server = new Server(RECOMMENDED_SERVER_OPTIONS);
  if (tuneServer) raiseServerFlowControlWindow(server);
  const handlers: Partial<BTrDBHandlers> = {
    Insert: (call, cb) => cb(null, { versionMajor: 1n, versionMinor: BigInt(call.request.values.times.length) }),
  };
  server.addService(BTrDBService, handlers as UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const client = createBTrDBClient(
    `127.0.0.1:${port}`,
    credentials.createInsecure(),
    clientWindow === undefined ? {} : { 'grpc-node.flow_control_window': clientWindow },
  );
  const times = new BigInt64Array(perCall).map((_, i) => 1_700_000_000_000_000_000n + BigInt(i) * 8_333_333n);
  const values = new Float64Array(perCall).map((_, i) => Math.sin(i));
  const req = { uuid: new Uint8Array(16), sync: false, values: { times, values }, merge_policy: 0 };
  const one = () =>
    new Promise<void>((resolve, reject) => client.Insert(req, (e) => (e ? reject(e) : resolve())));
  await one(); // connect + warm up
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < calls) await one();
    }),
  );
  const s = (performance.now() - t0) / 1000;
  client.close();
  server.forceShutdown();
  return (calls * perCall) / s;
}

console.log(`Insert of ${perCall}-point messages, ${calls} calls, ${inFlight} in flight, loopback, no-op server`);
console.log('| server windows | client window option | Mpoints/s |');
console.log('|---|---|---:|');
for (const [tune, win, label] of [
  [false, undefined, 'Node default (64 KiB) | default'],
  [true, undefined, 'raised to 16 MiB | default'],
  [true, 16 << 20, "raised to 16 MiB | 'grpc-node.flow_control_window': 16 MiB"],
] as const) {
  const rate = await run(tune, win);
  console.log(`| ${label} | ${(rate / 1e6).toFixed(2)} |`);
}

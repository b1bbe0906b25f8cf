/**
 * The conformance suite against the remote backend: a real `arbor serve` child process (temp data
 * directory, an API key, a free port) reached through `connectRemote` over gRPC — once with the
 * Arrow RPCs for bulk data (the server reports 5.34) and once with the protobuf ones. The BTrDB
 * wire carries neither quality flags nor allowNonFinite streams, so those cases check the 501 refusal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { Connection } from '../../src/client/connection.ts';
import { connectRemote } from '../../src/client/remote-backend.ts';
import { type ServeProcess, startServe } from '../server/spawn-serve.ts';
import { runConformance } from './suite.ts';

const KEY = 'conformance-key';
let server: ServeProcess | undefined;
let dir = '';

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-remote-'));
  server = await startServe(['--data', dir, '--grpc', '127.0.0.1:0', '--api-key', KEY]);
});

after(async () => {
  const stopping = server?.stop('SIGTERM');
  const timer = setTimeout(() => {
    process.stderr.write(`arbor serve has not stopped 60 s after SIGTERM; its stderr:\n${server?.stderr()}\n`);
    server?.child.kill('SIGKILL');
  }, 60_000);
  const code = await stopping;
  clearTimeout(timer);
  fs.rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`arbor serve exited with ${code} after SIGTERM\n${server?.stderr()}`);
});

const features = { flags: false, nonFinite: false };
const env = {};

for (const arrow of [true, false]) {
  runConformance(
    `remote over gRPC (${arrow ? 'Arrow' : 'protobuf'} bulk RPCs)`,
    async () => {
      if (server === undefined) throw new Error('arbor serve did not start');
      const backend = await connectRemote({
        endpoints: server.address,
        apiKey: KEY,
        arrow,
        arrowReads: arrow,
        env,
        home: dir,
      });
      const conn = new Connection(backend);
      return { conn, close: () => conn.close() };
    },
    features,
  );
}

/**
 * Subscribe's in-band errors reach the client over real gRPC. (The service stops reading updates
 * after an error; reading the call with a plain `for await` destroyed it at that moment, so the
 * error message was never sent and the call hung until the client cancelled.)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { credentials, Metadata } from '@grpc/grpc-js';
import { newStreamId, streamIdToBytes } from '../../core/uuid.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import { type BTrDBClient, createBTrDBClient, type SubscriptionResp } from '../../wire/index.ts';
import { type GrpcServer, startGrpcServer } from './grpc-server.ts';

let db: Database;
let server: GrpcServer;
let client: BTrDBClient;

before(async () => {
  db = await openDatabase(null);
  server = await startGrpcServer({ backend: db, address: '127.0.0.1:0', apiKeys: ['k'] });
  client = createBTrDBClient(server.address, credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.close(0);
  await db.close();
});

const md = () => {
  const m = new Metadata();
  m.set('authorization', 'Bearer k');
  return m;
};

async function answers(updates: { op: number; uuid: Uint8Array[] }[], halfClose: boolean): Promise<SubscriptionResp[]> {
  const call = client.Subscribe(md());
  const timer = setTimeout(() => call.cancel(), 10_000); // a hang fails the test instead of stalling it
  for (const u of updates) call.write(u);
  if (halfClose) call.end();
  const out: SubscriptionResp[] = [];
  try {
    for await (const m of call) out.push(m as SubscriptionResp);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

test('subscribing to an unknown stream is answered 404 in-band, then the call ends', async () => {
  const got = await answers([{ op: 0, uuid: [streamIdToBytes(newStreamId())] }], false);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.stat?.code, 404);
});

test('an unknown op is answered 438 in-band, then the call ends', async () => {
  const got = await answers([{ op: 7, uuid: [] }], true);
  assert.deepEqual(
    got.map((m) => m.stat?.code),
    [438],
  );
});

test('half-closing with nothing subscribed ends the call at once', async () => {
  assert.deepEqual(await answers([], true), []);
});

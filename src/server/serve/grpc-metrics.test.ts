/**
 * gRPC requests on the /metrics page of `arbor serve`: `runServer` on a data directory, calls made
 * through the remote client (and a raw client for a refused key), then /metrics scraped over HTTP.
 * Every call the test made must be counted exactly once under its RPC and outcome — OK, the
 * in-band BTrDB code, or the gRPC status of a refused call — and the latency histogram must
 * hold exactly the calls of its RPC.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { connectRemote, type RemoteBackend } from '../../client/remote-backend.ts';
import { isDbError } from '../../core/errors.ts';
import { MAX_TIME } from '../../core/time.ts';
import type { StreamId } from '../../core/types.ts';
import { createBTrDBClient } from '../../wire/index.ts';
import { type Sample, sampleValue, scrape } from '../http/metrics-testing.ts';
import { type RunningServer, runServer } from './run-server.ts';
import { parseServeConfig } from './serve-config.ts';

const KEY = 'grpc-metrics-test-key';
const ID = '00000000-0000-4000-8000-00000000c0de' as StreamId;
const UNKNOWN = '00000000-0000-4000-8000-00000000dead' as StreamId;
const T0 = 1_700_000_000_000_000_000n;

let dir: string;
let server: RunningServer;
let remote: RemoteBackend;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-grpc-metrics-'));
  const cfg = parseServeConfig(
    ['--data', path.join(dir, 'data'), '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--api-key', KEY],
    {},
    (f) => fs.readFileSync(f, 'utf8'),
  );
  server = await runServer(cfg, { out: () => undefined, err: () => undefined });
  // Insert, not ArrowInsert; no credentials file or BTRDB_* variables from the machine.
  remote = await connectRemote({ endpoints: server.grpc.address, apiKey: KEY, arrow: false, env: {}, home: dir });
});

after(async () => {
  await remote?.close();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const grpcCount = (s: readonly Sample[], rpc: string, code: string): number =>
  sampleValue(s, 'arbordb_grpc_requests_total', { rpc, code }) ?? 0;

/** Calls Info with `key` on a raw client; resolves with the gRPC status code. */
function infoWithKey(key: string): Promise<number> {
  const client = createBTrDBClient(server.grpc.address, credentials.createInsecure());
  const md = new Metadata();
  md.set('authorization', `Bearer ${key}`);
  return new Promise<number>((resolve) => {
    client.Info({}, md, (e: ServiceError | null) => {
      client.close();
      resolve(e ? e.code : status.OK);
    });
  });
}

test('Insert calls are counted by outcome (OK, in-band 413) and timed, on the HTTP /metrics page', async () => {
  await remote.create({ id: ID, collection: 'metrics/test', tags: { name: 'f' }, annotations: {} });
  const before = await scrape(server.http.url, KEY);

  const N = 7;
  const M = 4;
  for (let i = 0; i < N; i++) {
    const times = BigInt64Array.from({ length: 10 }, (_, k) => T0 + BigInt(i * 10 + k));
    await remote.insert(ID, { times, values: new Float64Array(10).fill(i) });
  }
  for (let i = 0; i < M; i++) {
    // A time at or past MAX_TIME: the server answers 413 InvalidTimeRange in the response stat.
    const times = BigInt64Array.of(MAX_TIME + BigInt(i));
    await assert.rejects(remote.insert(ID, { times, values: Float64Array.of(1) }), (e) => isDbError(e, 413));
  }

  const after = await scrape(server.http.url, KEY);
  assert.equal(grpcCount(after, 'Insert', 'OK') - grpcCount(before, 'Insert', 'OK'), N);
  assert.equal(grpcCount(after, 'Insert', '413') - grpcCount(before, 'Insert', '413'), M);
  const histCount = (s: readonly Sample[]) =>
    sampleValue(s, 'arbordb_grpc_request_duration_seconds_count', { rpc: 'Insert' }) ?? 0;
  const infBucket = (s: readonly Sample[]) =>
    sampleValue(s, 'arbordb_grpc_request_duration_seconds_bucket', { rpc: 'Insert', le: '+Inf' }) ?? 0;
  assert.equal(histCount(after) - histCount(before), N + M);
  assert.equal(infBucket(after), histCount(after));
  // Before the first Insert, nothing was counted under it: the totals are exactly N and M.
  assert.equal(grpcCount(after, 'Insert', 'OK'), N);
  assert.equal(grpcCount(after, 'Insert', '413'), M);
  assert.equal(histCount(after), N + M);
  // Buckets are cumulative and the sum is a time.
  const buckets = after
    .filter((s) => s.name === 'arbordb_grpc_request_duration_seconds_bucket' && s.labels.rpc === 'Insert')
    .map((s) => s.value);
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]! >= buckets[i - 1]!, 'cumulative buckets');
  const sum = sampleValue(after, 'arbordb_grpc_request_duration_seconds_sum', { rpc: 'Insert' });
  assert.ok(sum !== undefined && sum > 0);
  // The client's connect asked Info once; Create was counted once.
  assert.equal(grpcCount(after, 'Info', 'OK'), 1);
  assert.equal(grpcCount(after, 'Create', 'OK'), 1);
});

test('streaming calls are counted with their in-band outcome', async () => {
  const before = await scrape(server.http.url, KEY);
  let points = 0;
  for await (const c of remote.rawValues(ID, T0, T0 + 1000n, 0)) points += c.value.times.length;
  assert.ok(points > 0);
  await assert.rejects(
    (async () => {
      for await (const _ of remote.rawValues(UNKNOWN, T0, T0 + 1000n, 0)) {
        // drained
      }
    })(),
    (e) => isDbError(e, 404),
  );
  const after = await scrape(server.http.url, KEY);
  assert.equal(grpcCount(after, 'RawValues', 'OK') - grpcCount(before, 'RawValues', 'OK'), 1);
  assert.equal(grpcCount(after, 'RawValues', '404') - grpcCount(before, 'RawValues', '404'), 1);
  const count = (s: readonly Sample[]) =>
    sampleValue(s, 'arbordb_grpc_request_duration_seconds_count', { rpc: 'RawValues' }) ?? 0;
  assert.equal(count(after) - count(before), 2);
});

test('a call refused at the transport is counted under its gRPC status name', async () => {
  const before = await scrape(server.http.url, KEY);
  assert.equal(await infoWithKey('not-the-key'), status.UNAUTHENTICATED);
  assert.equal(await infoWithKey(KEY), status.OK);
  const after = await scrape(server.http.url, KEY);
  assert.equal(grpcCount(after, 'Info', 'UNAUTHENTICATED') - grpcCount(before, 'Info', 'UNAUTHENTICATED'), 1);
  assert.equal(grpcCount(after, 'Info', 'OK') - grpcCount(before, 'Info', 'OK'), 1);
});

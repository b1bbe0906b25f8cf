import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import {
  type Client,
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServiceError,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { MergePolicy } from './enums.ts';
import { createBTrDBClient } from './grpc-client.ts';
import { RECOMMENDED_SERVER_OPTIONS, raiseServerFlowControlWindow } from './grpc-server-tuning.ts';
import type { InsertParams } from './insert-codec.ts';
import type { InfoResponse } from './messages-meta.ts';
import type { RawValuesResponse } from './raw-values-codec.ts';
import { reflectionRoot } from './reflection-reference.ts';
import { type BTrDBHandlers, BTrDBService, createBTrDBServiceDefinition } from './service-definition.ts';

describe('the BTrDB service definition', () => {
  test('has the 26 RPCs of the proto with their paths and streaming flags', () => {
    const svc = reflectionRoot().lookupService('v5api.BTrDB');
    const expected = Object.fromEntries(
      svc.methodsArray.map((m: protobuf.Method) => [
        m.name,
        { path: `/v5api.BTrDB/${m.name}`, requestStream: !!m.requestStream, responseStream: !!m.responseStream },
      ]),
    );
    const ours = Object.fromEntries(
      Object.entries(BTrDBService).map(([name, d]) => [
        name,
        { path: d.path, requestStream: d.requestStream, responseStream: d.responseStream },
      ]),
    );
    assert.deepEqual(ours, expected);
    assert.equal(Object.keys(ours).length, 26);
    const kinds = Object.values(ours).map((d) => (d.requestStream ? 'B' : d.responseStream ? 'S' : 'U'));
    assert.deepEqual(
      [
        kinds.filter((k) => k === 'U').length,
        kinds.filter((k) => k === 'S').length,
        kinds.filter((k) => k === 'B').length,
      ],
      [13, 12, 1],
    );
  });
});

describe('a loopback grpc-js server and client over our codecs', () => {
  const server = new Server(RECOMMENDED_SERVER_OPTIONS);
  raiseServerFlowControlWindow(server, 8 << 20);
  let address = '';
  let received: InsertParams | undefined;
  const decodeErrors: string[] = [];
  const definition = createBTrDBServiceDefinition({
    onDecodeError: (rpc, e) => decodeErrors.push(`${rpc}: ${e instanceof Error ? e.message : String(e)}`),
  });

  const handlers: Partial<BTrDBHandlers> = {
    Info: (_call, callback) => {
      callback(null, { majorVersion: 5, minorVersion: 12, build: 'arbordb-test', proxy: { proxyEndpoints: [] } });
    },
    Insert: (call, callback) => {
      received = call.request;
      callback(null, { versionMajor: 11n, versionMinor: BigInt(call.request.values.times.length) });
    },
    RawValues: (call) => {
      const { start, end } = call.request;
      const per = 5000;
      for (let t = start; t < end; t += BigInt(per)) {
        const n = Number(end - t < BigInt(per) ? end - t : BigInt(per));
        const times = new BigInt64Array(n);
        const values = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          times[i] = t + BigInt(i);
          values[i] = Number(t) + i;
        }
        call.write({ versionMajor: 11n, versionMinor: 0n, values: { times, values } });
      }
      call.end();
    },
    Subscribe: (call) => {
      call.on('data', (u: { op: number; uuid: readonly Uint8Array[] }) => {
        for (const id of u.uuid) call.write({ uuid: id, arrowBytes: new Uint8Array([u.op]) });
      });
      call.on('end', () => call.end());
    },
  };

  before(async () => {
    server.addService(definition, handlers as UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  after(() => server.forceShutdown());

  test('a unary call round-trips InfoResponse', async () => {
    const client = createBTrDBClient(address, credentials.createInsecure());
    const info = await new Promise<InfoResponse>((resolve, reject) =>
      client.Info({}, (e, r) => (e || !r ? reject(e) : resolve(r))),
    );
    assert.deepEqual(info, { majorVersion: 5, minorVersion: 12, build: 'arbordb-test', proxy: { proxyEndpoints: [] } });
    client.close();
  });

  test('Insert delivers 50,000 points as columns', async () => {
    const client = createBTrDBClient(address, credentials.createInsecure());
    const n = 50_000;
    const times = new BigInt64Array(n).map((_, i) => BigInt(i) * 1000n - (1n << 62n));
    const values = new Float64Array(n).map((_, i) => i / 7);
    const res = await new Promise<{ versionMinor: bigint }>((resolve, reject) =>
      client.Insert(
        { uuid: new Uint8Array(16).fill(1), sync: false, values: { times, values }, merge_policy: MergePolicy.REPLACE },
        (e, r) => (e || !r ? reject(e) : resolve(r)),
      ),
    );
    assert.equal(res.versionMinor, 50_000n);
    assert.deepStrictEqual(received?.values, { times, values });
    assert.equal(received?.merge_policy, MergePolicy.REPLACE);
    client.close();
  });

  test('a server-streaming call delivers every message in order', async () => {
    const client = createBTrDBClient(address, credentials.createInsecure());
    const call = client.RawValues({ uuid: new Uint8Array(16), start: 1000n, end: 13_000n, versionMajor: 0n });
    const got: RawValuesResponse[] = [];
    for await (const m of call) got.push(m as RawValuesResponse);
    assert.deepEqual(
      got.map((m) => m.values.times.length),
      [5000, 5000, 2000],
    );
    assert.equal(got[2]!.values.times[1999], 12_999n);
    client.close();
  });

  test('the bidirectional Subscribe call streams both ways', async () => {
    const client = createBTrDBClient(address, credentials.createInsecure());
    const call = client.Subscribe();
    call.write({ op: 0, uuid: [new Uint8Array([1]), new Uint8Array([2])] });
    call.end();
    const got: number[] = [];
    for await (const m of call) got.push((m as { uuid: Uint8Array }).uuid[0]!);
    assert.deepEqual(got, [1, 2]);
    client.close();
  });

  test('a request that cannot be decoded fails with INTERNAL and reaches the decode-error hook', async () => {
    const Raw = makeGenericClientConstructor(
      {
        Insert: {
          ...BTrDBService.Insert,
          requestSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      'BTrDB',
    );
    const client: Client = new Raw(address, credentials.createInsecure());
    const send = client as unknown as { Insert(req: Buffer, cb: (e: ServiceError | null) => void): void };
    const err = await new Promise<ServiceError | null>((resolve) =>
      send.Insert(Buffer.from([0x1a, 0x14, 0x09]), resolve),
    );
    assert.equal(err?.code, status.INTERNAL);
    assert.equal(err?.details, 'Error deserializing request');
    assert.equal(decodeErrors.length, 1);
    assert.match(decodeErrors[0]!, /^Insert: InsertParams field 3: length 20 runs past the end/);
    client.close();
  });

  test('the server advertises the raised flow-control windows', async () => {
    const session = http2.connect(`http://${address}`);
    session.on('error', () => {}); // the server's shutdown may reset it after the test
    const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
    assert.equal(settings.initialWindowSize, 8 << 20);
    // The connection window grows by a WINDOW_UPDATE right after the handshake.
    await new Promise((r) => setTimeout(r, 50));
    assert.ok((session.state.remoteWindowSize ?? 0) >= 8 << 20, `remote window ${session.state.remoteWindowSize}`);
    await new Promise<void>((resolve) => session.close(() => resolve()));
  });
});

/**
 * The gRPC server under hostile request bytes: mutations of valid requests of every unary and
 * server-streaming RPC, sent raw through a real server in-process. Every call must end with a
 * status (OK with an in-band BTrDB status, or a transport error such as INTERNAL for undecodable
 * bytes), the server must keep serving, and no handler may fail with an internal fault.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describeTally, fuzzDecoderAsync, fuzzSeed, hostileBytes } from '../../../test/fuzz/fuzz.ts';
import { messageArb } from '../../../test/fuzz/wire-messages.ts';
import { parseStreamId, streamIdToBytes } from '../../core/uuid.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import { reflectionType } from '../../wire/reflection-reference.ts';
import { BTRDB_RPCS } from '../../wire/rpc-table.ts';
import { type GrpcServer, startGrpcServer } from './grpc-server.ts';

let db: Database;
let server: GrpcServer;
let raw: Client;
let uuid: Uint8Array;
const faults: string[] = [];

before(async () => {
  db = await openDatabase(null);
  server = await startGrpcServer({
    backend: db,
    address: '127.0.0.1:0',
    log: (line) => {
      if (!/undecodable request/.test(line)) faults.push(line);
    },
  });
  raw = new Client(server.address, credentials.createInsecure());
  const id = parseStreamId('0b5e2f6a-9c1d-4e8f-a2b3-c4d5e6f70819');
  await db.create({ id, collection: 'fuzz', tags: { name: 'g', unit: 'V' }, annotations: {} });
  uuid = streamIdToBytes(id);
});

after(async () => {
  raw.close();
  await server.close();
  await db.close();
});

/** RPCs fuzzed: every unary and server-streaming one but Obliterate (it would remove the stream) and SQL. */
const RPCS = Object.entries(BTRDB_RPCS).filter(
  ([name, r]) => r.kind !== 'B' && name !== 'Obliterate' && name !== 'SQLQuery',
);

/** Valid requests of `name`, half of them about the real stream. */
function seeds(name: string): Uint8Array[] {
  const r = BTRDB_RPCS[name as keyof typeof BTRDB_RPCS];
  const type = reflectionType(r.request.name);
  const values = fc.sample(messageArb(type), { numRuns: 8, seed: fuzzSeed(`grpc ${name}`) });
  return values.map((v, i) => {
    const m: Record<string, unknown> = { ...v };
    if (i % 2 === 0 && 'uuid' in m) m.uuid = Array.isArray(m.uuid) ? [uuid] : uuid;
    return (r.request as { encode(m: unknown): Uint8Array }).encode(m);
  });
}

function call(name: string, kind: string, bytes: Uint8Array): Promise<number> {
  const path = `/v5api.BTrDB/${name}`;
  const req = Buffer.from(bytes);
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + 20_000);
    if (kind === 'U') {
      raw.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        req,
        new Metadata(),
        { deadline },
        (e) => resolve(e ? e.code : status.OK),
      );
      return;
    }
    const s = raw.makeServerStreamRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      req,
      new Metadata(),
      { deadline },
    );
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.on('status', (st: { code: number }) => resolve(st.code));
  });
}

describe('the gRPC server under fuzzing', () => {
  for (const [name, r] of RPCS) {
    it(`${name}: every mutated request ends with a status and no internal fault`, async (t) => {
      const codes = new Map<number, number>();
      const tally = await fuzzDecoderAsync({
        name: `grpc ${name}`,
        inputs: hostileBytes(seeds(name), 64),
        decode: async (b) => {
          const code = await call(name, r.kind, b);
          codes.set(code, (codes.get(code) ?? 0) + 1);
          assert.notEqual(code, status.DEADLINE_EXCEEDED, 'the call hung');
          assert.notEqual(code, status.UNAVAILABLE, 'the server went away');
          assert.deepEqual(faults, [], 'an internal fault was logged');
          return code;
        },
        expected: () => false,
        runs: 60,
      });
      t.diagnostic(`${describeTally(tally)}; status codes ${JSON.stringify(Object.fromEntries(codes))}`);
    });
  }

  it('still answers a well-formed request afterwards', async () => {
    assert.equal(await call('Info', 'U', new Uint8Array(0)), status.OK);
  });
});

/**
 * The in-flight insert budget: its accounting, and over real loopback gRPC a server whose inserts
 * are held (a gate in front of the database) refusing the calls past the budget with
 * RESOURCE_EXHAUSTED, applying none of them, and accepting them again once the others finished.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import type { StreamId } from '../../core/types.ts';
import { streamIdToBytes } from '../../core/uuid.ts';
import type { Backend } from '../../db/backend.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import { type BTrDBClient, createBTrDBClient, rawValuesToArrow } from '../../wire/index.ts';
import { type GrpcServer, startGrpcServer } from './grpc-server.ts';
import { arrowInsertParamsBytes, InsertBudget, insertParamsBytes } from './insert-budget.ts';

describe('InsertBudget accounting', () => {
  test('admits calls up to the limit, refuses the one past it, and takes calls again after releases', () => {
    const b = new InsertBudget(100);
    assert.equal(b.tryAcquire(40), true);
    assert.equal(b.tryAcquire(60), true);
    assert.equal(b.usedBytes, 100);
    assert.equal(b.tryAcquire(1), false);
    assert.equal(b.refused, 1);
    b.release(40);
    assert.equal(b.tryAcquire(40), true);
    assert.equal(b.tryAcquire(1), false);
    b.release(40);
    b.release(60);
    assert.equal(b.usedBytes, 0);
    assert.equal(b.calls, 0);
    assert.equal(b.refused, 2);
  });

  test('a call larger than the whole budget is admitted alone, and nothing joins it', () => {
    const b = new InsertBudget(10);
    assert.equal(b.tryAcquire(1000), true);
    assert.equal(b.tryAcquire(1), false);
    b.release(1000);
    assert.equal(b.tryAcquire(1), true);
  });

  test('a limit that is not positive is refused', () => {
    assert.throws(() => new InsertBudget(0), RangeError);
    assert.throws(() => new InsertBudget(Number.NaN), RangeError);
  });

  test('costs: 16 bytes per Insert point, the Arrow bytes of an ArrowInsert', () => {
    const values = { times: new BigInt64Array(1000), values: new Float64Array(1000) };
    assert.equal(insertParamsBytes({ uuid: new Uint8Array(16), sync: false, values, merge_policy: 0 }), 16_000);
    const arrowBytes = rawValuesToArrow(values);
    assert.equal(
      arrowInsertParamsBytes({ uuid: new Uint8Array(16), sync: false, merge_policy: 0, arrowBytes }),
      arrowBytes.byteLength,
    );
  });
});

const KEY = 'budget-key';
const POINTS = 1000;
/** Room for exactly three 1000-point Inserts in flight. */
const LIMIT = 3 * 16 * POINTS;

let db: Database;
let server: GrpcServer;
let client: BTrDBClient;
/** While set, every insert waits for it. */
let gate: Promise<void> | null = null;

function gated(inner: Database): Backend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'insert') {
        return async (...args: Parameters<Backend['insert']>) => {
          while (gate) await gate;
          return target.insert(...args);
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Backend;
}

const md = () => {
  const m = new Metadata();
  m.set('authorization', `Bearer ${KEY}`);
  return m;
};

const batch = (k: number) => {
  const times = new BigInt64Array(POINTS);
  const values = new Float64Array(POINTS);
  for (let i = 0; i < POINTS; i++) {
    times[i] = BigInt(k * POINTS + i) * 1000n;
    values[i] = k + i / POINTS;
  }
  return { times, values };
};

function insert(uuid: Uint8Array, k: number): Promise<{ stat?: { code: number } | undefined }> {
  return new Promise((resolve, reject) =>
    client.Insert({ uuid, sync: false, values: batch(k), merge_policy: 0 }, md(), (e, r) =>
      e ? reject(e) : resolve(r!),
    ),
  );
}

async function count(uuid: Uint8Array): Promise<bigint[]> {
  const out: bigint[] = [];
  const call = client.RawValues({ uuid, start: 0n, end: 1n << 50n, versionMajor: 0n }, md());
  for await (const m of call) for (const t of m.values.times) out.push(t);
  return out;
}

before(async () => {
  db = await openDatabase(null);
  server = await startGrpcServer({
    backend: gated(db),
    address: '127.0.0.1:0',
    apiKeys: [KEY],
    maxInflightInsertBytes: LIMIT,
  });
  client = createBTrDBClient(server.address, credentials.createInsecure());
});
after(async () => {
  client.close();
  await server.close(1000);
  await db.close();
});

describe('grpc: the in-flight insert budget', () => {
  test('inserts past the budget get RESOURCE_EXHAUSTED, are not applied, and succeed when resent later', async () => {
    const id = randomUUID() as StreamId;
    const uuid = streamIdToBytes(id);
    await db.create({ id, collection: 'budget', tags: { name: 'x' }, annotations: {} });
    let open!: () => void;
    gate = new Promise<void>((r) => {
      open = r;
    });
    // Five concurrent inserts against room for three: three wait at the gate, two are refused.
    type Outcome = { k: number; ok: true } | { k: number; ok: false; e: ServiceError };
    const calls = [0, 1, 2, 3, 4].map(
      (k): Promise<Outcome> =>
        insert(uuid, k).then(
          () => ({ k, ok: true }),
          (e: ServiceError) => ({ k, ok: false, e }),
        ),
    );
    const settled: Outcome[] = [];
    for (const c of calls) void c.then((r) => settled.push(r));
    while (settled.length < 2) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(settled.length, 2, 'only the refusals finish while the gate is closed');
    const refused: number[] = [];
    for (const s of settled) {
      assert.equal(s.ok, false);
      if (s.ok) continue;
      assert.equal(s.e.code, status.RESOURCE_EXHAUSTED);
      assert.match(s.e.details, /^server busy: 48000 bytes of inserts in flight, this one 16000, limit 48000/);
      refused.push(s.k);
    }
    assert.equal(server.insertBudget.usedBytes, LIMIT);
    assert.equal(server.insertBudget.calls, 3);
    gate = null;
    open();
    const results = await Promise.all(calls);
    assert.equal(results.filter((r) => r.ok).length, 3);
    assert.equal(server.insertBudget.usedBytes, 0);
    assert.equal(server.insertBudget.calls, 0);
    assert.equal(server.insertBudget.refused, 2);
    // Only the admitted batches are in the stream.
    const admitted = results.filter((r) => r.ok).map((r) => r.k);
    const expect = (ks: number[]) =>
      ks.flatMap((k) => [...batch(k).times]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.deepEqual(await count(uuid), expect(admitted));
    // Resent now, the refused ones go through: every batch exactly once.
    for (const k of refused) assert.equal((await insert(uuid, k)).stat, undefined);
    assert.deepEqual(await count(uuid), expect([0, 1, 2, 3, 4]));
  });
});

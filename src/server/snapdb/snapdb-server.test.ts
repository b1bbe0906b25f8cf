import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { Database } from '../../db/database.ts';
import { EPOCH_TICKS, FIRST_TICKS, LAST_TICKS } from './historian-mapping.ts';
import type { HistorianPair } from './pair-codec.ts';
import { Cmd, Guid, HANDSHAKE_MAGIC, Resp } from './protocol.ts';
import { type ReadSpec, SnapdbClient, SnapdbClientError } from './snapdb-client.ts';
import { type SnapdbServer, startSnapdbServer } from './snapdb-server.ts';
import { WireWriter } from './wire-io.ts';

let db: Database;
let server: SnapdbServer;
let port: number;
const logs: string[] = [];

before(async () => {
  db = await Database.open(null);
  server = await startSnapdbServer({
    database: db,
    address: '127.0.0.1:0',
    instances: ['PPA', 'Bench', 'Rejects', 'Other'],
    log: (l) => logs.push(l),
  });
  port = Number(server.address.slice(server.address.lastIndexOf(':') + 1));
});

after(async () => {
  await server.close();
  await db.close();
});

const SECOND = 10_000_000n;
/** 2024-01-01T00:00:00Z in ticks. */
const T0 = EPOCH_TICKS + BigInt(Date.UTC(2024, 0, 1)) * 10_000n;
const f32 = (x: number) => {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, x, true);
  return BigInt(v.getUint32(0, true));
};
const pt = (time: bigint, pointId: bigint, value1: bigint, value3 = 0n): HistorianPair => ({
  time,
  pointId,
  entry: 0n,
  value1,
  value2: 0n,
  value3,
});
/** Reference answer: unique keys (last write wins), filtered, in (time, point ID) order. */
function expected(written: readonly HistorianPair[], keep: (p: HistorianPair) => boolean): HistorianPair[] {
  const byKey = new Map<string, HistorianPair>();
  for (const p of written) byKey.set(`${p.time}/${p.pointId}`, p);
  return [...byKey.values()]
    .filter(keep)
    .sort((a, b) =>
      a.time < b.time ? -1 : a.time > b.time ? 1 : a.pointId < b.pointId ? -1 : a.pointId > b.pointId ? 1 : 0,
    );
}

async function session<T>(
  instance: string,
  fn: (c: SnapdbClient) => Promise<T>,
  encoding: 'historian' | 'fixed' = 'historian',
) {
  const c = await SnapdbClient.connect('127.0.0.1', port);
  try {
    await c.open(instance, encoding);
    const r = await fn(c);
    await c.closeInstance();
    await c.disconnect();
    return r;
  } finally {
    c.destroy();
  }
}

test('the instance list names each instance upper-case with the historian types, stream encoding first', async () => {
  const c = await SnapdbClient.connect('127.0.0.1', port);
  assert.deepEqual(
    c.instances.map((i) => i.name),
    ['PPA', 'BENCH', 'REJECTS', 'OTHER'],
  );
  for (const i of c.instances) {
    assert.equal(i.keyType, Guid.historianKey);
    assert.equal(i.valueType, Guid.historianValue);
    assert.deepEqual(i.encodings, [Guid.historianStreamEncoding, Guid.fixedSizeEncoding]);
  }
  assert.equal(await c.disconnect(), 'Good bye!');
  c.destroy();
});

const written: HistorianPair[] = [];
const ppaPoints = [1n, 2n, 7n, 4_000_000_000n, (1n << 64n) - 1n];

test('written points read back in key order with their float32 bits and quality flags exact', async () => {
  const nanBits = [0x7f800001n, 0xff800001n, 0x7fbfffffn, 0x7fc00000n, 0xffc12345n, 0x7fffffffn];
  for (let i = 0; i < 300; i++) {
    const id = ppaPoints[i % ppaPoints.length]!;
    const v = i % 50 < nanBits.length ? nanBits[i % 50]! : f32(Math.sin(i) * 1000);
    // Out of order: odd rows go 10 s back in time.
    const time = T0 + BigInt(i) * (SECOND / 30n) - (i % 2 === 1 ? 10n * SECOND : 0n);
    written.push(pt(time, id, v, BigInt((i * 2654435761) >>> 0)));
  }
  await session('ppa', async (c) => {
    c.write(written.slice(0, 100));
    for (const p of written.slice(100)) c.write([p]); // one stream per point, as the Python client writes
    const got = await c.read();
    assert.deepEqual(
      got,
      expected(written, () => true),
    );
  });
});

test('points become streams of collection snapdb/PPA named by point ID, with flags and exact values', async () => {
  const streams = await db.lookupStreams({ collection: 'snapdb/PPA', isPrefix: false });
  assert.deepEqual(streams.map((s) => s.tags.name).sort(), ppaPoints.map(String).sort());
  const s7 = streams.find((s) => s.tags.name === '7')!;
  const mine = expected(written, (p) => p.pointId === 7n);
  const got: { t: bigint; v: number; f: number }[] = [];
  for await (const b of db.rawValues(s7.id, -(1n << 60n), 3n << 60n, 0)) {
    for (let i = 0; i < b.value.times.length; i++)
      got.push({ t: b.value.times[i]!, v: b.value.values[i]!, f: b.value.flags![i]! });
  }
  assert.equal(got.length, mine.length);
  for (let i = 0; i < mine.length; i++) {
    assert.equal(got[i]!.t, (mine[i]!.time - EPOCH_TICKS) * 100n);
    assert.equal(got[i]!.f, Number(mine[i]!.value3));
    const bits = Number(mine[i]!.value1);
    const isNaN32 = (bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0;
    if (isNaN32) assert.ok(Number.isNaN(got[i]!.v));
    else assert.equal(got[i]!.v, new Float32Array(new Uint32Array([bits]).buffer)[0]);
  }
});

test('a time range selects both ends inclusively, and the fixed-size encoding answers the same', async () => {
  const first = written[40]!.time;
  const last = written[80]!.time;
  const want = expected(written, (p) => p.time >= first && p.time <= last);
  assert.ok(want.some((p) => p.time === first) && want.some((p) => p.time === last));
  assert.deepEqual(await session('PPA', (c) => c.read({ seek: { first, last } })), want);
  assert.deepEqual(await session('PPA', (c) => c.read({ seek: { first, last } }), 'fixed'), want);
});

test('point-ID filters select those points only, 32-bit and 64-bit IDs alike', async () => {
  for (const ids of [[2n], [7n, 1n], [(1n << 64n) - 1n, 2n], [99n]]) {
    const got = await session('PPA', (c) => c.read({ ids }));
    assert.deepEqual(
      got,
      expected(written, (p) => ids.includes(p.pointId)),
      `ids ${ids}`,
    );
  }
});

test('strided windows return the points inside the windows, each once, in key order', async () => {
  const pts: HistorianPair[] = [];
  const base = T0 + 1000n * SECOND;
  for (let i = 0; i < 600; i++) pts.push(pt(base + BigInt(i) * (SECOND / 100n), BigInt(1 + (i % 3)), f32(i)));
  // main 1 s, sub 0.25 s, tolerance 10 ms: windows at +0, +0.25, +0.5, +0.75 s (±10 ms) each second.
  const seek = {
    first: base + SECOND / 2n,
    last: base + 5n * SECOND,
    main: SECOND,
    sub: SECOND / 4n,
    tolerance: SECOND / 100n,
  };
  const inWindow = (t: bigint) => {
    for (let c = seek.first; c - seek.tolerance <= seek.last; c += seek.sub) {
      if (t >= c - seek.tolerance && t <= c + seek.tolerance) return true;
    }
    return false;
  };
  const got = await session('OTHER', async (c) => {
    c.write(pts);
    return c.read({ seek, ids: [1n, 2n, 3n] });
  });
  const want = expected(pts, (p) => inWindow(p.time));
  assert.ok(want.length > 30);
  assert.deepEqual(got, want);
});

test('a later write of the same key replaces the earlier one, within a stream and across writes', async () => {
  const t = T0 + 5000n * SECOND;
  const got = await session('OTHER', async (c) => {
    c.write([pt(t, 50n, f32(1), 1n), pt(t, 50n, f32(2), 2n)]);
    c.write([pt(t, 51n, f32(3), 0n)]);
    c.write([pt(t, 51n, f32(4), 8n)]);
    return c.read({ seek: { first: t, last: t } });
  });
  assert.deepEqual(got, [pt(t, 50n, f32(2), 2n), pt(t, 51n, f32(4), 8n)]);
  // And from a second connection, after a reconnect.
  const again = await session('OTHER', (c) => c.read({ seek: { first: t, last: t }, ids: [51n] }));
  assert.deepEqual(again, [pt(t, 51n, f32(4), 8n)]);
});

test('a read of "everything" (tick 0 to year 9999) is clamped, not refused', async () => {
  const all = await session('PPA', (c) => c.read({ seek: { first: 0n, last: 3_155_378_975_999_999_999n } }));
  assert.deepEqual(
    all,
    expected(written, () => true),
  );
});

test('the reader option "max returned" stops the read after that many points', async () => {
  const got = await session('PPA', (c) => c.read({ maxReturned: 7n }));
  assert.deepEqual(got, expected(written, () => true).slice(0, 7));
});

test('one instance can be closed and another opened on the same connection', async () => {
  const c = await SnapdbClient.connect('127.0.0.1', port);
  await c.open('OTHER');
  await c.closeInstance();
  await c.open('PPA');
  assert.equal((await c.read({ ids: [1n] })).length, expected(written, (p) => p.pointId === 1n).length);
  await c.closeInstance();
  await c.disconnect();
  c.destroy();
});

async function expectRejected(pairs: HistorianPair[], pattern: RegExp, probeId: bigint): Promise<void> {
  const c = await SnapdbClient.connect('127.0.0.1', port);
  await c.open('REJECTS');
  c.write([pt(T0, probeId + 1000n, f32(1))]); // a good stream first: it is stored
  c.write(pairs);
  await assert.rejects(c.read(), (e: unknown) => e instanceof SnapdbClientError && pattern.test(e.message));
  assert.equal(await c.input.closed(), true, 'the server closes after the exception');
  c.destroy();
  const got = await session('REJECTS', (d) => d.read({ ids: [probeId, probeId + 1000n] }));
  assert.deepEqual(got, [pt(T0, probeId + 1000n, f32(1))], 'nothing of the rejected stream is stored');
}

test('a time outside ArborDB range rejects its write stream with the storable tick range in the message', async () => {
  await expectRejected(
    [pt(T0, 300n, f32(1)), pt(FIRST_TICKS - 1n, 300n, f32(2))],
    new RegExp(`${FIRST_TICKS} … ${LAST_TICKS}`),
    300n,
  );
  await expectRejected([pt(LAST_TICKS + 1n, 301n, f32(2))], /outside what ArborDB stores/, 301n);
  await expectRejected([pt(0n, 302n, f32(2))], /tick 0: time 0 ticks is outside/, 302n);
});

test('value2, entry numbers, 64-bit value1 and flags beyond 32 bits are refused, not dropped', async () => {
  await expectRejected([{ ...pt(T0, 310n, f32(1)), value2: 5n }], /value2 5 is not supported/, 310n);
  await expectRejected([{ ...pt(T0, 311n, f32(1)), entry: 2n }], /entry number 2/, 311n);
  await expectRejected([pt(T0, 312n, 1n << 40n)], /value1 0x10000000000/, 312n);
  await expectRejected([pt(T0, 313n, 0n, 1n << 32n)], /does not fit 32 bits/, 313n);
});

test('points at the first and last storable tick are stored', async () => {
  const pts = [pt(FIRST_TICKS, 320n, f32(1)), pt(LAST_TICKS, 320n, f32(2))];
  assert.deepEqual(
    await session('OTHER', async (c) => {
      c.write(pts);
      return c.read({ ids: [320n] });
    }),
    pts,
  );
});

/** Send raw bytes, return everything the server sends until it closes. */
async function exchange(bytes: Buffer, waitMs = 2000): Promise<Buffer> {
  const s = net.connect({ host: '127.0.0.1', port });
  const got: Buffer[] = [];
  s.on('data', (d: Buffer) => got.push(d));
  await new Promise<void>((resolve) => s.once('connect', () => resolve()));
  s.write(bytes);
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, waitMs);
    s.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
  s.destroy();
  return Buffer.concat(got);
}

const hello = () => new WireWriter().i64(HANDSHAKE_MAGIC).bool(false).u8(1);
const helloReply = '1800010002'; // 24, tls false, accepted, no ticket, connected to root

test('a wrong handshake magic is answered with UnknownProtocol and the connection closed', async () => {
  assert.equal((await exchange(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toString('hex'), '01');
});

test('an authentication mode other than none is refused', async () => {
  const b = new WireWriter().i64(HANDSHAKE_MAGIC).bool(false).u8(2).take();
  assert.equal((await exchange(b)).toString('hex'), '180000');
});

test('unknown databases, key types and root commands get their response codes, then the connection closes', async () => {
  const name = (n: string, key: string = Guid.historianKey) =>
    hello().u8(Cmd.connectToDatabase).string(n).guid(key).guid(Guid.historianValue).take();
  const nope = await exchange(name('NOPE'));
  assert.equal(nope.subarray(0, 6).toString('hex'), `${helloReply}04`);
  assert.match(nope.subarray(7).toString(), /NOPE does not exist/);
  const badKey = await exchange(name('PPA', Guid.historianValue));
  assert.equal(badKey[5], Resp.databaseKeyUnknown);
  assert.equal((await exchange(hello().u8(42).take())).toString('hex'), `${helloReply}092a`);
});

test('an unknown encoding method or database command is refused', async () => {
  const open = () => hello().u8(Cmd.connectToDatabase).string('PPA').guid(Guid.historianKey).guid(Guid.historianValue);
  const enc = await exchange(open().u8(Cmd.setEncodingMethod).u8(1).guid(Guid.pointIdMatchFilter).take());
  assert.equal(enc.toString('hex'), `${helloReply}070a`);
  const sep = await exchange(
    open().u8(Cmd.setEncodingMethod).u8(2).guid(Guid.historianKey).guid(Guid.historianValue).take(),
  );
  assert.equal(sep.toString('hex'), `${helloReply}070a`);
  assert.equal((await exchange(open().u8(99).take())).toString('hex'), `${helloReply}070d63`);
});

test('a corrupt seek filter, match filter or reader options is refused with 14, 15 or 16', async () => {
  const read = () =>
    hello().u8(Cmd.connectToDatabase).string('PPA').guid(Guid.historianKey).guid(Guid.historianValue).u8(Cmd.read);
  const seek = await exchange(read().bool(true).guid(Guid.pointIdMatchFilter).u8(1).take());
  assert.equal(seek.toString('hex'), `${helloReply}070e`);
  const windows = await exchange(
    read().bool(true).guid(Guid.timestampSeekFilter).u8(2).u64(9n).u64(1n).u64(1n).u64(1n).u64(0n).take(),
  );
  assert.equal(windows.toString('hex'), `${helloReply}070e`);
  const match = await exchange(read().bool(false).bool(true).guid(Guid.pointIdMatchFilter).u8(7).take());
  assert.equal(match.toString('hex'), `${helloReply}070f`);
  const opts = await exchange(read().bool(false).bool(false).bool(true).u8(3).take());
  assert.equal(opts.toString('hex'), `${helloReply}0710`);
});

test('commands split into single bytes or packed into one segment are parsed alike', async () => {
  const t = T0 + 9000n * SECOND;
  const pts = [pt(t, 400n, f32(1.5), 3n), pt(t + 1n, 401n, 0x7f800001n)];
  const c = await SnapdbClient.raw('127.0.0.1', port);
  const w = hello()
    .u8(Cmd.getAllDatabases)
    .u8(Cmd.connectToDatabase)
    .string('other')
    .guid(Guid.historianKey)
    .guid(Guid.historianValue)
    .u8(Cmd.setEncodingMethod)
    .u8(1)
    .guid(Guid.fixedSizeEncoding)
    .u8(Cmd.write);
  for (const p of pts) w.u8(1).u64(p.time).u64(p.pointId).u64(0n).u64(p.value1).u64(0n).u64(p.value3);
  w.u8(0);
  const bytes = w.take();
  for (const b of bytes) {
    c.socket.write(Buffer.from([b]));
    await new Promise((r) => setImmediate(r));
  }
  const head = await c.input.read((r) => {
    const out = [r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8()];
    const n = r.i32();
    for (let i = 0; i < n; i++) {
      r.u8();
      r.string();
      r.guid();
      r.guid();
      const m = r.i32();
      for (let j = 0; j < m; j++) {
        r.u8();
        r.guid();
      }
    }
    return [...out, r.u8(), r.u8()];
  });
  // KnownProtocol, no TLS, accepted, no ticket, ConnectedToRoot, ListOfDatabases …, Connected, EncodingAccepted
  assert.deepEqual(head, [24, 0, 1, 0, 2, 3, 7, 11]);
  c.destroy();
  const got = await session('OTHER', (d) => d.read({ ids: [400n, 401n] }));
  assert.deepEqual(got, pts);
});

test('closing the server stores writes that were still pending', async () => {
  const db2 = await Database.open(null);
  const s2 = await startSnapdbServer({ database: db2, address: '127.0.0.1:0' });
  const p2 = Number(s2.address.slice(s2.address.lastIndexOf(':') + 1));
  const c = await SnapdbClient.connect('127.0.0.1', p2);
  await c.open('PPA');
  c.write([pt(T0, 1n, f32(42))]);
  await new Promise((r) => setTimeout(r, 200));
  await s2.close();
  c.destroy();
  const [s] = await db2.lookupStreams({ collection: 'snapdb/PPA', isPrefix: false });
  assert.ok(s, 'the point stream exists');
  let n = 0;
  for await (const b of db2.rawValues(s.id, -(1n << 60n), 3n << 60n, 0)) n += b.value.times.length;
  assert.equal(n, 1);
  await db2.close();
});

test('reads and writes of another instance do not see each other', async () => {
  const got = await session('BENCH', (c) => c.read());
  assert.deepEqual(got, []);
  const spec: ReadSpec = { ids: [1n] };
  assert.ok((await session('PPA', (c) => c.read(spec))).length > 0);
});

test('two connections writing the same new point concurrently create one stream', async () => {
  const t = T0 + 20_000n * SECOND;
  const writers = await Promise.all([0, 1, 2].map(() => SnapdbClient.connect('127.0.0.1', port)));
  await Promise.all(writers.map((c) => c.open('OTHER')));
  writers.forEach((c, i) => {
    c.write([pt(t + BigInt(i), 500n, f32(i))]);
  });
  await Promise.all(writers.map((c) => c.read({ maxReturned: 1n }))); // each has inserted its write
  for (const c of writers) c.destroy();
  const streams = await db.lookupStreams({ collection: 'snapdb/OTHER', isPrefix: false });
  assert.equal(streams.filter((s) => s.tags.name === '500').length, 1);
  const got = await session('OTHER', (c) => c.read({ ids: [500n] }));
  assert.deepEqual(
    got,
    [0, 1, 2].map((i) => pt(t + BigInt(i), 500n, f32(i))),
  );
});

test('a write becomes visible to other connections without the writer sending anything else', async () => {
  const t = T0 + 30_000n * SECOND;
  const writer = await SnapdbClient.connect('127.0.0.1', port);
  await writer.open('OTHER');
  writer.write([pt(t, 600n, f32(6))]);
  let got: HistorianPair[] = [];
  for (let i = 0; i < 100 && got.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    got = await session('OTHER', (c) => c.read({ ids: [600n] }));
  }
  writer.destroy();
  assert.deepEqual(got, [pt(t, 600n, f32(6))]);
});

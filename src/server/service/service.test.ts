/**
 * The service layer against a real in-memory Database: request validation, DbError → in-band
 * Status, message splitting and the BTrDB quirks of guide §3–§4.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Table as ArrowTable, Field, Float64, Int64, Schema, tableFromIPC, tableToIPC } from 'apache-arrow';
import type { StreamId } from '../../core/types.ts';
import { streamIdToBytes } from '../../core/uuid.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import {
  decodeArrowMultiValues,
  decodeArrowPoints,
  decodeArrowWindows,
  type KeyOptValue,
  MergePolicy,
  QueryType,
  rawValuesToArrow,
  SubscriptionUpdateOp,
} from '../../wire/index.ts';
import { localContext } from './context.ts';
import { createBTrDBService } from './service.ts';
import type { BTrDBService } from './service-types.ts';

let db: Database;
let svc: BTrDBService;
const faults: number[] = [];
const ctx = localContext();
const run = randomUUID().slice(0, 8);
let n = 0;

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const kv = (key: string, value?: string): KeyOptValue => (value === undefined ? { key } : { key, val: { value } });

async function newStream(tags?: KeyOptValue[], annotations: KeyOptValue[] = []) {
  n++;
  tags ??= [kv('name', `s${n}`)];
  const id = randomUUID() as StreamId;
  const uuid = streamIdToBytes(id);
  const collection = `svc/${run}/c${n}`;
  const r = await svc.Create({ uuid, collection, tags, annotations }, ctx);
  assert.equal(r.stat, undefined, r.stat?.msg);
  return { id, uuid, collection };
}

function points(ts: number[], vs?: number[]) {
  return { times: BigInt64Array.from(ts, BigInt), values: Float64Array.from(vs ?? ts.map((t) => t * 10)) };
}

async function insert(uuid: Uint8Array, ts: number[], vs?: number[], policy = 0) {
  const r = await svc.Insert({ uuid, sync: false, values: points(ts, vs), merge_policy: policy }, ctx);
  assert.equal(r.stat, undefined, r.stat?.msg);
  return r.versionMajor;
}

const raw = (uuid: Uint8Array, start: bigint, end: bigint, versionMajor = 0n) =>
  all(svc.RawValues({ uuid, start, end, versionMajor }, ctx));

before(async () => {
  db = await openDatabase(null);
  svc = createBTrDBService(db, {
    pointsPerMessage: 1000,
    proxyEndpoints: ['127.0.0.1:4410'],
    enableFaultInject: false,
  });
});
after(async () => {
  await db.close();
});

describe('service: server RPCs', () => {
  test('Info reports protocol 5.34, the build and the proxy endpoints', async () => {
    const r = await svc.Info({}, ctx);
    assert.equal(r.majorVersion, 5);
    assert.equal(r.minorVersion, 34);
    assert.match(r.build, /arbordb/);
    assert.deepEqual(r.proxy?.proxyEndpoints, ['127.0.0.1:4410']);
  });

  test('FaultInject answers 424 unless enabled, and calls the hook when enabled', async () => {
    const r = await svc.FaultInject({ type: 1n, params: new Uint8Array(0) }, ctx);
    assert.equal(r.stat?.code, 424);
    const on = createBTrDBService(db, { enableFaultInject: true, onFault: (_k, d) => faults.push(d) });
    const ok = await on.FaultInject({ type: 2n, params: new TextEncoder().encode('250') }, ctx);
    assert.equal(ok.stat, undefined);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(faults, [250]);
    const bad = await on.FaultInject({ type: 9n, params: new Uint8Array(0) }, ctx);
    assert.equal(bad.stat?.code, 438);
  });

  test('an unauthenticated context is refused in-band', async () => {
    const r = await svc.Info({}, { auth: { ok: false, keyIndex: null }, signal: new AbortController().signal });
    assert.equal(r.stat?.code, 402);
    const s = await all(
      svc.ListCollections({ prefix: '' }, { auth: { ok: false, keyIndex: null }, signal: ctx.signal }),
    );
    assert.equal(s.length, 1);
    assert.equal(s[0]!.stat?.code, 402);
  });
});

describe('service: stream metadata', () => {
  test('Create then StreamInfo gives the descriptor at property version 1 with name, unit and ingress', async () => {
    const { id, uuid, collection } = await newStream([kv('name', 'volts1'), kv('unit', 'V')], [kv('poc', 'me')]);
    const r = await svc.StreamInfo({ uuid, omitVersion: false, omitDescriptor: false }, ctx);
    assert.equal(r.stat, undefined);
    const d = r.descriptor!;
    assert.deepEqual(Buffer.from(d.uuid).toString('hex'), id.replace(/-/g, ''));
    assert.equal(d.collection, collection);
    assert.equal(d.propertyVersion, 1n);
    const tags = Object.fromEntries(d.tags.map((t) => [t.key, t.val?.value]));
    assert.deepEqual(tags, { name: 'volts1', unit: 'V', ingress: '' });
    assert.deepEqual(d.annotations, [kv('poc', 'me')]);
    assert.ok(r.versionMajor > 0n);
  });

  test('Create reads an absent val as the empty string (btrdb-python always sets it)', async () => {
    const { uuid } = await newStream([kv('name', `q${n}`), kv('unit')]);
    const r = await svc.StreamInfo({ uuid, omitVersion: true, omitDescriptor: false }, ctx);
    assert.equal(r.versionMajor, 0n);
    assert.equal(r.descriptor!.tags.find((t) => t.key === 'unit')?.val?.value, '');
  });

  test('StreamInfo answers 421 with both omit flags, 404 for an unknown uuid, 438 for a 15-byte uuid', async () => {
    const { uuid } = await newStream();
    assert.equal((await svc.StreamInfo({ uuid, omitVersion: true, omitDescriptor: true }, ctx)).stat?.code, 421);
    const unknown = streamIdToBytes(randomUUID() as StreamId);
    assert.equal(
      (await svc.StreamInfo({ uuid: unknown, omitVersion: false, omitDescriptor: false }, ctx)).stat?.code,
      404,
    );
    const short = (await svc.StreamInfo({ uuid: uuid.subarray(1), omitVersion: false, omitDescriptor: false }, ctx))
      .stat;
    assert.equal(short?.code, 438);
    assert.match(short!.msg, /16 bytes/);
  });

  test('Create answers 417 for a live uuid, 407 for a bad collection, 408 for a bad tag key, 429 after obliterate', async () => {
    const { uuid, collection } = await newStream();
    const again = await svc.Create(
      { uuid, collection: `${collection}x`, tags: [kv('name', 'z')], annotations: [] },
      ctx,
    );
    assert.equal(again.stat?.code, 417);
    const fresh = streamIdToBytes(randomUUID() as StreamId);
    assert.equal((await svc.Create({ uuid: fresh, collection: '', tags: [], annotations: [] }, ctx)).stat?.code, 407);
    assert.equal(
      (await svc.Create({ uuid: fresh, collection: 'a', tags: [kv('colour', 'red')], annotations: [] }, ctx)).stat
        ?.code,
      408,
    );
    assert.equal((await svc.Obliterate({ uuid }, ctx)).stat, undefined);
    assert.equal((await svc.StreamInfo({ uuid, omitVersion: false, omitDescriptor: false }, ctx)).stat?.code, 404);
    assert.equal(
      (await svc.Create({ uuid, collection, tags: [kv('name', 'r')], annotations: [] }, ctx)).stat?.code,
      429,
    );
  });

  test('SetStreamAnnotations upserts with val, removes without, checks the property version (423)', async () => {
    const { uuid } = await newStream(undefined, [kv('a', '1'), kv('b', '2'), kv('c', '3')]);
    const stale = await svc.SetStreamAnnotations({ uuid, expectedPropertyVersion: 7n, changes: [], removals: [] }, ctx);
    assert.equal(stale.stat?.code, 423);
    const r = await svc.SetStreamAnnotations(
      {
        uuid,
        expectedPropertyVersion: 1n,
        changes: [kv('a', '10'), kv('b'), kv('d', '4')],
        removals: ['c', 'missing'],
      },
      ctx,
    );
    assert.equal(r.stat, undefined, r.stat?.msg);
    const d = (await svc.StreamInfo({ uuid, omitVersion: false, omitDescriptor: false }, ctx)).descriptor!;
    assert.equal(d.propertyVersion, 2n);
    assert.deepEqual(Object.fromEntries(d.annotations.map((a) => [a.key, a.val?.value])), { a: '10', d: '4' });
  });

  test('SetStreamTags keeps the collection for "" and moves it otherwise', async () => {
    const { uuid, collection } = await newStream([kv('name', 'tagme'), kv('unit', 'A')]);
    assert.equal(
      (
        await svc.SetStreamTags(
          { uuid, expectedPropertyVersion: 1n, tags: [kv('unit', 'kA')], collection: '', remove: [] },
          ctx,
        )
      ).stat,
      undefined,
    );
    let d = (await svc.StreamInfo({ uuid, omitVersion: false, omitDescriptor: false }, ctx)).descriptor!;
    assert.equal(d.collection, collection);
    assert.equal(d.tags.find((t) => t.key === 'unit')?.val?.value, 'kA');
    const moved = `${collection}/moved`;
    assert.equal(
      (await svc.SetStreamTags({ uuid, expectedPropertyVersion: 2n, tags: [], collection: moved, remove: [] }, ctx))
        .stat,
      undefined,
    );
    d = (await svc.StreamInfo({ uuid, omitVersion: false, omitDescriptor: false }, ctx)).descriptor!;
    assert.equal(d.collection, moved);
    assert.equal(d.propertyVersion, 3n);
  });

  test('more than 4096 metadata entries in one request is 438', async () => {
    const { uuid } = await newStream();
    const changes = Array.from({ length: 5000 }, (_, i) => kv(`k${i}`, 'v'));
    const r = await svc.SetStreamAnnotations({ uuid, expectedPropertyVersion: 1n, changes, removals: [] }, ctx);
    assert.equal(r.stat?.code, 438);
  });
});

describe('service: lookups and SQL', () => {
  test('LookupStreams filters by prefix or exact collection, tag value and annotation presence', async () => {
    const base = `svc/${run}/lookup`;
    const mk = async (collection: string, name: string, ann: KeyOptValue[]) => {
      const uuid = streamIdToBytes(randomUUID() as StreamId);
      assert.equal(
        (await svc.Create({ uuid, collection, tags: [kv('name', name)], annotations: ann }, ctx)).stat,
        undefined,
      );
    };
    await mk(`${base}/a`, 'x', [kv('site', 'north')]);
    await mk(`${base}/a`, 'y', []);
    await mk(`${base}/ab`, 'x', [kv('site', 'south')]);
    const q = async (
      collection: string,
      isCollectionPrefix: boolean,
      tags: KeyOptValue[],
      annotations: KeyOptValue[],
    ) => {
      const msgs = await all(svc.LookupStreams({ collection, isCollectionPrefix, tags, annotations }, ctx));
      assert.ok(msgs.every((m) => m.stat === undefined));
      return msgs
        .flatMap((m) => m.results)
        .map((d) => `${d.collection}:${d.tags.find((t) => t.key === 'name')?.val?.value}`)
        .sort();
    };
    assert.deepEqual(await q(`${base}/a`, true, [], []), [`${base}/a:x`, `${base}/a:y`, `${base}/ab:x`]);
    assert.deepEqual(await q(`${base}/a`, false, [], []), [`${base}/a:x`, `${base}/a:y`]);
    assert.deepEqual(await q(base, true, [kv('name', 'x')], []), [`${base}/a:x`, `${base}/ab:x`]);
    assert.deepEqual(await q(base, true, [], [kv('site')]), [`${base}/a:x`, `${base}/ab:x`]);
    assert.deepEqual(await q(base, true, [], [kv('site', 'south')]), [`${base}/ab:x`]);
    const cols = (await all(svc.ListCollections({ prefix: base }, ctx))).flatMap((m) => m.collections);
    assert.deepEqual(cols, [`${base}/a`, `${base}/ab`]);
    const usage = await svc.GetMetadataUsage({ prefix: base }, ctx);
    assert.equal(usage.annotations.find((k) => k.key === 'site')?.count, 2n);
    assert.equal(usage.tags.find((k) => k.key === 'name')?.count, 3n);
  });

  test('SQLQuery answers each row as UTF-8 JSON and rejects non-SELECT with 441', async () => {
    const { collection } = await newStream([kv('name', 'sqlname'), kv('unit', 'Hz')]);
    const msgs = await all(
      svc.SQLQuery({ query: 'select name, unit from streams where collection = $1', params: [collection] }, ctx),
    );
    const rows = msgs.flatMap((m) => m.SQLQueryRow).map((b) => JSON.parse(new TextDecoder().decode(b)));
    assert.deepEqual(rows, [{ name: 'sqlname', unit: 'Hz' }]);
    const bad = await all(svc.SQLQuery({ query: 'delete from streams', params: [] }, ctx));
    assert.equal(bad.length, 1);
    assert.equal(bad[0]!.stat?.code, 441);
  });
});

describe('service: data', () => {
  test('RawValues streams ascending points in messages of at most pointsPerMessage, at the insert version', async () => {
    const { uuid } = await newStream();
    const ts = Array.from({ length: 2500 }, (_, i) => 2500 - i); // descending: the server sorts
    const v = await insert(uuid, ts);
    const msgs = await raw(uuid, 0n, 10_000n);
    assert.deepEqual(
      msgs.map((m) => m.values.times.length),
      [1000, 1000, 500],
    );
    const times = msgs.flatMap((m) => [...m.values.times]);
    assert.deepEqual(
      times,
      Array.from({ length: 2500 }, (_, i) => BigInt(i + 1)),
    );
    assert.ok(msgs.every((m) => m.versionMajor === v && m.stat === undefined));
    const empty = await raw(uuid, 20_000n, 30_000n);
    assert.equal(empty.length, 1);
    assert.equal(empty[0]!.values.times.length, 0);
    assert.equal(empty[0]!.versionMajor, v);
  });

  test('bad inserts are rejected whole (425 NaN, 413 time, 438 policy) and change nothing', async () => {
    const { uuid } = await newStream();
    await insert(uuid, [1, 2, 3]);
    const nan = await svc.Insert({ uuid, sync: false, values: points([4, 5], [1, Number.NaN]), merge_policy: 0 }, ctx);
    assert.equal(nan.stat?.code, 425);
    const late = await svc.Insert(
      {
        uuid,
        sync: false,
        values: { times: BigInt64Array.of(6n, 48n << 56n), values: Float64Array.of(1, 2) },
        merge_policy: 0,
      },
      ctx,
    );
    assert.equal(late.stat?.code, 413);
    const pol = await svc.Insert({ uuid, sync: false, values: points([7]), merge_policy: 9 }, ctx);
    assert.equal(pol.stat?.code, 438);
    const msgs = await raw(uuid, 0n, 100n);
    assert.deepEqual(
      msgs.flatMap((m) => [...m.values.times]),
      [1n, 2n, 3n],
    );
  });

  test('merge policies act within one batch (two points at time 110)', async () => {
    const counts: number[] = [];
    for (const policy of [MergePolicy.NEVER, MergePolicy.EQUAL, MergePolicy.RETAIN, MergePolicy.REPLACE]) {
      const { uuid } = await newStream();
      await insert(uuid, [100, 110, 110], [1, 2, 3], policy);
      counts.push((await raw(uuid, 0n, 1000n)).flatMap((m) => [...m.values.times]).length);
    }
    assert.deepEqual(counts, [3, 3, 2, 2]);
  });

  test('reads answer 413 for a reversed range, 415 for pw 64 or width 0, 450 for a version above 2^53', async () => {
    const { uuid } = await newStream();
    await insert(uuid, [1]);
    assert.equal((await raw(uuid, 10n, 5n))[0]!.stat?.code, 413);
    const aw = await all(svc.AlignedWindows({ uuid, start: 0n, end: 100n, versionMajor: 0n, pointWidth: 64 }, ctx));
    assert.equal(aw[0]!.stat?.code, 415);
    const w = await all(svc.Windows({ uuid, start: 0n, end: 100n, versionMajor: 0n, width: 0n, depth: 0 }, ctx));
    assert.equal(w[0]!.stat?.code, 415);
    assert.equal((await raw(uuid, 0n, 10n, 1n << 60n))[0]!.stat?.code, 450);
    assert.equal((await raw(uuid, 0n, 10n, 99_999n))[0]!.stat?.code, 450);
  });

  test('AlignedWindows, Windows and their Arrow forms agree, and empty answers keep one message', async () => {
    const { uuid } = await newStream();
    await insert(uuid, [0, 1, 2, 3, 16, 17], [2, 3, 4, 5, 6, 7]);
    const aw = (
      await all(svc.AlignedWindows({ uuid, start: 0n, end: 64n, versionMajor: 0n, pointWidth: 4 }, ctx))
    ).flatMap((m) => m.values);
    assert.deepEqual(
      aw.map((s) => [s.time, s.count, s.min, s.max]),
      [
        [0n, 4, 2, 5],
        [16n, 2, 6, 7],
      ],
    );
    assert.ok(Math.abs(aw[0]!.stddev - Math.sqrt(1.25)) < 1e-12);
    const arrow = await all(
      svc.ArrowAlignedWindows({ uuid, start: 0n, end: 64n, versionMajor: 0n, pointWidth: 4 }, ctx),
    );
    const cols = decodeArrowWindows(arrow[0]!.arrowBytes);
    assert.deepEqual([...cols.times], [0n, 16n]);
    assert.deepEqual(
      [...cols.mean],
      aw.map((s) => s.mean),
    );
    assert.deepEqual(
      [...cols.stddev],
      aw.map((s) => s.stddev),
    );
    const win = (
      await all(svc.Windows({ uuid, start: 0n, end: 30n, versionMajor: 0n, width: 10n, depth: 0 }, ctx))
    ).flatMap((m) => m.values);
    assert.deepEqual(
      win.map((s) => [s.time, s.count]),
      [
        [0n, 4],
        [10n, 2],
        [20n, 0],
      ],
    );
    const emptyArrow = await all(
      svc.ArrowWindows({ uuid, start: 1000n, end: 2000n, versionMajor: 0n, width: 2000n, depth: 0 }, ctx),
    );
    assert.equal(emptyArrow.length, 1);
    assert.equal(tableFromIPC(emptyArrow[0]!.arrowBytes).schema.fields.length, 6);
  });

  test('Nearest answers 401 when there is no point, else the forward (≥) or backward (<) neighbour', async () => {
    const { uuid } = await newStream();
    await insert(uuid, [10, 20]);
    const f = await svc.Nearest({ uuid, time: 10n, versionMajor: 0n, backward: false }, ctx);
    assert.deepEqual(f.value, { time: 10n, value: 100 });
    const b = await svc.Nearest({ uuid, time: 20n, versionMajor: 0n, backward: true }, ctx);
    assert.deepEqual(b.value, { time: 10n, value: 100 });
    const none = await svc.Nearest({ uuid, time: 21n, versionMajor: 0n, backward: false }, ctx);
    assert.equal(none.stat?.code, 401);
    assert.equal(none.value, undefined);
  });

  test('Delete makes a new version while the old one keeps the points; Changes reports it; 427 when from > to', async () => {
    const { uuid } = await newStream();
    const v1 = await insert(uuid, [1, 2, 3]);
    await svc.Flush({ uuid }, ctx);
    const flushed = (await svc.StreamInfo({ uuid, omitVersion: false, omitDescriptor: true }, ctx)).versionMajor;
    const d = await svc.Delete({ uuid, start: 2n, end: 3n }, ctx);
    assert.equal(d.stat, undefined);
    assert.ok(d.versionMajor > flushed && flushed >= v1);
    assert.deepEqual(
      (await raw(uuid, 0n, 10n)).flatMap((m) => [...m.values.times]),
      [1n, 3n],
    );
    assert.deepEqual(
      (await raw(uuid, 0n, 10n, flushed)).flatMap((m) => [...m.values.times]),
      [1n, 2n, 3n],
    );
    const ch = (
      await all(svc.Changes({ uuid, fromMajor: flushed, toMajor: d.versionMajor, resolution: 0 }, ctx))
    ).flatMap((m) => m.ranges);
    assert.ok(ch.some((r) => r.start <= 2n && r.end > 2n));
    const bad = await all(
      svc.Changes({ uuid, fromMajor: d.versionMajor + 5n, toMajor: d.versionMajor, resolution: 0 }, ctx),
    );
    assert.equal(bad[0]!.stat?.code, 427);
    const badRes = await all(svc.Changes({ uuid, fromMajor: 1n, toMajor: 0n, resolution: 64 }, ctx));
    assert.equal(badRes[0]!.stat?.code, 415);
    assert.equal((await svc.Delete({ uuid, start: 5n, end: 5n }, ctx)).stat?.code, 413);
  });

  test('ArrowInsert takes several record batches or none, ArrowRawValues honours a template, garbage is 438', async () => {
    const { uuid } = await newStream();
    const a = rawValuesToArrow(points([1, 2]));
    const b = rawValuesToArrow(points([3]));
    const two = tableToIPC(new ArrowTable([...tableFromIPC(a).batches, ...tableFromIPC(b).batches]), 'stream');
    const r = await svc.ArrowInsert({ uuid, sync: false, merge_policy: 0, arrowBytes: two }, ctx);
    assert.equal(r.stat, undefined, r.stat?.msg);
    const none = await svc.ArrowInsert(
      { uuid, sync: false, merge_policy: 0, arrowBytes: rawValuesToArrow(points([])) },
      ctx,
    );
    assert.equal(none.stat, undefined, none.stat?.msg);
    assert.equal(none.versionMajor, r.versionMajor);
    const junk = await svc.ArrowInsert({ uuid, sync: false, merge_policy: 0, arrowBytes: Uint8Array.of(1, 2, 3) }, ctx);
    assert.equal(junk.stat?.code, 438);
    const template = tableToIPC(
      new ArrowTable(new Schema([new Field('t', new Int64(), false), new Field('v', new Float64(), true)])),
      'stream',
    );
    const msgs = await all(
      svc.ArrowRawValues({ uuid, start: 0n, end: 10n, versionMajor: 0n, templateBytes: template }, ctx),
    );
    const t = tableFromIPC(msgs[0]!.arrowBytes);
    assert.deepEqual(
      t.schema.fields.map((f) => f.name),
      ['t', 'v'],
    );
    assert.deepEqual([...decodeArrowPoints(msgs[0]!.arrowBytes).times], [1n, 2n, 3n]);
  });

  test('ArrowMultiValues joins on time with NaN for missing cells, and snaps halves up to the grid', async () => {
    const s1 = await newStream();
    const s2 = await newStream();
    await insert(s1.uuid, [10, 30], [1, 3]);
    await insert(s2.uuid, [20, 30], [2, 33]);
    const msgs = await all(
      svc.ArrowMultiValues(
        {
          uuid: [s1.uuid, s2.uuid],
          versionMajor: [0n, 0n],
          start: 0n,
          end: 100n,
          snapPeriodNs: 0n,
          templateBytes: new Uint8Array(0),
        },
        ctx,
      ),
    );
    const j = decodeArrowMultiValues(msgs[0]!.arrowBytes);
    assert.deepEqual([...j.times], [10n, 20n, 30n]);
    assert.deepEqual(j.names, [s1.id, s2.id]);
    assert.deepEqual([...j.columns[0]!], [1, Number.NaN, 3]);
    assert.deepEqual([...j.columns[1]!], [Number.NaN, 2, 33]);
    // Period 10 from start 0: 34 → 30, 35 → 40 (half up), −5 → 0 (before start), 96 → 100 (dropped).
    const s3 = await newStream();
    await insert(s3.uuid, [-5, 34, 35, 96], [1, 2, 3, 4]);
    const snapped = decodeArrowMultiValues(
      (
        await all(
          svc.ArrowMultiValues(
            {
              uuid: [s3.uuid],
              versionMajor: [0n],
              start: 0n,
              end: 100n,
              snapPeriodNs: 10n,
              templateBytes: new Uint8Array(0),
            },
            ctx,
          ),
        )
      )[0]!.arrowBytes,
    );
    assert.deepEqual([...snapped.times], [0n, 30n, 40n]);
    assert.deepEqual([...snapped.columns[0]!], [1, 2, 3]);
    const empty = await all(
      svc.ArrowMultiValues(
        {
          uuid: [s1.uuid],
          versionMajor: [0n],
          start: 500n,
          end: 600n,
          snapPeriodNs: 0n,
          templateBytes: new Uint8Array(0),
        },
        ctx,
      ),
    );
    assert.equal(empty.length, 1);
    assert.equal(tableFromIPC(empty[0]!.arrowBytes).numRows, 0);
  });

  test('GenerateCSV sends a header then one row per message, blanks where a stream has no point', async () => {
    const s1 = await newStream();
    const s2 = await newStream();
    await insert(s1.uuid, [1, 2], [1.5, 2.5]);
    await insert(s2.uuid, [2], [7]);
    const msgs = await all(
      svc.GenerateCSV(
        {
          queryType: QueryType.RAW_QUERY,
          startTime: 0n,
          endTime: 10n,
          windowSize: 0n,
          depth: 0,
          includeVersions: false,
          streams: [
            { version: 0n, label: 'a', uuid: s1.uuid },
            { version: 0n, label: 'b', uuid: s2.uuid },
          ],
        },
        ctx,
      ),
    );
    assert.deepEqual(msgs[0], { isHeader: true, row: ['Timestamp (ns)', 'Human-Readable Time (UTC)', 'a', 'b'] });
    assert.deepEqual(
      msgs.slice(1).map((m) => [m.row[0], m.row[2], m.row[3]]),
      [
        ['1', '1.5', ''],
        ['2', '2.5', '7'],
      ],
    );
    assert.equal(msgs[1]!.row[1], '1970-01-01T00:00:00.000000001Z');
  });

  test('Subscribe pushes each inserted batch of a subscribed stream and answers 404 for an unknown one', async () => {
    const { uuid } = await newStream();
    const ac = new AbortController();
    const updates = (async function* () {
      yield { op: SubscriptionUpdateOp.ADD_UUIDS, uuid: [uuid] };
      await new Promise((r) => setTimeout(r, 60_000));
    })();
    const it = svc
      .Subscribe(updates, { auth: { ok: true, keyIndex: null }, signal: ac.signal })
      [Symbol.asyncIterator]();
    const first = it.next();
    await new Promise((r) => setTimeout(r, 100));
    await insert(uuid, [5, 6]);
    const got = await first;
    assert.equal(got.done, false);
    assert.deepEqual([...decodeArrowPoints(got.value!.arrowBytes).times], [5n, 6n]);
    ac.abort();
    assert.equal((await it.next()).done, true);
    const unknown = svc.Subscribe(
      (async function* () {
        yield { op: SubscriptionUpdateOp.ADD_UUIDS, uuid: [streamIdToBytes(randomUUID() as StreamId)] };
      })(),
      ctx,
    );
    const msgs = await all(unknown);
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0]!.stat?.code, 404);
  });
});

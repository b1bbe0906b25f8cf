import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { MAX_TIME, MIN_TIME } from '../core/time.ts';
import type { PointBatch, StreamId } from '../core/types.ts';
import { seededRng } from '../storage/index.ts';
import { exportArchive, importArchive, readArchiveManifest } from './archive.ts';
import { AttachedBackend } from './attached-backend.ts';
import type { Backend } from './backend.ts';
import { type Database, openDatabase } from './database.ts';

const T0 = 1_700_000_000_000_000_000n;
const SEC = 1_000_000_000n;
const ids = {
  a: '00000000-0000-4000-8000-0000000a0001' as StreamId,
  b: '00000000-0000-4000-8000-0000000a0002' as StreamId,
  other: '00000000-0000-4000-8000-0000000a0003' as StreamId,
};

interface Pt {
  t: bigint;
  v: number;
  f: number;
}

/** Every point of a stream, flags as 0 where the stream carries none. */
async function read(b: Backend, id: StreamId, start: bigint = MIN_TIME, end: bigint = MAX_TIME): Promise<Pt[]> {
  const out: Pt[] = [];
  for await (const c of b.rawValues(id, start, end, 0)) {
    for (let i = 0; i < c.value.times.length; i++)
      out.push({ t: c.value.times[i]!, v: c.value.values[i]!, f: c.value.flags?.[i] ?? 0 });
  }
  return out;
}

function batch(n: number, from: bigint, rnd: () => number, flags: boolean): PointBatch {
  const times = BigInt64Array.from({ length: n }, (_, i) => from + BigInt(i) * (SEC / 30n));
  const values = Float64Array.from({ length: n }, () => Math.round(rnd() * 1e6) / 1e3);
  return flags
    ? { times, values, flags: Uint32Array.from({ length: n }, () => Math.floor(rnd() * 2 ** 32)) }
    : { times, values };
}

let tmp: string;
let live: Database;
const model = new Map<StreamId, Pt[]>();

describe('archives', () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-archive-'));
    live = await openDatabase(path.join(tmp, 'live'), { background: false });
    const rnd = seededRng(3);
    for (const [key, collection] of [
      ['a', 'edge/site1'],
      ['b', 'edge'],
      ['other', 'edge2'],
    ] as const) {
      await live.create({ id: ids[key], collection, tags: { name: key, unit: 'V' }, annotations: { station: 'S' } });
      const pts: Pt[] = [];
      for (let k = 0; k < 4; k++) {
        const b = batch(5_000, T0 + BigInt(k) * 1000n * SEC, rnd, key === 'a');
        await live.insert(ids[key], b);
        for (let i = 0; i < b.times.length; i++) pts.push({ t: b.times[i]!, v: b.values[i]!, f: b.flags?.[i] ?? 0 });
      }
      model.set(ids[key], pts);
    }
  });
  after(async () => {
    await live.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const start = T0 + 500n * SEC;
  const end = T0 + 2500n * SEC;
  const inRange = (id: StreamId) => model.get(id)!.filter((p) => p.t >= start && p.t < end);

  it('exports a collection and a time range, flags included, with a manifest that counts it', async () => {
    const dir = path.join(tmp, 'arch1');
    const seen: number[] = [];
    const m = await exportArchive(live, dir, { collection: 'edge', start, end }, 'live', (p) =>
      seen.push(p.streamsDone),
    );
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(m.streams.map((s) => s.uuid).sort(), [ids.a, ids.b].sort());
    for (const s of m.streams) {
      const want = inRange(s.uuid as StreamId);
      assert.equal(s.points, want.length);
      assert.equal(s.first, String(want[0]!.t));
      assert.equal(s.last, String(want.at(-1)!.t));
    }
    assert.deepEqual(readArchiveManifest(dir), m);
    await assert.rejects(
      exportArchive(live, dir, { collection: 'edge', start, end }, 'live'),
      (e) => isDbError(e, 438) && /not empty/.test(e.message),
    );
  });

  it('refuses a directory without a manifest as an interrupted export', async () => {
    const dir = path.join(tmp, 'half');
    fs.mkdirSync(dir);
    assert.throws(
      () => readArchiveManifest(dir),
      (e) => isDbError(e, 438) && /interrupted export/.test(e.message),
    );
  });

  it('imports into another database: streams created with their metadata, points exact, a second import adds nothing', async () => {
    const dest = await openDatabase(null, { background: false });
    try {
      const r1 = await importArchive(path.join(tmp, 'arch1'), dest);
      assert.equal(r1.created, 2);
      assert.equal(r1.points, inRange(ids.a).length + inRange(ids.b).length);
      for (const id of [ids.a, ids.b]) assert.deepEqual(await read(dest, id), inRange(id));
      const d = (await dest.streamInfo(ids.a)).descriptor;
      assert.equal(d.collection, 'edge/site1');
      assert.equal(d.tags.unit, 'V');
      assert.equal(d.annotations.station, 'S');
      const r2 = await importArchive(path.join(tmp, 'arch1'), dest);
      assert.equal(r2.created, 0);
      for (const id of [ids.a, ids.b])
        assert.deepEqual(await read(dest, id), inRange(id), 'no duplicates after a second import');
    } finally {
      await dest.close();
    }
  });

  it('fills a gap in a stream that has the data around it (edge → central backfill)', async () => {
    const dest = await openDatabase(null, { background: false });
    try {
      await dest.create({
        id: ids.b,
        collection: 'edge',
        tags: { name: 'b', unit: 'V' },
        annotations: { station: 'S' },
      });
      const all = model.get(ids.b)!;
      const outside = all.filter((p) => p.t < start || p.t >= end);
      await dest.insert(ids.b, {
        times: BigInt64Array.from(outside.map((p) => p.t)),
        values: Float64Array.from(outside.map((p) => p.v)),
      });
      await importArchive(path.join(tmp, 'arch1'), dest);
      assert.deepEqual(await read(dest, ids.b), all);
    } finally {
      await dest.close();
    }
  });

  it('attaches an archive read-only alongside live data: reads and lookups see it, writes are refused', async () => {
    const other = await openDatabase(null, { background: false });
    await other.create({ id: ids.b, collection: 'edge', tags: { name: 'b-live', unit: 'V' }, annotations: {} });
    const ab = new AttachedBackend(other);
    try {
      const info = await ab.attach(path.join(tmp, 'arch1'), 'y2023');
      assert.equal(info.streams, 1);
      assert.deepEqual(info.shadowed, [ids.b], 'a uuid that exists live is served live');
      assert.deepEqual(await read(ab, ids.a), inRange(ids.a));
      assert.deepEqual(await read(ab, ids.b), [], 'the live copy of b (empty) wins');
      assert.deepEqual(
        (await ab.lookupStreams({ collection: 'edge', isPrefix: true })).map((s) => s.id).sort(),
        [ids.a, ids.b].sort(),
      );
      assert.deepEqual(await ab.listCollections('edge'), ['edge', 'edge/site1']);
      const pw = 1n << 34n; // whole aligned windows around the archive's range
      const w = await ab.alignedWindows(ids.a, (start / pw) * pw, (end / pw + 1n) * pw, 34, 0);
      const n = w.value.reduce((acc, s) => acc + s.count, 0);
      assert.equal(n, inRange(ids.a).length, 'window statistics come from the archive');
      const near = await ab.nearest(ids.a, MAX_TIME - 1n, true, 0);
      assert.equal(near?.value.time, inRange(ids.a).at(-1)!.t);
      await assert.rejects(
        ab.insert(ids.a, { times: BigInt64Array.of(T0), values: Float64Array.of(1) }, 'never'),
        (e) => isDbError(e, 403) && /y2023/.test(e.message) && /read-only/.test(e.message),
      );
      await assert.rejects(ab.delete(ids.a, MIN_TIME, MAX_TIME), (e) => isDbError(e, 403));
      await assert.rejects(ab.obliterate(ids.a), (e) => isDbError(e, 403));
      await assert.rejects(ab.setTags(ids.a, 1, { unit: 'A' }, '', []), (e) => isDbError(e, 421));
      await assert.rejects(ab.create({ id: ids.a, collection: 'x', tags: { name: 'x' }, annotations: {} }), (e) =>
        isDbError(e, 417),
      );
      await assert.rejects(ab.attach(path.join(tmp, 'arch1'), 'y2023'), (e) => isDbError(e, 438));
      assert.deepEqual(await read(ab, ids.a), inRange(ids.a), 'nothing changed by the refused writes');
      await ab.detach('y2023');
      await assert.rejects(ab.streamInfo(ids.a), (e) => isDbError(e, 404));
    } finally {
      await ab.close();
      await other.close();
    }
  });
});

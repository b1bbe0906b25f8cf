/**
 * Backup and restore of an embedded Database, checked against the independent reference model in
 * test/model: random inserts (every merge policy), deletes and flushes on several streams, with
 * metadata changes and an obliterated stream; a backup taken while some acknowledged inserts are
 * still only in the WAL; more writes after it; then a restore whose every stream, retained version,
 * point and metadata field must equal the model's state at the backup — and nothing written later.
 * Damaged backups must be refused with the damaged file named, writing nothing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mulberry32, randomOps } from '../../test/model/random-ops.ts';
import { assertPointsEqual, ReferenceStream } from '../../test/model/reference-stream.ts';
import { DbError, isDbError } from '../core/errors.ts';
import { MAX_TIME, MIN_TIME } from '../core/time.ts';
import type { StreamDescriptor, StreamId } from '../core/types.ts';
import { backupDatabase } from './backup.ts';
import { BACKUP_FILE, encodeBackupManifest, readBackupManifest } from './backup-format.ts';
import { restoreBackup } from './backup-restore.ts';
import { Database } from './database.ts';

const ids = [1, 2, 3, 4, 5].map((i) => `00000000-0000-4000-8000-00000000000${i}` as StreamId);
const GONE = ids[4]!;

interface StreamAtBackup {
  descriptor: StreamDescriptor;
  versions: number[];
  /** Model state at each retained version whose content the test knows. */
  known: Map<number, ReferenceStream>;
  latest: ReferenceStream;
}

/** Apply seeded random writes to one stream, keeping the model state of every version. */
async function churn(db: Database, id: StreamId, seed: number, count: number, model: ReferenceStream) {
  const states = new Map<number, ReferenceStream>();
  for (const op of randomOps(seed, count)) {
    if (op.kind === 'insert') {
      const v = await db.insert(
        id,
        { times: BigInt64Array.from(op.points.map((p) => p.t)), values: Float64Array.from(op.points.map((p) => p.v)) },
        op.policy,
      );
      model.insert(op.points, op.policy);
      states.set(v, model.snapshot());
    } else if (op.kind === 'delete') {
      const v = await db.delete(id, op.start, op.end);
      model.deleteRange(op.start, op.end);
      states.set(v, model.snapshot());
    } else if (op.kind === 'flush') {
      states.set(await db.flush(id), model.snapshot());
    }
  }
  return states;
}

async function allPoints(db: Database, id: StreamId, version: number) {
  return db.engine.valuesArray(id, MIN_TIME, MAX_TIME, version);
}

describe('backup and restore of an embedded database', () => {
  let root: string;
  let src: string;
  let bak: string;
  const expected = new Map<StreamId, StreamAtBackup>();

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-backup-'));
    src = path.join(root, 'src');
    bak = path.join(root, 'bak');
    // No background commits: they happen on flush, on a read barrier, or for the backup.
    const db = await Database.open(src, { background: false });
    try {
      const models = new Map<StreamId, ReferenceStream>();
      const states = new Map<StreamId, Map<number, ReferenceStream>>();
      for (const [i, id] of ids.entries()) {
        await db.create({
          id,
          collection: `plant/unit${i % 2}`,
          tags: { name: `ch${i}`, unit: i === 2 ? 'A' : 'V', ...(i === 1 ? { distiller: '' } : {}) },
          annotations: i === 0 ? {} : { site: `s${i}`, note: 'a "quoted", comma' },
          allowNonFinite: i === 3,
        });
        models.set(id, new ReferenceStream());
        states.set(id, new Map());
      }
      await db.setAnnotations(ids[1]!, 1, { extra: 'x', site: null }, []);
      await db.setTags(ids[2]!, 1, { unit: 'kA' }, 'plant/moved', []);
      const rnd = mulberry32(99);
      for (const [i, id] of ids.entries()) {
        const got = await churn(db, id, 1000 + i, 120, models.get(id)!);
        for (const [v, m] of got) states.get(id)!.set(v, m);
        // Compaction rolls to a new block segment: the backup then spans several.
        if (i % 2 === 1) await db.compact();
      }
      await db.obliterate(GONE);
      // Acknowledged but not committed: in the WAL only when the backup starts.
      for (const id of ids.slice(0, 4)) {
        const t = 1_800_000_000_000_000_000n + BigInt(Math.floor(rnd() * 1e6));
        await db.insert(id, { times: BigInt64Array.of(t, t + 1n), values: Float64Array.of(1.5, -0) });
        models.get(id)!.insert(
          [
            { t, v: 1.5 },
            { t: t + 1n, v: -0 },
          ],
          'never',
        );
        assert.ok(db.engine.versionsOf(id).length > 0);
      }
      const report = await backupDatabase(db, bak);
      assert.equal(report.streams, 4);
      const segs = readBackupManifest(bak).files.filter((f) => f.path.startsWith('blocks/'));
      assert.ok(segs.length >= 3, `backup holds ${segs.length} block segments`);
      for (const id of ids.slice(0, 4)) {
        const versions = db.engine.versionsOf(id).map((v) => v.version);
        const known = new Map<number, ReferenceStream>();
        for (const v of versions) {
          const m = states.get(id)!.get(v);
          if (m) known.set(v, m);
        }
        expected.set(id, {
          descriptor: (await db.streamInfo(id)).descriptor,
          versions,
          known,
          latest: models.get(id)!.snapshot(),
        });
      }
      // Written after the backup: must not appear in the restore.
      await db.insert(ids[0]!, { times: BigInt64Array.of(1n), values: Float64Array.of(42) });
      await db.flush(ids[0]!);
      await db.setAnnotations(ids[0]!, 1, { later: 'yes' }, []);
      await db.compact({ keepVersions: 1 });
    } finally {
      await db.close();
    }
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('a restored directory holds every stream, version, point and metadata field as at the backup', async () => {
    const dst = path.join(root, 'restored');
    const r = await restoreBackup(bak, dst);
    assert.deepEqual(r.check?.problems, []);
    assert.equal(r.check?.streams, 4);
    const db = await Database.open(dst, { background: false });
    try {
      assert.deepEqual(new Set(db.engine.streamIds()), new Set(ids.slice(0, 4)));
      let versionsCompared = 0;
      for (const [id, e] of expected) {
        assert.deepEqual((await db.streamInfo(id)).descriptor, e.descriptor, `metadata of ${id}`);
        assert.deepEqual(
          db.engine.versionsOf(id).map((v) => v.version),
          e.versions,
          `retained versions of ${id}`,
        );
        const latest = e.versions.at(-1)!;
        assertPointsEqual(await allPoints(db, id, 0), e.latest.values(MIN_TIME, MAX_TIME), `${id} latest`);
        assertPointsEqual(await allPoints(db, id, latest), e.latest.values(MIN_TIME, MAX_TIME), `${id} v${latest}`);
        for (const [v, m] of e.known) {
          assertPointsEqual(await allPoints(db, id, v), m.values(MIN_TIME, MAX_TIME), `${id} v${v}`);
          versionsCompared++;
        }
      }
      assert.ok(versionsCompared > 20, `only ${versionsCompared} old versions compared`);
      const gone = await db.create({ id: GONE, collection: 'plant/again', tags: { name: 'x' }, annotations: {} }).then(
        () => null,
        (err: unknown) => err,
      );
      assert.ok(isDbError(gone, 429), `re-creating the obliterated stream: ${String(gone)}`);
      // The restored directory takes writes like any other.
      const v = await db.insert(ids[0]!, { times: BigInt64Array.of(5n), values: Float64Array.of(7) });
      assert.ok(v > e0Latest(expected));
    } finally {
      await db.close();
    }
    const again = await Database.open(dst, { background: false });
    try {
      const p = await again.engine.valuesArray(ids[0]!, 5n, 6n);
      assert.deepEqual([...p.values], [7], 'a write made after the restore survives a reopen');
      assert.deepEqual((await again.check()).problems, []);
    } finally {
      await again.close();
    }
  });

  it('restore refuses a non-empty target and writes nothing there', async () => {
    const dst = path.join(root, 'busy');
    fs.mkdirSync(dst);
    fs.writeFileSync(path.join(dst, 'keep.txt'), 'mine');
    await assert.rejects(restoreBackup(bak, dst), (e: unknown) => isDbError(e, 438) && /not empty/.test(e.message));
    assert.deepEqual(fs.readdirSync(dst), ['keep.txt']);
  });

  it('backup refuses a non-empty target', async () => {
    const db = await Database.open(path.join(root, 'src'), { background: false });
    try {
      await assert.rejects(backupDatabase(db, bak), (e: unknown) => isDbError(e, 438));
    } finally {
      await db.close();
    }
  });

  it('a restore that fails after verification leaves no directory behind', async () => {
    const copy = path.join(root, 'bad-catalog-rows');
    fs.cpSync(bak, copy, { recursive: true });
    // Checksums all match, but the catalog rows cannot be loaded.
    const csv = Buffer.from(
      'uuid,collection,name,unit,ingress,distiller,property_version,annotations\nnot-a-uuid,a,b,c,d,,1,\n',
    );
    fs.writeFileSync(path.join(copy, 'catalog', 'streams.csv'), csv);
    const m = readBackupManifest(copy);
    const files = m.files.map((f) =>
      f.path === 'catalog/streams.csv'
        ? { ...f, bytes: csv.length, sha256: createHash('sha256').update(csv).digest('hex') }
        : f,
    );
    fs.writeFileSync(path.join(copy, BACKUP_FILE), encodeBackupManifest({ ...m, files }));
    const dst = path.join(root, 'restore-bad-rows');
    await assert.rejects(
      restoreBackup(copy, dst),
      (e: unknown) => isDbError(e, 500) && /catalog_stream/.test(e.message),
    );
    assert.equal(fs.existsSync(dst), false);
  });

  it('a backup of a data directory with a damaged block fails, names the block, and leaves nothing behind', async () => {
    const broken = path.join(root, 'broken-src');
    fs.cpSync(src, broken, { recursive: true });
    const segs = fs.readdirSync(path.join(broken, 'blocks')).sort();
    const victim = path.join(broken, 'blocks', segs[0]!);
    const bytes = fs.readFileSync(victim);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    fs.writeFileSync(victim, bytes);
    const db = await Database.open(broken, { background: false });
    const dst = path.join(root, 'bak-of-broken');
    try {
      await assert.rejects(backupDatabase(db, dst), (e: unknown) => isDbError(e, 500) && e.location?.file === victim);
    } finally {
      await db.close();
    }
    assert.equal(fs.existsSync(dst), false);
  });

  for (const target of ['blocks', 'manifest', 'catalog/streams.csv', 'BACKUP', 'missing'] as const) {
    it(`a damaged backup (${target}) is refused with the damaged file named, and nothing is restored`, async () => {
      const copy = path.join(root, `bad-${target.replace('/', '-')}`);
      fs.cpSync(bak, copy, { recursive: true });
      const listed = readBackupManifest(copy).files;
      let victim: string;
      if (target === 'BACKUP') {
        victim = path.join(copy, BACKUP_FILE);
        const text = fs.readFileSync(victim, 'utf8');
        fs.writeFileSync(victim, text.replace('"streams":4', '"streams":5'));
      } else if (target === 'missing') {
        const f = listed.find((x) => x.path.startsWith('blocks/'))!;
        victim = path.join(copy, f.path);
        fs.rmSync(victim);
      } else {
        const f = listed.find((x) => x.path.startsWith(target))!;
        victim = path.join(copy, f.path);
        const bytes = fs.readFileSync(victim);
        const at = Math.floor(bytes.length / 2);
        bytes[at] = (bytes[at] ?? 0) ^ 0x10;
        fs.writeFileSync(victim, bytes);
      }
      const dst = path.join(root, `restore-${target.replace('/', '-')}`);
      const err = await restoreBackup(copy, dst).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof DbError, `expected a DbError, got ${String(err)}`);
      assert.equal(err.code, 500);
      assert.ok(err.message.includes(victim), `message names ${victim}: ${err.message}`);
      assert.equal(err.location?.file, victim);
      assert.equal(fs.existsSync(dst), false, 'nothing was written');
    });
  }
});

function e0Latest(expected: Map<StreamId, StreamAtBackup>): number {
  return expected.get(ids[0]!)!.versions.at(-1)!;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY, MAX_TIME, MIN_TIME } from '../core/time.ts';
import type { StreamId } from '../core/types.ts';
import { seededRng } from '../storage/index.ts';
import { applyDataRetention, covers, parseRetentionRule, RetentionRuleError } from './data-retention.ts';
import { type Database, openDatabase } from './database.ts';

const NOW = 1_800_000_000_000_000_000n;

async function make(db: Database, collection: string, n: number): Promise<StreamId> {
  const id = `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}` as StreamId;
  await db.create({ id, collection, tags: { name: `s${n}` }, annotations: {} });
  return id;
}

/** Every point of a stream at the latest version, as [time, value] pairs. */
async function all(db: Database, id: StreamId): Promise<[bigint, number][]> {
  const out: [bigint, number][] = [];
  for await (const b of db.rawValues(id, MIN_TIME, MAX_TIME, 0)) {
    for (let i = 0; i < b.value.times.length; i++) out.push([b.value.times[i]!, b.value.values[i]!]);
  }
  return out;
}

describe('data retention rules', () => {
  it('parses ages and sizes and refuses anything else with the rule in the message', () => {
    assert.deepEqual(parseRetentionRule('pmu=30d'), { collection: 'pmu', maxAgeNs: 30n * DAY });
    assert.deepEqual(parseRetentionRule('edge/site1=10GB'), { collection: 'edge/site1', maxBytes: 10e9 });
    assert.deepEqual(parseRetentionRule('a=2h, 512MiB'), {
      collection: 'a',
      maxAgeNs: 7_200_000_000_000n,
      maxBytes: 512 * 2 ** 20,
    });
    for (const bad of ['pmu', '=30d', 'pmu=', 'pmu=30', 'pmu=30y', 'pmu=1.5d', 'pmu=0d', 'pmu=1d,2d', 'pmu=0GB']) {
      assert.throws(
        () => parseRetentionRule(bad),
        (e) => e instanceof RetentionRuleError && e.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
  });

  it('covers a collection and its sub-collections, not siblings sharing a prefix', () => {
    assert.ok(covers('edge', 'edge'));
    assert.ok(covers('edge', 'edge/site1/pmu3'));
    assert.ok(!covers('edge', 'edge2'));
    assert.ok(!covers('edge/site1', 'edge'));
    assert.ok(covers('', 'edge/site1'), 'the empty prefix covers every collection');
  });
});

describe('applyDataRetention', () => {
  it('drops exactly the points older than the age, only in covered collections, prunes the versions that held them, and is idempotent', async () => {
    const db = await openDatabase(null, { background: false });
    try {
      const covered = [await make(db, 'edge', 1), await make(db, 'edge/site1', 2)];
      const other = [await make(db, 'edge2', 3), await make(db, 'central', 4)];
      const model = new Map<StreamId, [bigint, number][]>();
      const rnd = seededRng(5);
      for (const id of [...covered, ...other]) {
        const pts: [bigint, number][] = [];
        // 10 days of points, one batch per day so each stream has several versions.
        for (let d = 10n; d > 0n; d--) {
          const times: bigint[] = [];
          const values: number[] = [];
          for (let i = 0; i < 500; i++) {
            const t = NOW - d * DAY + BigInt(Math.floor(rnd() * Number(DAY)));
            times.push(t);
            values.push(rnd());
          }
          const order = times
            .map((_, i) => i)
            .sort((a, b) => (times[a]! < times[b]! ? -1 : times[a]! > times[b]! ? 1 : 0));
          const batch = {
            times: BigInt64Array.from(order.map((i) => times[i]!)),
            values: Float64Array.from(order.map((i) => values[i]!)),
          };
          await db.insert(id, batch);
          await db.flush(id);
          for (const i of order) pts.push([times[i]!, values[i]!]);
        }
        pts.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        model.set(id, pts);
      }
      const versionsBefore = new Map(other.map((id) => [id, db.engine.versionsOf(id).length]));

      const rule = parseRetentionRule('edge=3d');
      const r = await applyDataRetention(db, [rule], NOW);
      const cutoff = NOW - 3n * DAY;
      assert.equal(r.rules[0]?.streams, 2);
      assert.equal(r.rules[0]?.cutoff, cutoff);
      let dropped = 0;
      for (const id of covered) {
        const want = model.get(id)!.filter(([t]) => t >= cutoff);
        dropped += model.get(id)!.length - want.length;
        assert.deepEqual(await all(db, id), want, `covered stream ${id}`);
        // The versions that still held the dropped points are gone: only the delete's version is left.
        assert.equal(db.engine.versionsOf(id).length, 1);
      }
      assert.equal(r.rules[0]?.pointsDropped, dropped);
      assert.ok(r.compaction !== null);
      for (const id of other) {
        assert.deepEqual(await all(db, id), model.get(id), `uncovered stream ${id}`);
        assert.equal(db.engine.versionsOf(id).length, versionsBefore.get(id), 'other streams keep every version');
      }

      const versions = covered.map((id) => db.engine.versionsOf(id).at(-1)?.version);
      const again = await applyDataRetention(db, [rule], NOW);
      assert.equal(again.rules[0]?.pointsDropped, 0);
      assert.equal(again.compaction, null, 'nothing to drop: nothing written');
      assert.deepEqual(
        covered.map((id) => db.engine.versionsOf(id).at(-1)?.version),
        versions,
      );
    } finally {
      await db.close();
    }
  });

  it('keeps a collection within its byte budget forever, dropping the oldest data across its streams first', async () => {
    const db = await openDatabase(null, { background: false });
    try {
      const ids = [await make(db, 'edge/a', 1), await make(db, 'edge/b', 2)];
      const budget = 400_000;
      const rule = parseRetentionRule(`edge=${budget}B`);
      const rnd = seededRng(11);
      const model = new Map<StreamId, [bigint, number][]>(ids.map((id) => [id, []]));
      let t = NOW;
      let lastCutoff = MIN_TIME as bigint;
      let storeBytes: number[] = [];
      for (let round = 0; round < 24; round++) {
        // An "hour" of 120 Hz data per stream; noisy values (~8 bytes per point after encoding).
        for (const id of ids) {
          const n = 12_000;
          const times = new BigInt64Array(n);
          const values = new Float64Array(n);
          for (let i = 0; i < n; i++) {
            times[i] = t + BigInt(Math.floor((i * 1e9) / 120));
            values[i] = rnd() * 1000;
          }
          await db.insert(id, { times, values });
          await db.flush(id);
          model.get(id)?.push(...[...times].map((x, i): [bigint, number] => [x, values[i]!]));
        }
        t += 100n * 1_000_000_000n;
        const r = await applyDataRetention(db, [rule], t);
        const rr = r.rules[0]!;
        if (rr.cutoff !== null) {
          assert.ok(rr.cutoff >= lastCutoff, 'the cutoff only moves forward');
          lastCutoff = rr.cutoff;
          for (const [id, pts] of model)
            model.set(
              id,
              pts.filter(([x]) => x >= rr.cutoff!),
            );
        }
        if (r.compaction) storeBytes.push(r.compaction.bytesAfter);
        // What is left is exactly everything newer than the cutoff, in every covered stream.
        for (const id of ids) assert.deepEqual(await all(db, id), model.get(id), `round ${round}, stream ${id}`);
        const after = await applyDataRetention(db, [rule], t);
        assert.ok(
          after.rules[0]!.bytesBefore <= budget,
          `round ${round}: ${after.rules[0]!.bytesBefore} bytes over the ${budget} budget`,
        );
        assert.equal(after.rules[0]!.pointsDropped, 0, 'under budget: nothing more to drop');
      }
      assert.ok(lastCutoff > NOW, 'old data was dropped');
      // The store does not grow with the rounds: the whole block store (every retained version,
      // free space in segments not yet reclaimed) stays within a small multiple of the budget.
      storeBytes = storeBytes.slice(storeBytes.length / 2);
      for (const b of storeBytes) assert.ok(b < 3 * budget, `block store ${b} bytes, budget ${budget}`);
    } finally {
      await db.close();
    }
  });
});

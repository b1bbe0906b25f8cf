// End to end: an Engine whose blocks and WAL live in an object store (ObjectBlockStore,
// ObjectRecordLog over MemoryObjectStore) and whose manifest is a file record log on a MemoryEnv,
// checked against the independent reference model in test/model across reopens by new owners
// (higher epochs), compactions, and a takeover while the old owner is still running.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../../src/core/errors.ts';
import type { StreamId } from '../../src/core/types.ts';
import { checkEngine } from '../../src/engine/check.ts';
import { Engine, type EngineOptions } from '../../src/engine/engine.ts';
import { MemoryEnv, openRecordLog } from '../../src/storage/index.ts';
import { MemoryObjectStore } from '../../src/storage/memory-object-store.ts';
import { ObjectBlockStore } from '../../src/storage/object-block-store.ts';
import { ObjectRecordLog } from '../../src/storage/object-record-log.ts';
import { mulberry32, randomOps } from '../model/random-ops.ts';
import { assertPointsEqual, ReferenceStream } from '../model/reference-stream.ts';

const IDS = [1, 2, 3].map((i) => `00000000-0000-4000-8000-00000000000${i}` as StreamId);
const ALL_START = -(1n << 60n);
const ALL_END = 48n << 56n;

/** One shard's remote storage: a bucket, a segment id counter (the cluster's PostgreSQL sequence), a manifest. */
class Shard {
  readonly objects = new MemoryObjectStore();
  readonly env = new MemoryEnv();
  private nextSegment = 1;
  epoch = 0;

  async open(opts: EngineOptions = {}): Promise<Engine> {
    this.epoch++;
    const store = this.objects.peer();
    const blocks = await ObjectBlockStore.open(store, {
      prefix: 'shard-00/blocks',
      allocateSegmentIds: async (n) => Array.from({ length: n }, () => this.nextSegment++),
    });
    const wal = await ObjectRecordLog.open(store, { prefix: 'shard-00/wal', epoch: this.epoch });
    const manifest = await openRecordLog(this.env, '/manifest');
    return Engine.open({ blocks, wal, manifest, dir: 'memory shard-00' }, { background: false, ...opts });
  }
}

const batchOf = (points: readonly { t: bigint; v: number }[]) => ({
  times: BigInt64Array.from(points.map((p) => p.t)),
  values: Float64Array.from(points.map((p) => p.v)),
});

describe('Engine over object storage', () => {
  it('keeps every point of three streams across compactions and reopens by owners with higher epochs', async () => {
    for (const seed of [1, 2, 3]) {
      const shard = new Shard();
      let engine = await shard.open({ commitPoints: 200 });
      const models = new Map(IDS.map((id) => [id, new ReferenceStream()] as const));
      for (const id of IDS) await engine.createStream(id);
      const rnd = mulberry32(seed);
      const ops = randomOps(seed, 300);
      for (const [n, op] of ops.entries()) {
        const id = IDS[n % IDS.length] as StreamId;
        const model = models.get(id) as ReferenceStream;
        if (op.kind === 'insert') {
          await engine.insert(id, batchOf(op.points), op.policy);
          model.insert(op.points, op.policy);
        } else if (op.kind === 'delete') {
          await engine.delete(id, op.start, op.end);
          model.deleteRange(op.start, op.end);
        } else if (op.kind === 'flush') {
          await engine.flush(id);
          const r = rnd();
          if (r < 0.2) await engine.compact({ keepVersions: 2 });
          else if (r < 0.5) {
            await engine.close();
            engine = await shard.open({ commitPoints: 200 });
          }
        }
      }
      // Unflushed inserts live only in the WAL: the next owner must replay them.
      await engine.close();
      engine = await shard.open();
      for (const [id, model] of models) {
        assertPointsEqual(await engine.valuesArray(id, ALL_START, ALL_END), model.all(), `seed ${seed} ${id}`);
      }
      assert.deepEqual((await checkEngine(engine)).problems, [], `seed ${seed}: verifier problems`);
      assert.ok(shard.epoch > 2, `seed ${seed}: reopened ${shard.epoch - 1} times`);
      await engine.close();
    }
  });

  it('a node that lost the shard cannot acknowledge an insert once the new owner has opened', async () => {
    const shard = new Shard();
    const old = await shard.open();
    const id = IDS[0] as StreamId;
    await old.createStream(id);
    const acked = new ReferenceStream();
    for (let i = 0; i < 20; i++) {
      const points = [{ t: 1_700_000_000_000_000_000n + BigInt(i) * 1000n, v: i }];
      await old.insert(id, batchOf(points));
      acked.insert(points, 'never');
    }
    const next = await shard.open();
    await assert.rejects(old.insert(id, batchOf([{ t: 1_800_000_000_000_000_000n, v: -1 }])), (e: unknown) =>
      isDbError(e, 453),
    );
    assertPointsEqual(await next.valuesArray(id, ALL_START, ALL_END), acked.all(), 'new owner');
    await next.close();
    await old.close().catch(() => {});
  });
});

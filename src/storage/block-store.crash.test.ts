/**
 * Power-failure tests: a scripted workload of puts, syncs, rolls and deletes is crashed just before
 * every durability step N in turn (FaultyEnv.crashAtStep over a MemoryEnv), with the unsynced
 * tails lost, torn, garbled or zeroed; then the store is reopened and checked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DbError } from '../core/errors.ts';
import { block } from './block-store.conformance.ts';
import { openBlockStore } from './block-store-open.ts';
import { FaultyEnv } from './faulty-env.ts';
import { MemoryEnv } from './memory-env.ts';
import type { TornMode } from './memory-file.ts';
import { seededRng } from './seeded-rng.ts';
import type { BlockRef } from './types.ts';

const DIR = '/db/blocks';
const OPTS = { segmentBytes: 12_000 };

interface Outcome {
  /** Blocks whose sync resolved, and are in segments not deleted. */
  readonly acked: Map<BlockRef, Uint8Array>;
  /** Every block put, acknowledged or not. */
  readonly all: Map<BlockRef, Uint8Array>;
  /** Set when the workload stopped on an error. */
  error: unknown;
}

async function workload(env: FaultyEnv): Promise<Outcome> {
  const out: Outcome = { acked: new Map(), all: new Map(), error: undefined };
  let staged: BlockRef[] = [];
  const put = (s: { put(b: Uint8Array): BlockRef }, seed: number, n: number) => {
    const b = block(seed, n);
    const ref = s.put(b);
    out.all.set(ref, b);
    staged.push(ref);
    return ref;
  };
  const ack = (refs: BlockRef[]) => {
    for (const r of refs) out.acked.set(r, out.all.get(r) as Uint8Array);
  };
  try {
    const s = await openBlockStore(env, DIR, OPTS);
    let seed = 0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3; i++) put(s, seed++, 1000 + ((seed * 977) % 3000));
      const covered = staged;
      staged = [];
      await s.sync();
      ack(covered);
    }
    // Two concurrent syncs with a put in between.
    put(s, seed++, 2500);
    const first = staged;
    staged = [];
    const p1 = s.sync();
    put(s, seed++, 700);
    const second = [...first, ...staged];
    staged = [];
    const p2 = s.sync();
    const [r1, r2] = await Promise.allSettled([p1, p2]);
    if (r1.status === 'fulfilled') ack(first);
    if (r2.status === 'fulfilled') ack(second);
    if (r2.status === 'rejected') throw r2.reason;
    // Compaction-like: roll, rewrite, delete the oldest segment.
    s.rollSegment();
    put(s, seed++, 900);
    const covered = staged;
    staged = [];
    await s.sync();
    ack(covered);
    for (const r of [...out.acked.keys()]) if (Math.floor(r.addr / 2 ** 32) === 1) out.acked.delete(r);
    await s.deleteSegments([1]);
    put(s, seed++, 1200);
    await s.close();
    ack(staged);
  } catch (e) {
    out.error = e;
  }
  return out;
}

const MODES: readonly (TornMode | false)[] = [false, 'prefix', 'garbage', 'zeros'];

describe('BlockStore crash at every durability step', () => {
  it('every acknowledged block is intact after a crash at any step, and the store stays usable', async () => {
    const probe = new FaultyEnv(new MemoryEnv());
    const clean = await workload(probe);
    assert.equal(clean.error, undefined);
    const total = probe.steps;
    assert.ok(total > 10, `the workload has ${total} durability steps`);
    for (let n = 1; n <= total + 1; n++) {
      for (const torn of MODES) {
        const what = `crash before step ${n}/${total}, torn ${torn}`;
        const mem = new MemoryEnv();
        const faults = new FaultyEnv(mem);
        faults.crashAtStep(n);
        const run = await workload(faults);
        if (n <= total) assert.ok(run.error instanceof DbError, `${what}: errors are DbErrors (${run.error})`);
        mem.crash({ torn: torn === false ? false : torn, rng: seededRng(n) });
        const s = await openBlockStore(mem, DIR, OPTS);
        assert.deepEqual(s.recovery.damaged, [], what);
        for (const [ref, bytes] of run.acked) assert.deepEqual(await s.get(ref), bytes, `${what}: acked ${ref.addr}`);
        // An unacknowledged block is either intact or reported; never wrong bytes.
        for (const [ref, bytes] of run.all) {
          if (run.acked.has(ref)) continue;
          try {
            assert.deepEqual(await s.get(ref), bytes, `${what}: unacked ${ref.addr}`);
          } catch (e) {
            if (!(e instanceof DbError)) throw e;
          }
        }
        const fresh = s.put(block(999, 1500));
        await s.sync();
        assert.deepEqual(await s.get(fresh), block(999, 1500), what);
        await s.close();
      }
    }
  });
});

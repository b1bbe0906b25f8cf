/**
 * Power-failure tests for the record log: a workload of appends, (group) syncs, rolls and a
 * truncateBefore is crashed just before every durability step N, with unsynced tails lost, torn,
 * garbled or zeroed; the log is reopened and its replay checked against what was acknowledged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DbError } from '../core/errors.ts';
import { FaultyEnv } from './faulty-env.ts';
import { MemoryEnv } from './memory-env.ts';
import type { TornMode } from './memory-file.ts';
import { collect, rec } from './record-log.conformance.ts';
import { openRecordLog } from './record-log-open.ts';
import { seededRng } from './seeded-rng.ts';
import type { Lsn } from './types.ts';

const DIR = '/db/wal';
const OPTS = { segmentBytes: 700 };

interface Outcome {
  /** Every record appended, by LSN, in order. */
  readonly appended: Map<Lsn, Uint8Array>;
  /** LSNs whose sync resolved. */
  readonly acked: Set<Lsn>;
  /** Records below this LSN may be gone: truncateBefore was called with it. */
  truncatedBefore: Lsn;
  error: unknown;
}

async function workload(env: FaultyEnv): Promise<Outcome> {
  const out: Outcome = { appended: new Map(), acked: new Set(), truncatedBefore: 0, error: undefined };
  try {
    const log = await openRecordLog(env, DIR, OPTS);
    let i = 0;
    const append = () => {
      const payload = rec(i, 20 + ((i * 53) % 90));
      i++;
      const lsn = log.append(payload);
      out.appended.set(lsn, payload);
      return lsn;
    };
    const commit = async (lsns: Lsn[]) => {
      await log.sync();
      for (const l of lsns) out.acked.add(l);
    };
    for (let round = 0; round < 3; round++) await commit([append(), append(), append()]);
    // Group commit: 8 writers, each appends and syncs.
    const writers = Array.from({ length: 8 }, () => commit([append()]));
    const settled = await Promise.allSettled(writers);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    await commit([append()]);
    await log.roll();
    await commit([append(), append()]);
    const cut = [...out.acked].sort((a, b) => a - b)[6] ?? 0;
    out.truncatedBefore = cut;
    await log.truncateBefore(cut);
    await commit([append(), append(), append(), append()]);
    const last = append();
    await log.close();
    out.acked.add(last);
  } catch (e) {
    out.error = e;
  }
  return out;
}

const MODES: readonly (TornMode | false)[] = [false, 'prefix', 'garbage', 'zeros'];

describe('RecordLog crash at every durability step', () => {
  it('replay holds every acknowledged record, only real records, in order, and the log stays usable', async () => {
    const probe = new FaultyEnv(new MemoryEnv());
    const clean = await workload(probe);
    assert.equal(clean.error, undefined);
    const total = probe.steps;
    assert.ok(total > 10, `the workload has ${total} durability steps`);
    const order = (o: Outcome) => [...o.appended.keys()].sort((a, b) => a - b);
    for (let n = 1; n <= total + 1; n++) {
      for (const torn of MODES) {
        const what = `crash before step ${n}/${total}, torn ${torn}`;
        const mem = new MemoryEnv();
        const faults = new FaultyEnv(mem);
        faults.crashAtStep(n);
        const run = await workload(faults);
        if (n <= total) assert.ok(run.error instanceof DbError, `${what}: errors are DbErrors (${run.error})`);
        mem.crash({ torn: torn === false ? false : torn, rng: seededRng(n * 7 + 1) });
        const log = await openRecordLog(mem, DIR, OPTS);
        const got = await collect(log);
        // Only real records, each at the LSN it was appended at, forming one contiguous run.
        const lsns = order(run);
        const first = lsns.indexOf(got[0]?.lsn ?? -1);
        for (const [k, r] of got.entries()) {
          assert.equal(r.lsn, lsns[first + k], `${what}: record ${k} is the next appended one`);
          assert.deepEqual(r.payload, run.appended.get(r.lsn), `${what}: payload at ${r.lsn}`);
        }
        // Every acknowledged record not released by truncateBefore is there.
        const present = new Set(got.map((r) => r.lsn));
        for (const l of run.acked) {
          if (l >= run.truncatedBefore) assert.ok(present.has(l), `${what}: acked record ${l} replayed`);
        }
        const lastAcked = Math.max(0, ...run.acked);
        assert.ok(log.nextLsn > lastAcked, `${what}: LSNs never go back over acknowledged records`);
        const lsn = log.append(rec(1234));
        await log.sync();
        assert.deepEqual((await collect(log, lsn))[0]?.payload, rec(1234), what);
        await log.close();
      }
    }
  });
});

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { KILL_MODES, serverKillLoop } from './server-kill-loop.ts';

// Three cycles = one of each kill mode (random, right after a flush, during compaction); the long
// run is `npm run crashloop -- --cycles 100`.
const CYCLES = Number(process.env.ARBOR_SERVER_KILL_CYCLES ?? 3);

it(
  `keeps every acknowledged point, stream and metadata change across ${CYCLES} SIGKILLs of arbor serve under gRPC ingest`,
  { timeout: 600_000 },
  async () => {
    // arbor check runs after the last kill and after the graceful stop (each run costs seconds).
    const r = await serverKillLoop({ cycles: CYCLES, minMs: 400, maxMs: 1200, fullEvery: CYCLES, checkEvery: CYCLES });
    assert.deepEqual(r.problems, []);
    assert.equal(r.lost, 0, 'points lost');
    assert.equal(r.duplicated, 0, 'points duplicated');
    assert.equal(r.cycles, CYCLES);
    assert.ok(r.batchesAcked >= CYCLES, `only ${r.batchesAcked} batches were acknowledged`);
    assert.ok(r.streamsCreated > 1, 'no stream was created');
    if (CYCLES >= KILL_MODES.length) for (const m of KILL_MODES) assert.ok(r.kills[m] > 0, `no ${m} kill`);
    // After the kill of the last cycle and after the graceful stop.
    assert.ok(r.checks >= 2, 'arbor check did not run');
    assert.ok(r.fullVerifications >= 1, 'no full verification');
    assert.ok(r.compactionsDone + r.midCompaction > 0, 'the server never compacted');
  },
);

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { killLoop } from './kill-loop.ts';

const CYCLES = Number(process.env.ARBOR_KILL_CYCLES ?? 20);

it(
  `keeps every acknowledged point exactly once across ${CYCLES} SIGKILLs of an ingesting process`,
  {
    timeout: 900_000,
  },
  async () => {
    const r = await killLoop({ cycles: CYCLES, minMs: 100, maxMs: 1200 });
    assert.equal(r.cycles, CYCLES);
    assert.ok(r.batchesVerified > CYCLES, `only ${r.batchesVerified} batches were acknowledged`);
    assert.equal(r.lost, 0, 'points lost');
    assert.equal(r.duplicated, 0, 'points duplicated');
    assert.deepEqual(r.problems, []);
  },
);

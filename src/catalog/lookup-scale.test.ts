/**
 * Lookups on a catalog of 5 000 streams return the right streams; latencies are printed, not
 * asserted (benchmarks are programs: bench-lookup.ts runs the same workload at 100 000 streams).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { percentile, sid } from './catalog-testing.ts';
import { loadWorkload, timeRuns, workloadStream } from './lookup-workload.ts';
import { openPgliteCatalog, type PgliteCatalog } from './pglite-catalog.ts';

const N = 5000;
let cat: PgliteCatalog;
before(async () => {
  cat = await openPgliteCatalog(null);
  const rate = await loadWorkload(cat, N);
  console.log(`bulk create: ${Math.round(rate)} streams/s`);
});
after(async () => {
  await cat.close();
});

test('collection + name lookups over 5 000 streams find exactly the one stream', async () => {
  const lat = await timeRuns(1000, async (k) => {
    const i = (k * 7919) % N;
    const w = workloadStream(i);
    const got = await cat.lookup({ collection: w.collection, isPrefix: false, tags: { name: `s${i}` } });
    assert.equal(got.length, 1);
    assert.equal(got[0]?.id, sid(i + 1));
  });
  console.log(
    `exact collection + name: p50 ${percentile(lat, 50).toFixed(3)} ms, p99 ${percentile(lat, 99).toFixed(3)} ms`,
  );
});

test('prefix + tag + annotation lookups over 5 000 streams return the right set', async () => {
  const want = (sub: number): string[] => {
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const w = workloadStream(i);
      if (w.collection.startsWith(`grid/sub${sub}/`) && w.tags.unit === 'V' && w.annotations.phase === 'A')
        ids.push(w.id);
    }
    return ids.sort();
  };
  const answers = new Map<number, string[]>();
  const lat = await timeRuns(300, async (k) => {
    const sub = k % 500;
    const got = await cat.lookup({
      collection: `grid/sub${sub}/`,
      isPrefix: true,
      tags: { unit: 'V' },
      annotations: { phase: 'A', site: null },
    });
    answers.set(sub, got.map((m) => m.id).sort());
  });
  for (const [sub, ids] of answers) assert.deepEqual(ids, want(sub), `sub${sub}`);
  console.log(
    `prefix + unit + annotations: p50 ${percentile(lat, 50).toFixed(3)} ms, p99 ${percentile(lat, 99).toFixed(3)} ms`,
  );
});

test('single creates are one statement each', async () => {
  const lat = await timeRuns(200, (k) => cat.create({ ...workloadStream(N + k), collection: 'single' }));
  const rate = 1000 / (lat.reduce((a, b) => a + b, 0) / lat.length);
  console.log(`single create (in memory): ${Math.round(rate)} streams/s, p99 ${percentile(lat, 99).toFixed(3)} ms`);
  assert.equal(await cat.count(), N + 200);
});

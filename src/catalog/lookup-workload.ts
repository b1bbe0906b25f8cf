/**
 * The synthetic catalog used by the lookup scale test and bench-lookup.ts: `n` PMU-like streams in
 * `grid/sub<k>/pmu<j>` collections (~10 streams per collection), named `<quantity><phase>`-style
 * with a unique suffix, each annotated with its site and phase.
 */
import { sid } from './catalog-testing.ts';
import type { Catalog, NewStream } from './types.ts';

export function workloadStream(i: number): NewStream {
  return {
    id: sid(i + 1),
    collection: `grid/sub${i % 500}/pmu${Math.floor(i / 500) % 20}`,
    tags: { name: `s${i}`, unit: i % 2 === 0 ? 'V' : 'A', ingress: 'c37.118' },
    annotations: { site: `site${i % 50}`, phase: ['A', 'B', 'C'][i % 3] ?? 'A', rate: '30' },
  };
}

/** Bulk-create streams 0..n-1 in batches; returns the create rate in streams per second. */
export async function loadWorkload(cat: Catalog, n: number, batch = 10_000): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i += batch) {
    const metas: NewStream[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) metas.push(workloadStream(j));
    await cat.createMany(metas);
  }
  return n / ((performance.now() - t0) / 1000);
}

/** Time `count` runs of `fn(k)`; returns the sorted latencies in ms. */
export async function timeRuns(count: number, fn: (k: number) => Promise<unknown>): Promise<number[]> {
  const lat: number[] = [];
  for (let k = 0; k < count; k++) {
    const t = performance.now();
    await fn(k);
    lat.push(performance.now() - t);
  }
  return lat.sort((a, b) => a - b);
}

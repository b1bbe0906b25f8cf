/** Latency helpers shared by the cluster benchmarks (bench/cluster-bench.ts, test/cluster/*-bench.ts). */

/** The sample at fraction `q` of the sorted samples (index ⌊q·n⌋); NaN when there are none. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

/** p50 / p90 (ms) of `n` sequential calls of `op(i)`. */
export async function timed(n: number, op: (i: number) => Promise<unknown>): Promise<{ p50: number; p90: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    ms.push(performance.now() - t);
  }
  return { p50: quantile(ms, 0.5), p90: quantile(ms, 0.9) };
}

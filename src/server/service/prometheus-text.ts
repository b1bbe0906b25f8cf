/**
 * Pieces of the Prometheus text exposition format (version 0.0.4) shared by the HTTP and gRPC
 * metrics: label sets and a latency histogram with fixed buckets.
 */

/** Latency histogram bucket bounds (seconds), the same for every endpoint and RPC. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** `{k="v",…}` with the values escaped, in the given order. */
export const labels = (l: Readonly<Record<string, string>>): string =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;

/** `# HELP` and `# TYPE` lines of a metric family. */
export const familyHead = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string): string[] => [
  `# HELP ${name} ${help}`,
  `# TYPE ${name} ${type}`,
];

/** Observations of one latency series: cumulative bucket counts (LATENCY_BUCKETS), sum, count. */
export class LatencyHistogram {
  readonly counts: number[] = LATENCY_BUCKETS.map(() => 0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= (LATENCY_BUCKETS[i] as number)) this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }

  /** The `_bucket` (with `le`), `_sum` and `_count` sample lines of series `name{l}`. */
  lines(name: string, l: Readonly<Record<string, string>>): string[] {
    const out = LATENCY_BUCKETS.map((le, i) => `${name}_bucket${labels({ ...l, le: String(le) })} ${this.counts[i]}`);
    out.push(`${name}_bucket${labels({ ...l, le: '+Inf' })} ${this.count}`);
    out.push(`${name}_sum${labels(l)} ${this.sum}`);
    out.push(`${name}_count${labels(l)} ${this.count}`);
    return out;
  }
}

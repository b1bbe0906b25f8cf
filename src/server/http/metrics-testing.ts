/**
 * Reading a /metrics page in tests: the samples of a Prometheus text exposition, looked up by
 * metric name and label set (in any order). Checks the page's shape on the way: every sample
 * belongs to a family declared once with `# TYPE`. Test support only.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** The samples of `text`; throws naming the line when the page is malformed. */
export function parseExposition(text: string): Sample[] {
  const families = new Map<string, string>();
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      if (families.has(type[1] as string)) throw new Error(`family ${type[1]} declared twice`);
      families.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const name = m[1] as string;
    const family = families.has(name) ? name : name.replace(HISTOGRAM_SUFFIX, '');
    if (!families.has(family)) throw new Error(`sample ${name} has no # TYPE line before it`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    const value = Number(m[3]);
    if (Number.isNaN(value)) throw new Error(`bad value in ${line}`);
    out.push({ name, labels, value });
  }
  return out;
}

/**
 * The value of the sample `name` whose labels are exactly `labels`; `undefined` when the page has
 * no such sample (a counter never incremented is absent, not 0).
 */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const want = Object.entries(labels).sort();
  const found = samples.filter((s) => {
    if (s.name !== name) return false;
    const have = Object.entries(s.labels).sort();
    return have.length === want.length && have.every(([k, v], i) => k === want[i]?.[0] && v === want[i]?.[1]);
  });
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} appears ${found.length} times`);
  return found[0]?.value;
}

/** Fetch and parse `${base}/metrics`. */
export async function scrape(base: string, key?: string): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`, key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text.slice(0, 200)}`);
  return parseExposition(text);
}

/**
 * The HTTP API end to end: a real `arbor serve` child process (durable data directory in the temp
 * dir, an API key) answering Node's fetch on the same machine.
 *
 *   node --import tsx bench/http-bench.ts [--points 10000000] [--reps 3] [--queries 100] [--out f]
 *   node --import tsx bench/http-bench.ts --smoke          # 200k points, writes .bench/http-smoke.json
 *
 * One stream of the workload (bench/workload.ts: 120 Hz, realistic values) is bulk-loaded with the
 * embedded database before the server starts. Measured:
 *
 * - **raw read** of the whole stream in each format the API offers (json, ndjson, csv, arrow):
 *   "decoded" = the client parses every row and sums the values (json: 1M-point time slices, one
 *   request each — a 10M-point JSON document is longer than V8's largest string; the others: one
 *   streamed request); "transfer" = bytes received and rows counted, nothing parsed.
 * - **window latency** (p50/p95/p99 over `--queries` requests after a warm-up) of an
 *   `aligned-windows` query answering ~1000 windows over the whole stream, and of a `windows`
 *   query of 1000 windows, both JSON (what the plotter asks for).
 *
 * Every answer is checked: decoded reads against the generated points (count, first/last time,
 * the sum of the values in time order — exact, every format round-trips doubles), windows against
 * the embedded database's own answer for the same query (every field equal). A wrong fast answer
 * fails the run. Prints a table and writes JSON.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RecordBatchReader } from 'apache-arrow';
import type { StatPoint } from '../src/core/stat.ts';
import { openDatabase } from '../src/db/database.ts';
import { fmtCount, type LoadedStream, loadStreams, percentile, startHttpServe } from './http-load.ts';
import { PERIOD_NS } from './workload.ts';

const argv = process.argv.slice(2);
const SMOKE = argv.includes('--smoke');
const opt = (k: string, d: number) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const POINTS = opt('--points', SMOKE ? 200_000 : 10_000_000);
const REPS = opt('--reps', SMOKE ? 1 : 3);
const QUERIES = opt('--queries', SMOKE ? 20 : 100);
const WARMUP = SMOKE ? 3 : 10;
const JSON_SLICE = 1_000_000;
const OUT = argv.includes('--out')
  ? argv[argv.indexOf('--out') + 1]!
  : SMOKE
    ? '.bench/http-smoke.json'
    : '.bench/http.json';
const KEY = 'bench-key';
const AUTH = { authorization: `Bearer ${KEY}` };
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench answer check failed: ${what}`);
}

interface Row {
  metric: string;
  value: number;
  unit: string;
  note?: string;
}
const rows: Row[] = [];
const record = (r: Row) => {
  rows.push(r);
  process.stderr.write(`  ${r.metric}: ${r.value.toPrecision(4)} ${r.unit}${r.note ? ` (${r.note})` : ''}\n`);
};

/**
 * Requests retried because a reused keep-alive connection was closed by the server before the
 * request reached it (the server's 5 s idle timer, started when the answer left its buffers, can
 * run out while this client still parses the previous answer). Reported; never a wrong answer.
 */
const reconnects: string[] = [];

async function get(url: string, what: string): Promise<Response> {
  let r: Response;
  try {
    r = await fetch(url, { headers: AUTH });
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET') throw e;
    reconnects.push(what);
    r = await fetch(url, { headers: AUTH });
  }
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status} ${await r.text()}`);
  return r;
}

/** What a read saw: rows, bytes, and (when decoded) first/last time and the sum of the values. */
interface ReadResult {
  rows: number;
  bytes: number;
  first?: bigint;
  last?: bigint;
  sum?: number;
}

/** Split a byte stream into text lines (without the newline), calling `line` for each. */
async function eachLine(body: ReadableStream<Uint8Array>, line: (l: string) => void): Promise<number> {
  const dec = new TextDecoder();
  let rest = '';
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    const text = rest + dec.decode(chunk, { stream: true });
    let at = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', at)) {
      line(text.slice(at, nl));
      at = nl + 1;
    }
    rest = text.slice(at);
  }
  rest += dec.decode();
  if (rest !== '') line(rest);
  return bytes;
}

/** Bytes and newlines of a body, nothing decoded. */
async function countBytes(body: ReadableStream<Uint8Array>): Promise<{ bytes: number; newlines: number }> {
  let bytes = 0;
  let newlines = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) newlines++;
  }
  return { bytes, newlines };
}

type Format = 'json' | 'ndjson' | 'csv' | 'arrow';

async function readDecoded(base: string, s: LoadedStream, format: Format): Promise<ReadResult> {
  const start = s.first;
  const end = s.last + 1n;
  const url = (a: bigint, b: bigint) => `${base}/api/streams/${s.id}/points?start=${a}&end=${b}&format=${format}`;
  const out: ReadResult = { rows: 0, bytes: 0, sum: 0 };
  let sum = 0;
  const see = (t: () => bigint, v: number) => {
    if (out.rows === 0) out.first = t();
    sum += v;
    out.rows++;
  };
  if (format === 'json') {
    const step = BigInt(JSON_SLICE) * BigInt(PERIOD_NS);
    let lastText = '';
    // The next slice is requested (and its answer begun) before this one is parsed, as a client
    // paging through would.
    const slice = (a: bigint) => get(url(a, a + step < end ? a + step : end), 'json read');
    let next: Response | null = await slice(start);
    for (let a = start; next !== null; a += step) {
      const text = await next.text();
      next = a + step < end ? await slice(a + step) : null;
      out.bytes += Buffer.byteLength(text);
      const body = JSON.parse(text) as { points: { time: string; value: number }[] };
      for (const p of body.points) see(() => BigInt(p.time), p.value);
      const lastP = body.points[body.points.length - 1];
      if (lastP) lastText = lastP.time;
    }
    out.last = BigInt(lastText);
  } else if (format === 'ndjson') {
    const r = await get(url(start, end), 'ndjson read');
    let lastText = '';
    out.bytes = await eachLine(r.body!, (l) => {
      const p = JSON.parse(l) as { time: string; value: number };
      see(() => BigInt(p.time), p.value);
      lastText = p.time;
    });
    out.last = BigInt(lastText);
  } else if (format === 'csv') {
    const r = await get(url(start, end), 'csv read');
    let header = true;
    let lastLine = '';
    out.bytes = await eachLine(r.body!, (l) => {
      if (header) {
        check(l === 'time,value,flags', `csv header ${l}`);
        header = false;
        return;
      }
      const c1 = l.indexOf(',');
      const c2 = l.indexOf(',', c1 + 1);
      see(() => BigInt(l.slice(0, c1)), Number(l.slice(c1 + 1, c2)));
      lastLine = l;
    });
    out.last = BigInt(lastLine.slice(0, lastLine.indexOf(',')));
  } else {
    const r = await get(url(start, end), 'arrow read');
    let bytes = 0;
    const counted = (async function* () {
      for await (const chunk of r.body!) {
        bytes += chunk.length;
        yield chunk;
      }
    })();
    const reader = await RecordBatchReader.from(counted);
    for await (const batch of reader) {
      const n = batch.numRows;
      if (n === 0) continue;
      const times = batch.getChild('time')!.data[0]!.values as BigInt64Array;
      const values = batch.getChild('value')!.toArray() as Float64Array;
      if (out.rows === 0) out.first = times[0]!;
      for (let i = 0; i < n; i++) sum += values[i]!;
      out.rows += n;
      out.last = times[n - 1]!;
    }
    out.bytes = bytes;
  }
  out.sum = sum;
  return out;
}

async function readTransfer(base: string, s: LoadedStream, format: Format): Promise<ReadResult> {
  const r = await get(
    `${base}/api/streams/${s.id}/points?start=${s.first}&end=${s.last + 1n}&format=${format}`,
    format,
  );
  const { bytes, newlines } = await countBytes(r.body!);
  const rows = format === 'ndjson' ? newlines : format === 'csv' ? newlines - 1 : -1;
  return { rows, bytes };
}

interface WindowJson {
  time: string;
  min: number;
  mean: number;
  max: number;
  count: number;
  stddev: number;
}

function sameWindows(got: WindowJson[], want: readonly StatPoint[], what: string): void {
  check(got.length === want.length, `${what}: ${got.length} windows, embedded answers ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const ok =
      BigInt(g.time) === w.time &&
      g.count === Number(w.count) &&
      g.min === w.min &&
      g.mean === w.mean &&
      g.max === w.max &&
      g.stddev === w.stddev;
    check(ok, `${what}: window ${i} ${JSON.stringify(g)} differs from the embedded answer`);
  }
}

async function latency(
  label: string,
  url: string,
  want: readonly StatPoint[],
  points: number,
): Promise<{ p50: number; p95: number; p99: number; windows: number }> {
  const ms: number[] = [];
  for (let i = 0; i < WARMUP + QUERIES; i++) {
    const t0 = performance.now();
    const r = await get(url, label);
    const body = (await r.json()) as { windows: WindowJson[] };
    const dt = performance.now() - t0;
    if (i === 0) sameWindows(body.windows, want, label);
    else {
      const n = body.windows.reduce((a, w) => a + w.count, 0);
      check(body.windows.length === want.length && n === points, `${label}: answer ${i} covers ${n} points`);
    }
    if (i >= WARMUP) ms.push(dt);
  }
  return { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), p99: percentile(ms, 0.99), windows: want.length };
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-http-bench-'));
  const loadBefore = load();
  process.stderr.write(`http bench: ${POINTS} points, load ${loadBefore}\n`);
  try {
    const [s] = await loadStreams(root, [{ collection: 'bench/http', name: 's0', points: POINTS, seed: 0 }], (l) =>
      process.stderr.write(`${l}\n`),
    );
    const stream = s!;
    record({ metric: 'bulk load (embedded, before serving)', value: POINTS / (stream.loadMs / 1000), unit: 'pts/s' });

    // The reference answers of the window queries, from the embedded database itself.
    const start = stream.first;
    const end = stream.last + 1n;
    const span = end - start;
    const pw = Math.max(0, Math.round(Math.log2(Number(span) / 1000)));
    const width = (span + 999n) / 1000n;
    // Aligned queries floor both ends to multiples of 2^pw: round the end up to cover the stream.
    const unit = 1n << BigInt(pw);
    const alignedEnd = ((end + unit - 1n) / unit) * unit;
    const db = await openDatabase(root);
    const wantAligned = (await db.alignedWindows(stream.id, start, alignedEnd, pw, 0)).value;
    const wantWindows = (await db.windows(stream.id, start, start + width * 1000n, width, 0, 0)).value;
    await db.close();
    check(wantAligned.reduce((a, w) => a + Number(w.count), 0) === POINTS, 'embedded aligned windows cover the stream');
    check(wantWindows.reduce((a, w) => a + Number(w.count), 0) === POINTS, 'embedded windows cover the stream');

    const server = await startHttpServe(root, KEY);
    try {
      const base = server.url;
      for (const format of ['arrow', 'csv', 'ndjson', 'json'] as const) {
        const dec: number[] = [];
        let bytes = 0;
        for (let r = 0; r < REPS; r++) {
          const t0 = performance.now();
          const got = await readDecoded(base, stream, format);
          const sec = (performance.now() - t0) / 1000;
          check(got.rows === POINTS, `${format}: read ${got.rows} points, expected ${POINTS}`);
          check(got.first === stream.first && got.last === stream.last, `${format}: first/last time`);
          check(got.sum === stream.sum, `${format}: sum ${got.sum} ≠ ${stream.sum}`);
          dec.push(POINTS / sec);
          bytes = got.bytes;
        }
        const note = `${(bytes / POINTS).toFixed(1)} B/pt on the wire${format === 'json' ? `, ${fmtCount(JSON_SLICE)}-point requests` : ''}`;
        record({ metric: `raw read ${format}, decoded + checked`, value: percentile(dec, 0.5), unit: 'pts/s', note });
        if (format !== 'json') {
          const tr: number[] = [];
          for (let r = 0; r < REPS; r++) {
            const t0 = performance.now();
            const got = await readTransfer(base, stream, format);
            const sec = (performance.now() - t0) / 1000;
            if (got.rows >= 0) check(got.rows === POINTS, `${format} transfer: ${got.rows} rows`);
            check(got.bytes === bytes, `${format} transfer: ${got.bytes} bytes, decoded run saw ${bytes}`);
            tr.push(POINTS / sec);
          }
          record({
            metric: `raw read ${format}, transfer only`,
            value: percentile(tr, 0.5),
            unit: 'pts/s',
            note: `${((percentile(tr, 0.5) * bytes) / POINTS / 1e6).toFixed(0)} MB/s`,
          });
        }
      }

      const aligned = await latency(
        'aligned-windows',
        `${base}/api/streams/${stream.id}/aligned-windows?start=${start}&end=${alignedEnd}&pw=${pw}`,
        wantAligned,
        POINTS,
      );
      const windows = await latency(
        'windows',
        `${base}/api/streams/${stream.id}/windows?start=${start}&end=${start + width * 1000n}&width=${width}`,
        wantWindows,
        POINTS,
      );
      for (const [name, l, what] of [
        ['aligned-windows', aligned, `pw ${pw}`],
        ['windows', windows, `width ${width} ns`],
      ] as const) {
        for (const p of ['p50', 'p95', 'p99'] as const) {
          record({ metric: `${name} ${p} (${l.windows} windows, ${what})`, value: l[p], unit: 'ms' });
        }
      }
    } finally {
      const code = await server.stop();
      const log = server.process.stderr().trim();
      if (code !== 0 || log.includes('error')) process.stderr.write(`arbor serve exited ${code}\n${log}\n`);
    }

    const w = Math.max(...rows.map((r) => r.metric.length));
    console.log(`\nHTTP API, ${fmtCount(POINTS)}-point stream, spawned arbor serve, Node fetch client`);
    for (const r of rows) {
      const v = r.unit === 'pts/s' ? `${(r.value / 1e6).toFixed(2)}M pts/s` : `${r.value.toFixed(2)} ms`;
      console.log(`${r.metric.padEnd(w)}  ${v.padStart(14)}${r.note ? `  ${r.note}` : ''}`);
    }
    const out = {
      bench: 'http',
      when: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model ?? '',
        memGiB: Math.round(os.totalmem() / 2 ** 30),
      },
      node: process.version,
      loadBefore,
      loadAfter: load(),
      workload: { points: POINTS, reps: REPS, queries: QUERIES, warmup: WARMUP, smoke: SMOKE },
      reconnects,
      rows,
    };
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
    if (reconnects.length > 0)
      console.log(
        `${reconnects.length} request(s) (${reconnects.join(', ')}) retried on a fresh connection (keep-alive race)`,
      );
    console.log(`wrote ${OUT} (load ${out.loadAfter})`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();

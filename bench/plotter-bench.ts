/**
 * The web plotter in a real browser (Debian's /usr/bin/chromium driven by playwright-core, as in
 * test/browser/plotter.test.ts) against a real `arbor serve` child process whose data directory
 * holds one workload stream per size (bench/workload.ts, bulk-loaded with the embedded database
 * before the server starts).
 *
 *   node --import tsx bench/plotter-bench.ts [--sizes 10000000,100000000] [--reps 5] [--zooms 3]
 *   node --import tsx bench/plotter-bench.ts --smoke       # one 1M-point stream, 2 repetitions
 *
 * Measured per stream size, each repetition in a fresh browser context (empty cache):
 *
 * - **first plot from navigation**: open `/#streams=UUID` (a shared link) and time from the start
 *   of navigation to the first painted plot (the page fits the view to the data — two `nearest`
 *   queries — then asks for ≈ one aligned window per pixel);
 * - **first plot from a click**: open `/`, then tick the stream in the stream browser; time from
 *   the click to the painted plot;
 * - **one zoom step**: a mouse-wheel notch (deltaY −300, ×0.55 span) over the plot's centre; time
 *   from the wheel event to the painted re-render. Each includes the plotter's 80 ms input
 *   debounce; "query + draw" is the part after it (the page's own `lastRender.ms`).
 *
 * "Painted" = the animation frame after the plotter's `arbor:rendered` event (web/js/app.js: it
 * fires once fresh answers are drawn on the canvas). Every first plot is checked to summarise
 * exactly the stream's points (the windows' counts sum to the stream's size) and every zoom to
 * have narrowed the view. Prints median and max; writes .bench/plotter.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { fmtCount, type LoadedStream, loadStreams, median, startHttpServe } from './http-load.ts';

const argv = process.argv.slice(2);
const SMOKE = argv.includes('--smoke');
const opt = (k: string, d: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1]! : d);
const SIZES = opt('--sizes', SMOKE ? '1000000' : '10000000,100000000')
  .split(',')
  .map(Number);
const REPS = Number(opt('--reps', SMOKE ? '2' : '5'));
const ZOOMS = Number(opt('--zooms', SMOKE ? '2' : '3'));
const OUT = opt('--out', SMOKE ? '.bench/plotter-smoke.json' : '.bench/plotter.json');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const TIMEOUT_MS = 120_000;
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench answer check failed: ${what}`);
}

/** What the page under test records (installed before any page script runs). */
interface BenchMarks {
  /** performance.now() of the last input event (click or wheel) seen in the capture phase. */
  input: number | null;
  /** One entry per `arbor:rendered`, taken in the next animation frame (painted). */
  renders: { painted: number; ms: number; query: number }[];
}
interface Rendered {
  painted: number;
  ms: number;
  query: number;
}
interface SeriesInfo {
  mode: string;
  total: number;
  start: string;
  end: string;
}

function installMarks(): void {
  const g = globalThis as unknown as {
    __bench: BenchMarks;
    addEventListener(t: string, f: (e: { detail?: { ms: number; query: number } }) => void, o?: object): void;
    requestAnimationFrame(f: () => void): void;
    performance: { now(): number };
  };
  g.__bench = { input: null, renders: [] };
  for (const t of ['wheel', 'click'])
    g.addEventListener(t, () => (g.__bench.input = g.performance.now()), { capture: true });
  g.addEventListener('arbor:rendered', (e) => {
    const d = e.detail!;
    g.requestAnimationFrame(() => g.__bench.renders.push({ painted: g.performance.now(), ms: d.ms, query: d.query }));
  });
}

const marks = (page: Page) => page.evaluate(() => (globalThis as unknown as { __bench: BenchMarks }).__bench);

/** Wait for the `n`-th painted render (1-based) and return it. */
async function rendered(page: Page, n: number): Promise<Rendered> {
  await page.waitForFunction((k) => (globalThis as unknown as { __bench: BenchMarks }).__bench.renders.length >= k, n, {
    timeout: TIMEOUT_MS,
  });
  return (await marks(page)).renders[n - 1]!;
}

const series = (page: Page) =>
  page.evaluate(() => {
    const q = (
      globalThis as unknown as {
        __arbor: { lastQuery: { start: string; end: string; series: { mode: string; total: number }[] } };
      }
    ).__arbor.lastQuery;
    return { mode: q.series[0]!.mode, total: q.series[0]!.total, start: q.start, end: q.end } satisfies SeriesInfo;
  });

interface Sample {
  navMs: number;
  navQueryMs: number;
  clickMs: number;
  clickQueryMs: number;
  zoomMs: number[];
  zoomQueryMs: number[];
}

async function newPage(ctx: BrowserContext): Promise<Page> {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => {
    throw e;
  });
  await page.addInitScript(installMarks);
  return page;
}

async function once(browser: Browser, url: string, s: LoadedStream): Promise<Sample> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 820 } });
  try {
    // First plot from navigation to a shared link.
    const page = await newPage(ctx);
    await page.goto(`${url}/#streams=${s.id}`);
    const first = await rendered(page, 1);
    const info = await series(page);
    check(info.mode === 'windows' && info.total === s.points, `first plot summarises ${info.total} of ${s.points}`);

    // One zoom step after another: the wheel over the plot's centre.
    const box = (await page.locator('#plot').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const zoomMs: number[] = [];
    const zoomQueryMs: number[] = [];
    let prev = info;
    for (let z = 0; z < ZOOMS; z++) {
      await page.waitForTimeout(300); // let the page go idle (no debounced refresh pending)
      const before = (await marks(page)).renders.length;
      await page.mouse.wheel(0, -300);
      const r = await rendered(page, before + 1);
      const m = await marks(page);
      check(m.input !== null && m.input < r.painted, 'the wheel event was seen before the render');
      const now = await series(page);
      check(BigInt(now.end) - BigInt(now.start) < BigInt(prev.end) - BigInt(prev.start), `zoom ${z} narrowed the view`);
      prev = now;
      zoomMs.push(r.painted - m.input!);
      zoomQueryMs.push(r.ms);
    }
    await page.close();

    // First plot from ticking the stream in the stream browser.
    const p2 = await newPage(ctx);
    await p2.goto(`${url}/`);
    const row = p2.locator(`.tree .stream[data-uuid="${s.id}"] input`);
    await row.waitFor({ timeout: TIMEOUT_MS });
    await p2.waitForFunction(() => (globalThis as unknown as { __arbor: { ready: boolean } }).__arbor.ready === true);
    await row.click();
    const r2 = await rendered(p2, 1);
    const m2 = await marks(p2);
    const info2 = await series(p2);
    check(info2.total === s.points, `plot after the click summarises ${info2.total} of ${s.points}`);
    await p2.close();
    return {
      navMs: first.painted,
      navQueryMs: first.ms,
      clickMs: r2.painted - m2.input!,
      clickQueryMs: r2.ms,
      zoomMs,
      zoomQueryMs,
    };
  } finally {
    await ctx.close();
  }
}

let browserVersion = '';

interface Row {
  metric: string;
  points: number;
  median: number;
  max: number;
  n: number;
  unit: 'ms';
}

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM}: run scripts/install-chromium.sh`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-plotter-bench-'));
  const loadBefore = load();
  process.stderr.write(`plotter bench: sizes ${SIZES.join(', ')}, load ${loadBefore}\n`);
  const rows: Row[] = [];
  try {
    const streams = await loadStreams(
      root,
      SIZES.map((n, i) => ({ collection: 'bench/plotter', name: `s${fmtCount(n)}`, points: n, seed: i })),
      (l) => process.stderr.write(`${l}\n`),
    );
    const diskBytes = du(root);
    const server = await startHttpServe(root);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    browserVersion = browser.version();
    try {
      for (const s of streams) {
        const samples: Sample[] = [];
        for (let r = 0; r < REPS; r++) {
          samples.push(await once(browser, server.url, s));
          process.stderr.write(`  ${fmtCount(s.points)} rep ${r + 1}: ${JSON.stringify(samples.at(-1))}\n`);
        }
        const add = (metric: string, xs: number[]) =>
          rows.push({
            metric,
            points: s.points,
            median: median(xs),
            max: Math.max(...xs),
            n: xs.length,
            unit: 'ms',
          });
        add(
          'first plot from navigation (painted)',
          samples.map((x) => x.navMs),
        );
        add(
          '  of which refresh query + draw',
          samples.map((x) => x.navQueryMs),
        );
        add(
          'first plot from a click in the tree (painted)',
          samples.map((x) => x.clickMs),
        );
        add(
          '  of which refresh query + draw',
          samples.map((x) => x.clickQueryMs),
        );
        add(
          'one wheel zoom step (painted)',
          samples.flatMap((x) => x.zoomMs),
        );
        add(
          '  of which refresh query + draw',
          samples.flatMap((x) => x.zoomQueryMs),
        );
      }
    } finally {
      await browser.close();
      const code = await server.stop();
      if (code !== 0) process.stderr.write(`arbor serve exited ${code}\n${server.process.stderr()}\n`);
    }

    const w = Math.max(...rows.map((r) => r.metric.length)) + 8;
    console.log(`\nWeb plotter in headless chromium (1400×820), spawned arbor serve; median / max ms`);
    for (const r of rows) {
      const label = `${fmtCount(r.points).padStart(5)}  ${r.metric}`;
      console.log(
        `${label.padEnd(w)}  ${r.median.toFixed(0).padStart(6)} / ${r.max.toFixed(0).padStart(6)}   (n=${r.n})`,
      );
    }
    const out = {
      bench: 'plotter',
      when: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model ?? '',
        memGiB: Math.round(os.totalmem() / 2 ** 30),
      },
      node: process.version,
      browser: `chromium ${browserVersion}`,
      loadBefore,
      loadAfter: load(),
      workload: {
        sizes: SIZES,
        reps: REPS,
        zoomsPerRep: ZOOMS,
        viewport: '1400x820',
        smoke: SMOKE,
        diskBytes,
        loadPtsPerS: streams.map((s) => s.points / (s.loadMs / 1000)),
      },
      rows,
    };
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`wrote ${OUT} (data ${(diskBytes / 1e6).toFixed(0)} MB on disk, load ${out.loadAfter})`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function du(p: string): number {
  let n = 0;
  for (const e of fs.readdirSync(p, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return n;
}

await main();

/**
 * The web plotter in a real browser (Debian's chromium driven by playwright-core): pick a demo
 * stream, zoom until raw points show, and check that what was plotted equals the server's answers
 * for that range; download the CSV; restore a view from the URL; follow a stream live. Writes
 * screenshots of the main views to docs/img/.
 *
 * Needs /usr/bin/chromium (scripts/install-chromium.sh installs it).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type DemoStream, loadDemoData } from '../../scripts/demo-data.ts';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { type HttpServer, startHttpServer } from '../../src/server/http/index.ts';

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
const IMG = path.resolve(import.meta.dirname, '..', '..', 'docs', 'img');
const SYNTHETIC_POINTS = 600_000;

interface WindowJson {
  time: string;
  min: number;
  mean: number;
  max: number;
  count: number;
  stddev: number;
}
interface PointJson {
  time: string;
  value: number;
  flags?: number;
}
interface SeriesQuery {
  uuid: string;
  mode: 'windows' | 'raw';
  pw: number;
  version: number;
  windows?: WindowJson[];
  points?: PointJson[];
}
interface LastQuery {
  start: string;
  end: string;
  pw: number;
  pixels: number;
  series: SeriesQuery[];
}

let dir: string;
let db: Database;
let server: HttpServer;
let browser: Browser;
let demo: DemoStream[];

async function getJson<T>(p: string): Promise<T> {
  const r = await fetch(server.url + p);
  assert.equal(r.status, 200, `${p}: ${r.status}`);
  return (await r.json()) as T;
}

/** Wait until the page has no query in flight and has plotted at least once after `queries`. */
async function settled(page: Page, queries = 0): Promise<LastQuery> {
  await page.waitForFunction(
    (n) => {
      const a = (
        globalThis as unknown as { __arbor?: { ready: boolean; pending: number; queries: number; lastQuery: unknown } }
      ).__arbor;
      return a?.ready === true && a.pending === 0 && a.queries > n && a.lastQuery !== null;
    },
    queries,
    { timeout: 30_000 },
  );
  await page.waitForTimeout(150); // a debounced refresh may be about to start
  await page.waitForFunction(() => (globalThis as unknown as { __arbor: { pending: number } }).__arbor.pending === 0);
  return page.evaluate(() => (globalThis as unknown as { __arbor: { lastQuery: LastQuery } }).__arbor.lastQuery);
}

const queries = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __arbor: { queries: number } }).__arbor.queries);

async function newPage(hash = ''): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 820 }, acceptDownloads: true });
  page.on('pageerror', (e) => {
    throw e;
  });
  await page.goto(`${server.url}/${hash}`);
  return page;
}

function stream(collectionEnd: string, name: string): DemoStream {
  const s = demo.find((d) => d.collection.endsWith(collectionEnd) && d.name === name);
  assert.ok(s, `demo stream ${collectionEnd} ${name}`);
  return s;
}

/** The plotted series equal the server's answer for the same range (and point width). */
async function assertMatchesServer(q: LastQuery): Promise<void> {
  for (const s of q.series) {
    if (s.mode === 'windows') {
      const a = await getJson<{ windows: WindowJson[]; version: number }>(
        `/api/streams/${s.uuid}/aligned-windows?start=${q.start}&end=${q.end}&pw=${q.pw}`,
      );
      assert.deepEqual(s.windows, a.windows, 'plotted min/mean/max equal the server’s windows');
      assert.equal(s.version, a.version);
    } else {
      const a = await getJson<{ points: PointJson[] }>(`/api/streams/${s.uuid}/points?start=${q.start}&end=${q.end}`);
      assert.deepEqual(s.points, a.points, 'plotted raw points equal the server’s');
    }
  }
}

before(async () => {
  // No skip: `npm test` installs chromium first, so a missing browser is a broken setup.
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM}: run bash scripts/install-chromium.sh (npm test does)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-plotter-'));
  db = await openDatabase(dir);
  demo = await loadDemoData(db, { syntheticPoints: SYNTHETIC_POINTS });
  server = await startHttpServer(db, { address: '127.0.0.1:0', graceMs: 200 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  fs.mkdirSync(IMG, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await db?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('web plotter', { timeout: 300_000 }, () => {
  test('the stream browser shows the demo collections and finds streams by search', async () => {
    const page = await newPage();
    await page.waitForSelector('.tree .stream');
    const names = await page.locator('.tree .stream').allTextContents();
    assert.equal(names.length, 7);
    assert.ok(names.some((n) => n.includes('sine-120hz')));
    await page.fill('#search', 'frequency');
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
        ).document.querySelectorAll('.tree .stream').length === 2,
    );
    await page.close();
  });

  test('a picked stream is plotted from ≈ one aligned window per pixel that equal the server’s', async () => {
    const page = await newPage();
    await page.waitForSelector('.tree .stream');
    await page.click('.tree .stream:has-text("sine-120hz") input');
    const q = await settled(page);
    const s = q.series[0]!;
    assert.equal(s.mode, 'windows');
    const windowsInView = (BigInt(q.end) - BigInt(q.start)) >> BigInt(q.pw);
    assert.ok(
      windowsInView >= BigInt(Math.floor(q.pixels / 2)) && windowsInView <= BigInt(q.pixels * 2),
      `${windowsInView} windows for ${q.pixels} px`,
    );
    await assertMatchesServer(q);
    assert.match((await page.textContent('#meta')) ?? '', /sine-120hz[\s\S]*600,000[\s\S]*Annotations/);
    await page.screenshot({ path: path.join(IMG, 'plotter-overview.png') });
    await page.close();
  });

  test('zooming in with the keyboard ends in raw points equal to the server’s, and the CSV download matches', async () => {
    const syn = stream('synthetic', 'sine-120hz');
    const page = await newPage(`#streams=${syn.id}`);
    let q = await settled(page);
    await page.focus('#plot-wrap');
    for (let i = 0; i < 40 && q.series[0]!.mode !== 'raw'; i++) {
      const before = BigInt(q.end) - BigInt(q.start);
      const n = await queries(page);
      await page.keyboard.press('+');
      q = await settled(page, n);
      assert.ok(BigInt(q.end) - BigInt(q.start) < before, 'each + halves the span');
      if (q.series[0]!.mode === 'windows') await assertMatchesServer(q);
    }
    const s = q.series[0]!;
    assert.equal(s.mode, 'raw');
    assert.ok(
      s.points!.length > 0 && s.points!.length < 2 * q.pixels,
      `${s.points!.length} raw points for ${q.pixels} px`,
    );
    await assertMatchesServer(q);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const file = path.join(dir, 'download.csv');
    await download.saveAs(file);
    const csv = fs.readFileSync(file, 'utf8');
    const r = await fetch(`${server.url}/api/streams/${syn.id}/points?start=${q.start}&end=${q.end}&format=csv`);
    assert.equal(csv, await r.text());
    const rows = csv.trim().split('\n').slice(1);
    assert.deepEqual(
      rows.map((l) => l.split(',').slice(0, 2)),
      s.points!.map((p) => [p.time, String(p.value)]),
    );
    await page.close();
  });

  test('wheel, shift-drag, drag and arrow keys zoom and pan, re-querying at the matching point width', async () => {
    const syn = stream('synthetic', 'sine-120hz');
    const page = await newPage(`#streams=${syn.id}`);
    const q0 = await settled(page);
    const span0 = BigInt(q0.end) - BigInt(q0.start);
    const box = (await page.locator('#plot').boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;

    let n = await queries(page);
    await page.mouse.move(cx, cy);
    await page.mouse.wheel(0, -300);
    const q1 = await settled(page, n);
    const span1 = BigInt(q1.end) - BigInt(q1.start);
    assert.ok(span1 < span0, 'wheel up zooms in');
    assert.ok(q1.pw < q0.pw, 'a smaller span is queried at a smaller point width');
    await assertMatchesServer(q1);

    n = await queries(page);
    await page.keyboard.down('Shift');
    await page.mouse.move(cx - 100, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 100, cy, { steps: 5 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const q2 = await settled(page, n);
    const span2 = BigInt(q2.end) - BigInt(q2.start);
    const expected = (span1 * 200n) / BigInt(q1.pixels);
    assert.ok(
      span2 > (expected * 9n) / 10n && span2 < (expected * 11n) / 10n,
      `selection of 200 px: ${span2} vs ${expected}`,
    );

    n = await queries(page);
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx - 200, cy, { steps: 5 });
    await page.mouse.up();
    const q3 = await settled(page, n);
    assert.ok(BigInt(q3.start) > BigInt(q2.start), 'dragging left pans forward in time');
    assert.equal(BigInt(q3.end) - BigInt(q3.start), span2, 'panning keeps the span');

    n = await queries(page);
    await page.focus('#plot-wrap');
    await page.keyboard.press('ArrowLeft');
    const q4 = await settled(page, n);
    assert.ok(BigInt(q4.start) < BigInt(q3.start), 'ArrowLeft pans back');
    n = await queries(page);
    await page.keyboard.press('-');
    const q5 = await settled(page, n);
    assert.equal(BigInt(q5.end) - BigInt(q5.start), span2 * 2n, '− doubles the span');
    await assertMatchesServer(q5);
    await page.close();
  });

  test('the URL hash restores the view, and the time-range picker sets it', async () => {
    const syn = stream('synthetic', 'sine-120hz');
    const page = await newPage(`#streams=${syn.id}`);
    await settled(page);
    const n = await queries(page);
    await page.fill('#range-start', '2024-01-01T00:10:00Z');
    await page.fill('#range-end', '2024-01-01T00:20:00.5Z');
    await page.click('#range-form button[type=submit]');
    const q = await settled(page, n);
    assert.equal(q.start, '1704067800000000000');
    assert.equal(q.end, '1704068400500000000');
    const hash = await page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash);
    assert.match(hash, /start=1704067800000000000&end=1704068400500000000/);
    const again = await newPage(hash);
    const q2 = await settled(again);
    assert.deepEqual({ ...q2, series: q2.series.map((s) => s.uuid) }, { ...q, series: q.series.map((s) => s.uuid) });
    await again.close();
    await page.close();
  });

  test('several PMU channels plot in one lane per unit, and flagged raw points are marked', async () => {
    const ids = ['magnitude', 'frequency', 'angle'].map((n) => stream('2012-12-12_KTH01', n).id);
    const page = await newPage(`#streams=${ids.join(',')}`);
    const q = await settled(page);
    assert.deepEqual(
      q.series.map((s) => s.uuid),
      ids,
    );
    await assertMatchesServer(q);
    const legend = await page.textContent('#legend');
    assert.match(legend ?? '', /magnitude \(V\)[\s\S]*frequency \(Hz\)[\s\S]*angle \(deg\)/);
    await page.screenshot({ path: path.join(IMG, 'plotter-pmu-channels.png') });
    await page.close();

    const syn = stream('synthetic', 'sine-120hz');
    const mid = 1_704_067_200_000_000_000n + BigInt(Math.floor(SYNTHETIC_POINTS / 2)) * 8_333_333n;
    const flagged = await newPage(`#streams=${syn.id}&start=${mid - 1_000_000_000n}&end=${mid + 3_000_000_000n}`);
    const fq = await settled(flagged);
    assert.equal(fq.series[0]!.mode, 'raw');
    assert.equal(fq.series[0]!.points!.filter((p) => p.flags === 1).length, 240);
    assert.match((await flagged.textContent('#legend')) ?? '', /240 flagged/);
    await assertMatchesServer(fq);
    const box = (await flagged.locator('#plot').boundingBox())!;
    await flagged.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
    await flagged.waitForTimeout(100);
    await flagged.screenshot({ path: path.join(IMG, 'plotter-raw-flags.png') });
    await flagged.close();
  });

  test('live mode follows points inserted after the page subscribed', async () => {
    const create = await fetch(`${server.url}/api/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ collection: 'live/test', tags: { name: 'live-sine', unit: 'A' } }),
    });
    const { uuid } = (await create.json()) as { uuid: string };
    const base = BigInt(Date.now()) * 1_000_000n - 60_000_000_000n;
    const insert = async (from: number, to: number) => {
      const times: string[] = [];
      const values: number[] = [];
      for (let i = from; i < to; i++) {
        times.push(String(base + BigInt(i) * 100_000_000n));
        values.push(10 + Math.sin(i / 10));
      }
      const r = await fetch(`${server.url}/api/streams/${uuid}/points`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ times, values }),
      });
      assert.equal(r.status, 200);
    };
    await insert(0, 300);
    const page = await newPage(`#streams=${uuid}&start=${base}&end=${base + 40_000_000_000n}&live=1`);
    const q0 = await settled(page);
    await page.waitForFunction(() => (globalThis as unknown as { __arbor: { liveReady: boolean } }).__arbor.liveReady);
    const n = await queries(page);
    await insert(300, 600);
    await page.waitForFunction(
      () => (globalThis as unknown as { __arbor: { liveEvents: number } }).__arbor.liveEvents > 0,
    );
    const q1 = await settled(page, n);
    assert.ok(BigInt(q1.end) > BigInt(q0.end), 'the view followed the new points');
    assert.ok(BigInt(q1.end) > base + 59_900_000_000n, 'the last point is in view');
    await assertMatchesServer(q1);
    await page.screenshot({ path: path.join(IMG, 'plotter-live.png') });
    await page.close();
  });
});

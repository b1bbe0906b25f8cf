// The plotter: view state (kept in the URL hash), queries sized to the plot's pixel width,
// zoom/pan, live mode, CSV download. It only ever asks for ≈ one aligned window per pixel, or for
// the raw points once the visible range holds fewer than 2 × width of them, so it stays
// responsive on streams of any size.
//
// window.__arbor exposes what was plotted (lastQuery) for the browser tests. After each plot of
// fresh query answers, __arbor.lastRender = {at, ms, query} (at: performance.now() when drawn; ms:
// from the start of that refresh's queries to the end of drawing; query: its number) and the window
// gets an `arbor:rendered` event with the same detail — the hook bench/plotter-bench.ts times.

import { ApiError, followEvents, getBlob, getJson, onKeyNeeded, qs } from './api.js';
import { PALETTE, Plot } from './plot.js';
import { formatIso, formatSpan, log2Floor, MAX_TIME, MIN_TIME, parseTime } from './time.js';
import { renderMeta, renderTree } from './tree.js';

const $ = (id) => document.getElementById(id);

const state = {
  streams: [], // plotted: [{uuid, name, unit, collection}]
  start: null, // BigInt ns
  end: null,
  live: false,
  focused: null, // uuid in the metadata panel
};
const known = new Map(); // uuid → stream JSON
const results = new Map(); // uuid → plotted series data
const debug = {
  lastQuery: null,
  queries: 0,
  pending: 0,
  renders: 0,
  errors: 0,
  state,
  liveEvents: 0,
  liveReady: false,
  lastRender: null,
};
window.__arbor = debug;

const plot = new Plot($('plot'));
let querySeq = 0;
let timer = null;

function status(text, isError = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', isError);
}

function fail(e) {
  debug.errors++;
  status(e instanceof ApiError || e instanceof Error ? e.message : String(e), true);
}

// ---- URL hash -------------------------------------------------------------------------------

function writeHash() {
  const p = new URLSearchParams();
  if (state.streams.length > 0) p.set('streams', state.streams.map((s) => s.uuid).join(','));
  if (state.start !== null) p.set('start', state.start.toString());
  if (state.end !== null) p.set('end', state.end.toString());
  if (state.live) p.set('live', '1');
  if (state.focused) p.set('focus', state.focused);
  const hash = `#${p.toString()}`;
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

async function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const ids = (p.get('streams') ?? '').split(',').filter((x) => x !== '');
  state.streams = [];
  for (const uuid of ids) {
    try {
      const s = known.get(uuid) ?? (await getJson(`/api/streams/${uuid}`));
      known.set(uuid, s);
      state.streams.push(s);
    } catch (e) {
      fail(e);
    }
  }
  try {
    state.start = p.has('start') ? parseTime(p.get('start')) : null;
    state.end = p.has('end') ? parseTime(p.get('end')) : null;
  } catch (e) {
    fail(e);
    state.start = state.end = null;
  }
  state.focused = p.get('focus');
  state.live = p.get('live') === '1';
}

// ---- queries --------------------------------------------------------------------------------

function toWindows(answer, pw) {
  const ws = answer.windows;
  const n = ws.length;
  const w = {
    t: new Array(n),
    min: new Float64Array(n),
    mean: new Float64Array(n),
    max: new Float64Array(n),
    count: new Float64Array(n),
    width: 1n << BigInt(pw),
  };
  ws.forEach((x, i) => {
    w.t[i] = BigInt(x.time);
    w.min[i] = Number(x.min);
    w.mean[i] = Number(x.mean);
    w.max[i] = Number(x.max);
    w.count[i] = x.count;
  });
  return w;
}

function toPoints(answer) {
  const ps = answer.points;
  const p = { t: new Array(ps.length), v: new Float64Array(ps.length), f: null };
  ps.forEach((x, i) => {
    p.t[i] = BigInt(x.time);
    p.v[i] = Number(x.value);
    if (x.flags) {
      p.f ??= new Uint32Array(ps.length);
      p.f[i] = x.flags;
    }
  });
  return p;
}

/** pw such that the number of windows in the view ≈ the plot width in pixels. */
export function pointWidthFor(span, pixels) {
  const per = span / BigInt(Math.max(1, pixels));
  if (per <= 1n) return 0;
  const lo = log2Floor(per);
  // round log2: pick lo or lo + 1, whichever is closer to the ideal width
  const pick = per - (1n << BigInt(lo)) < (1n << BigInt(lo + 1)) - per ? lo : lo + 1;
  return Math.min(62, Math.max(0, pick));
}

async function queryStream(s, start, end, pw, pixels) {
  const aligned = await getJson(`/api/streams/${s.uuid}/aligned-windows?${qs({ start, end, pw })}`);
  let total = 0;
  for (const w of aligned.windows) total += w.count;
  if (total < 2 * pixels) {
    const raw = await getJson(`/api/streams/${s.uuid}/points?${qs({ start, end })}`);
    return { uuid: s.uuid, mode: 'raw', pw, version: raw.version, points: raw.points, total: raw.points.length };
  }
  return { uuid: s.uuid, mode: 'windows', pw, version: aligned.version, windows: aligned.windows, total };
}

async function refresh() {
  if (state.streams.length === 0 || state.start === null || state.end === null) {
    draw();
    return;
  }
  const seq = ++querySeq;
  const { start, end } = state;
  const pixels = plot.plotWidth;
  const pw = pointWidthFor(end - start, pixels);
  debug.pending++;
  debug.queries++;
  const t0 = performance.now();
  try {
    const answers = await Promise.all(state.streams.map((s) => queryStream(s, start, end, pw, pixels)));
    if (seq !== querySeq) return; // a newer view is being queried
    for (const a of answers) {
      results.set(a.uuid, a.mode === 'raw' ? { ...a, data: toPoints(a) } : { ...a, data: toWindows(a, pw) });
    }
    debug.lastQuery = { start: start.toString(), end: end.toString(), pw, pixels, series: answers };
    const raw = answers.filter((a) => a.mode === 'raw').length;
    const windows = answers.reduce((n, a) => n + (a.mode === 'windows' ? a.windows.length : 0), 0);
    status(
      `${formatSpan(end - start)} visible · pw ${pw} (windows of ${formatSpan(1n << BigInt(pw))}) · ` +
        `${windows} windows${raw ? ` · ${raw} stream(s) raw` : ''} · ${Math.round(performance.now() - t0)} ms`,
    );
    draw();
    const at = performance.now();
    debug.lastRender = { at, ms: at - t0, query: debug.queries };
    window.dispatchEvent(new CustomEvent('arbor:rendered', { detail: debug.lastRender }));
  } catch (e) {
    if (seq === querySeq) fail(e);
  } finally {
    debug.pending--;
  }
}

function scheduleRefresh(delay = 80) {
  writeHash();
  clearTimeout(timer);
  timer = setTimeout(refresh, delay);
  draw();
}

function draw() {
  plot.view = { start: state.start ?? 0n, end: state.end ?? 1n };
  plot.series = state.streams
    .map((s, i) => {
      const r = results.get(s.uuid);
      const color = PALETTE[i % PALETTE.length];
      const base = { uuid: s.uuid, name: s.name, unit: s.unit, color };
      if (!r) return { ...base, mode: 'windows', windows: { t: [], min: [], mean: [], max: [], count: [], width: 1n } };
      return r.mode === 'raw'
        ? { ...base, mode: 'raw', points: r.data }
        : { ...base, mode: 'windows', windows: r.data };
    })
    .filter(Boolean);
  $('empty').hidden = state.streams.length > 0;
  plot.draw();
  renderLegend();
  $('range-start').value = state.start === null ? '' : formatIso(state.start);
  $('range-end').value = state.end === null ? '' : formatIso(state.end);
  debug.renders++;
}

function renderLegend() {
  const legend = $('legend');
  legend.replaceChildren();
  state.streams.forEach((s, i) => {
    const r = results.get(s.uuid);
    const item = document.createElement('span');
    item.className = 'item';
    item.dataset.uuid = s.uuid;
    item.title = `${s.collection} — click for metadata`;
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = PALETTE[i % PALETTE.length];
    const name = document.createElement('span');
    name.textContent = `${s.name} (${s.unit || 'no unit'})`;
    const mode = document.createElement('span');
    mode.className = 'mode';
    mode.textContent = r
      ? r.mode === 'raw'
        ? `${r.total} raw points`
        : `mean, min–max of ${r.total.toLocaleString('en')} points`
      : '';
    item.append(sw, name, mode);
    const flagged = r?.mode === 'raw' ? r.points.filter((p) => p.flags).length : 0;
    if (flagged > 0) {
      const f = document.createElement('span');
      f.className = 'flagged';
      f.textContent = `⚑ ${flagged} flagged`;
      item.append(f);
    }
    item.addEventListener('click', () => focus(s.uuid));
    legend.append(item);
  });
}

// ---- view changes ---------------------------------------------------------------------------

function setView(start, end) {
  if (end <= start) end = start + 1n;
  const span = end - start;
  if (span < 10n) {
    const mid = start + span / 2n;
    start = mid - 5n;
    end = mid + 5n;
  }
  if (start < MIN_TIME) start = MIN_TIME;
  if (end > MAX_TIME) end = MAX_TIME;
  state.start = start;
  state.end = end;
  scheduleRefresh();
}

/** Zoom by `factor` (< 1 = in) around the time at pixel x (default: the middle). */
function zoom(factor, x) {
  if (state.start === null) return;
  const span = state.end - state.start;
  const at = x === undefined ? state.start + span / 2n : plot.timeAt(x);
  const f = Number(at - state.start) / Number(span);
  const next = BigInt(Math.max(10, Math.round(Number(span) * factor)));
  const start = at - BigInt(Math.round(f * Number(next)));
  setView(start, start + next);
}

function pan(fraction) {
  if (state.start === null) return;
  const d = BigInt(Math.round(Number(state.end - state.start) * fraction));
  setView(state.start + d, state.end + d);
}

async function fitAll() {
  if (state.streams.length === 0) return;
  let lo = null;
  let hi = null;
  for (const s of state.streams) {
    try {
      const a = await getJson(`/api/streams/${s.uuid}/nearest?${qs({ time: MIN_TIME })}`);
      const b = await getJson(`/api/streams/${s.uuid}/nearest?${qs({ time: MAX_TIME - 1n, backward: true })}`);
      const ta = BigInt(a.time);
      const tb = BigInt(b.time) + 1n;
      lo = lo === null || ta < lo ? ta : lo;
      hi = hi === null || tb > hi ? tb : hi;
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) fail(e);
    }
  }
  if (lo === null) {
    const now = BigInt(Date.now()) * 1000000n;
    lo = now - 3600n * 1000000000n;
    hi = now;
  }
  const pad = (hi - lo) / 50n;
  setView(lo - pad, hi + pad);
}

async function toggleStream(s, on) {
  known.set(s.uuid, s);
  if (on && !state.streams.some((x) => x.uuid === s.uuid)) state.streams.push(s);
  if (!on) {
    state.streams = state.streams.filter((x) => x.uuid !== s.uuid);
    results.delete(s.uuid);
  }
  if (on) focus(s.uuid);
  restartLive();
  if (state.start === null && state.streams.length > 0) await fitAll();
  else scheduleRefresh(0);
}

function focus(uuid) {
  state.focused = uuid;
  writeHash();
  for (const row of document.querySelectorAll('.tree .stream'))
    row.classList.toggle('focused', row.dataset.uuid === uuid);
  renderMeta($('meta'), uuid).catch(fail);
}

// ---- live mode ------------------------------------------------------------------------------

let liveAbort = null;

function restartLive() {
  liveAbort?.abort();
  liveAbort = null;
  $('live').setAttribute('aria-pressed', String(state.live));
  if (!state.live || state.streams.length === 0) return;
  const ac = new AbortController();
  liveAbort = ac;
  const ids = state.streams.map((s) => s.uuid).join(',');
  followEvents(`/api/live?${qs({ uuid: ids })}`, ac.signal, (name, data) => {
    if (name === 'ready') {
      debug.liveReady = true;
      status(`live: following ${data.streams.length} stream(s)`);
    }
    if (name === 'error') fail(new Error(data.error?.message ?? 'live stream ended'));
    if (name !== 'points' || data.times.length === 0) return;
    debug.liveEvents++;
    const last = BigInt(data.times[data.times.length - 1]);
    if (state.start === null) return;
    const span = state.end - state.start;
    if (last >= state.end - span / 20n) {
      const end = last + span / 20n;
      state.start = end - span;
      state.end = end;
      clearTimeout(timer);
      writeHash();
      timer = setTimeout(refresh, 200);
    }
  }).catch((e) => {
    if (!ac.signal.aborted) fail(e);
  });
}

// ---- CSV ------------------------------------------------------------------------------------

async function downloadCsv() {
  if (state.start === null) return;
  for (const s of state.streams) {
    const r = results.get(s.uuid);
    const raw = !r || r.mode === 'raw';
    const path = raw
      ? `/api/streams/${s.uuid}/points?${qs({ start: state.start, end: state.end, format: 'csv' })}`
      : `/api/streams/${s.uuid}/aligned-windows?${qs({ start: state.start, end: state.end, pw: r.pw, format: 'csv' })}`;
    const blob = await getBlob(path);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    const safe = `${s.collection}_${s.name}`.replace(/[^A-Za-z0-9_.-]+/g, '_');
    a.download = `${safe}_${formatIso(state.start, 9).replace(/[:]/g, '')}_${raw ? 'points' : 'windows'}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }
}

// ---- input ----------------------------------------------------------------------------------

function wireInput() {
  const canvas = $('plot');
  const wrap = $('plot-wrap');
  wrap.tabIndex = 0; // the plot takes keyboard input (+, −, arrows): a focusable application region
  let drag = null;
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const r = canvas.getBoundingClientRect();
      zoom(Math.exp(Math.max(-300, Math.min(300, e.deltaY)) * 0.002), e.clientX - r.left);
    },
    { passive: false },
  );
  canvas.addEventListener('mousedown', (e) => {
    const r = canvas.getBoundingClientRect();
    const x = e.clientX - r.left;
    if (!plot.inData(x, e.clientY - r.top) || state.start === null) return;
    wrap.focus();
    drag = { x0: x, select: e.shiftKey, start: state.start, end: state.end };
    if (!drag.select) canvas.classList.add('panning');
  });
  window.addEventListener('mousemove', (e) => {
    const r = canvas.getBoundingClientRect();
    const x = e.clientX - r.left;
    if (drag?.select) {
      plot.selection = [drag.x0, Math.max(r.left - r.left, Math.min(x, r.width))];
      plot.draw();
    } else if (drag) {
      const span = drag.end - drag.start;
      const d = BigInt(Math.round(((drag.x0 - x) / plot.plotWidth) * Number(span)));
      state.start = drag.start + d;
      state.end = drag.end + d;
      draw();
    } else {
      plot.hoverX = plot.inData(x, e.clientY - r.top) ? x : null;
      plot.draw();
    }
  });
  window.addEventListener('mouseup', (e) => {
    if (!drag) return;
    const r = canvas.getBoundingClientRect();
    const x = e.clientX - r.left;
    canvas.classList.remove('panning');
    if (drag.select) {
      plot.selection = null;
      if (Math.abs(x - drag.x0) > 3) {
        const a = plot.timeAt(Math.min(x, drag.x0));
        const b = plot.timeAt(Math.max(x, drag.x0));
        setView(a, b);
      } else draw();
    } else if (x !== drag.x0) scheduleRefresh(0);
    drag = null;
  });
  canvas.addEventListener('mouseleave', () => {
    plot.hoverX = null;
    plot.draw();
  });
  canvas.addEventListener('dblclick', (e) => zoom(0.5, e.clientX - canvas.getBoundingClientRect().left));
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.ctrlKey || e.metaKey) return;
    if (e.key === '+' || e.key === '=') zoom(0.5);
    else if (e.key === '-' || e.key === '_') zoom(2);
    else if (e.key === 'ArrowLeft') pan(e.shiftKey ? -0.5 : -0.1);
    else if (e.key === 'ArrowRight') pan(e.shiftKey ? 0.5 : 0.1);
    else if (e.key === '0' || e.key === 'Home') fitAll();
    else if (e.key === 'l' || e.key === 'L') toggleLive();
    else return;
    e.preventDefault();
  });
  $('zoom-in').addEventListener('click', () => zoom(0.5));
  $('zoom-out').addEventListener('click', () => zoom(2));
  $('fit').addEventListener('click', () => fitAll());
  $('live').addEventListener('click', () => toggleLive());
  $('download').addEventListener('click', () => downloadCsv().catch(fail));
  $('range-form').addEventListener('submit', (e) => {
    e.preventDefault();
    try {
      setView(parseTime($('range-start').value), parseTime($('range-end').value));
    } catch (err) {
      fail(err);
    }
  });
  $('range-preset').addEventListener('change', (e) => {
    const v = e.target.value;
    e.target.value = '';
    if (v === 'fit') fitAll();
    else if (v !== '' && state.start !== null) {
      const span = BigInt(v);
      const mid = state.start + (state.end - state.start) / 2n;
      setView(mid - span / 2n, mid + span / 2n);
    }
  });
  let searchTimer = null;
  $('search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => loadTree().catch(fail), 200);
  });
  window.addEventListener('resize', () => {
    plot.resize();
    scheduleRefresh(150);
  });
  window.addEventListener('hashchange', async () => {
    await readHash();
    restartLive();
    await loadTree();
    scheduleRefresh(0);
  });
}

function toggleLive() {
  state.live = !state.live;
  writeHash();
  restartLive();
}

async function loadTree() {
  await renderTree(
    $('tree'),
    $('search').value.trim(),
    (uuid) => state.streams.some((s) => s.uuid === uuid),
    (s, on) => toggleStream(s, on).catch(fail),
  );
  if (state.focused) {
    for (const row of document.querySelectorAll('.tree .stream'))
      row.classList.toggle('focused', row.dataset.uuid === state.focused);
  }
}

async function main() {
  onKeyNeeded(
    () =>
      new Promise((resolve) => {
        const d = $('key-dialog');
        d.addEventListener('close', () => resolve($('key-input').value || null), { once: true });
        d.showModal();
      }),
  );
  wireInput();
  try {
    await readHash();
    await loadTree();
    renderMeta($('meta'), state.focused ?? state.streams[0]?.uuid ?? null).catch(fail);
    restartLive();
    if (state.streams.length > 0 && state.start === null) await fitAll();
    else await refresh();
  } catch (e) {
    fail(e);
  }
  debug.ready = true;
}

main();

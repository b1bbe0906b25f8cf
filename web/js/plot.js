// Canvas rendering of the plot: one lane per unit, each with its own y axis; per stream a min/max
// band and a mean line from aligned windows, or the raw points (with flagged points ringed in red)
// once zoomed in far enough. Times stay BigInt ns; only offsets within the view become pixels.

import { formatIso, formatSpan, timeTicks } from './time.js';

export const PALETTE = ['#0b62d6', '#d9480f', '#2b8a3e', '#862e9c', '#c2255c', '#0c8599', '#5f3dc4', '#e67700'];
export const MARGIN = { left: 70, right: 18, top: 8, bottom: 48, gap: 22 };
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const GRID = '#eceef1';
const AXIS = '#9aa1a9';
const TEXT = '#3b424a';

/** "Nice" ticks for [lo, hi] with about n steps. */
function niceTicks(lo, hi, n) {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / Math.max(1, n);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { ticks: out, step };
}

function formatValue(v, step) {
  const digits = Math.max(0, Math.min(9, -Math.floor(Math.log10(step)) + 1));
  const s = v.toFixed(digits);
  return digits > 0 ? s.replace(/\.?0+$/, '') || '0' : s;
}

/** Values visible in [start, end) of one series: [min, max] or null. */
function extentOf(s, start, end) {
  let lo = Infinity;
  let hi = -Infinity;
  if (s.mode === 'windows') {
    const w = s.windows;
    for (let i = 0; i < w.t.length; i++) {
      if (w.t[i] + w.width <= start || w.t[i] >= end) continue;
      if (w.min[i] < lo) lo = w.min[i];
      if (w.max[i] > hi) hi = w.max[i];
    }
  } else if (s.points) {
    const p = s.points;
    for (let i = 0; i < p.t.length; i++) {
      if (p.t[i] < start || p.t[i] >= end || !Number.isFinite(p.v[i])) continue;
      if (p.v[i] < lo) lo = p.v[i];
      if (p.v[i] > hi) hi = p.v[i];
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

export class Plot {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.view = { start: 0n, end: 1n };
    this.series = [];
    this.hoverX = null;
    this.selection = null;
    this.lanes = [];
    this.resize();
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const r = this.canvas.getBoundingClientRect();
    this.w = Math.max(200, r.width);
    this.h = Math.max(160, r.height);
    this.canvas.width = Math.round(this.w * dpr);
    this.canvas.height = Math.round(this.h * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  /** Width of the data area in CSS pixels: the number of windows the plotter asks for. */
  get plotWidth() {
    return Math.max(1, Math.round(this.w - MARGIN.left - MARGIN.right));
  }

  xOf(t) {
    const span = Number(this.view.end - this.view.start);
    return MARGIN.left + (Number(t - this.view.start) / span) * this.plotWidth;
  }

  /** The time under pixel x (clamped to the data area). */
  timeAt(x) {
    const f = Math.min(1, Math.max(0, (x - MARGIN.left) / this.plotWidth));
    const span = this.view.end - this.view.start;
    return this.view.start + BigInt(Math.round(f * Number(span)));
  }

  inData(x, y) {
    return x >= MARGIN.left && x <= MARGIN.left + this.plotWidth && y >= MARGIN.top && y <= this.h - MARGIN.bottom;
  }

  layout() {
    const units = [];
    for (const s of this.series) if (!units.includes(s.unit)) units.push(s.unit);
    const n = Math.max(1, units.length);
    const inner = this.h - MARGIN.top - MARGIN.bottom - MARGIN.gap * (n - 1);
    const laneH = Math.max(40, inner / n);
    this.lanes = units.map((unit, i) => {
      const top = MARGIN.top + i * (laneH + MARGIN.gap);
      const members = this.series.filter((s) => s.unit === unit);
      let lo = Infinity;
      let hi = -Infinity;
      for (const s of members) {
        const e = extentOf(s, this.view.start, this.view.end);
        if (e) {
          lo = Math.min(lo, e[0]);
          hi = Math.max(hi, e[1]);
        }
      }
      if (!(lo <= hi)) {
        lo = 0;
        hi = 1;
      }
      const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.01 || 1;
      return { unit, top, height: laneH, lo: lo - pad, hi: hi + pad, members };
    });
  }

  yOf(lane, v) {
    return lane.top + lane.height - ((v - lane.lo) / (lane.hi - lane.lo)) * lane.height;
  }

  draw() {
    const { ctx } = this;
    ctx.clearRect(0, 0, this.w, this.h);
    ctx.font = FONT;
    this.layout();
    if (this.series.length === 0) return;
    const left = MARGIN.left;
    const right = left + this.plotWidth;
    const bottom = this.h - MARGIN.bottom;
    const { ticks, step } = timeTicks(this.view.start, this.view.end, Math.floor(this.plotWidth / 120));

    for (const lane of this.lanes) {
      // grid and y axis
      const yt = niceTicks(lane.lo, lane.hi, Math.max(2, Math.floor(lane.height / 40)));
      ctx.strokeStyle = GRID;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (const v of yt.ticks) {
        const y = Math.round(this.yOf(lane, v)) + 0.5;
        ctx.moveTo(left, y);
        ctx.lineTo(right, y);
      }
      for (const tk of ticks) {
        const x = Math.round(this.xOf(tk.t)) + 0.5;
        ctx.moveTo(x, lane.top);
        ctx.lineTo(x, lane.top + lane.height);
      }
      ctx.stroke();
      ctx.fillStyle = TEXT;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      for (const v of yt.ticks) ctx.fillText(formatValue(v, yt.step), left - 6, this.yOf(lane, v));
      ctx.save();
      ctx.translate(14, lane.top + lane.height / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'center';
      ctx.font = `600 ${FONT}`;
      ctx.fillText(lane.unit || '(no unit)', 0, 0);
      ctx.restore();
      ctx.strokeStyle = AXIS;
      ctx.strokeRect(left + 0.5, lane.top + 0.5, this.plotWidth - 1, lane.height - 1);

      // data, clipped to the lane
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, lane.top, this.plotWidth, lane.height);
      ctx.clip();
      for (const s of lane.members) this.drawSeries(lane, s);
      ctx.restore();
    }

    // x axis
    ctx.fillStyle = TEXT;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const tk of ticks) {
      const x = this.xOf(tk.t);
      ctx.fillText(tk.label, x, bottom + 6);
    }
    ctx.fillStyle = '#656d76';
    const span = this.view.end - this.view.start;
    ctx.fillText(
      `Time (UTC) · ${formatIso(this.view.start, 9).replace('T', ' ')} + ${formatSpan(span)} · tick ${formatSpan(step)}`,
      left + this.plotWidth / 2,
      bottom + 26,
    );

    if (this.selection) {
      const [a, b] = this.selection;
      ctx.fillStyle = 'rgba(11, 98, 214, 0.12)';
      ctx.strokeStyle = 'rgba(11, 98, 214, 0.6)';
      ctx.fillRect(Math.min(a, b), MARGIN.top, Math.abs(b - a), bottom - MARGIN.top);
      ctx.strokeRect(Math.min(a, b) + 0.5, MARGIN.top + 0.5, Math.abs(b - a), bottom - MARGIN.top);
    }
    if (this.hoverX !== null && this.hoverX >= left && this.hoverX <= right) this.drawHover();
  }

  drawSeries(lane, s) {
    const { ctx } = this;
    if (s.mode === 'windows') {
      const w = s.windows;
      ctx.fillStyle = `${s.color}38`;
      for (let i = 0; i < w.t.length; i++) {
        const x0 = this.xOf(w.t[i]);
        const x1 = this.xOf(w.t[i] + w.width);
        const y0 = this.yOf(lane, w.max[i]);
        const y1 = this.yOf(lane, w.min[i]);
        ctx.fillRect(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
      }
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let i = 0; i < w.t.length; i++) {
        const x = this.xOf(w.t[i] + w.width / 2n);
        const y = this.yOf(lane, w.mean[i]);
        if (i === 0 || w.t[i] - w.t[i - 1] > w.width) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
      ctx.stroke();
      return;
    }
    const p = s.points;
    if (!p || p.t.length === 0) return;
    const gaps = [];
    for (let i = 1; i < p.t.length; i++) gaps.push(p.t[i] - p.t[i - 1]);
    gaps.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const median = gaps.length > 0 ? gaps[gaps.length >> 1] : 0n;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let i = 0; i < p.t.length; i++) {
      const x = this.xOf(p.t[i]);
      const y = this.yOf(lane, p.v[i]);
      if (i === 0 || (median > 0n && p.t[i] - p.t[i - 1] > 10n * median)) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.stroke();
    if (p.t.length < this.plotWidth / 3) {
      ctx.fillStyle = s.color;
      for (let i = 0; i < p.t.length; i++) {
        ctx.beginPath();
        ctx.arc(this.xOf(p.t[i]), this.yOf(lane, p.v[i]), 2.5, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    if (p.f) {
      ctx.strokeStyle = '#c62828';
      ctx.lineWidth = 1.5;
      for (let i = 0; i < p.t.length; i++) {
        if (p.f[i] === 0) continue;
        ctx.beginPath();
        ctx.arc(this.xOf(p.t[i]), this.yOf(lane, p.v[i]), 5, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
  }

  /** The value(s) of `s` at time `t`: a window's stats or the nearest raw point. */
  valueAt(s, t) {
    if (s.mode === 'windows') {
      const w = s.windows;
      let lo = 0;
      let hi = w.t.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (w.t[mid] <= t) lo = mid;
        else hi = mid - 1;
      }
      if (w.t.length === 0 || w.t[lo] > t || w.t[lo] + w.width <= t) return null;
      return {
        t: w.t[lo],
        text: `${w.mean[lo].toPrecision(6)} (${w.min[lo].toPrecision(6)} … ${w.max[lo].toPrecision(6)}, n=${w.count[lo]})`,
      };
    }
    const p = s.points;
    if (!p || p.t.length === 0) return null;
    let best = 0;
    for (let i = 1; i < p.t.length; i++) {
      const d = p.t[i] > t ? p.t[i] - t : t - p.t[i];
      const b = p.t[best] > t ? p.t[best] - t : t - p.t[best];
      if (d < b) best = i;
    }
    const flag = p.f && p.f[best] !== 0 ? ` ⚑${p.f[best]}` : '';
    return { t: p.t[best], text: `${p.v[best]}${flag}` };
  }

  drawHover() {
    const { ctx } = this;
    const x = this.hoverX;
    const t = this.timeAt(x);
    ctx.strokeStyle = 'rgba(31, 35, 40, 0.35)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(Math.round(x) + 0.5, MARGIN.top);
    ctx.lineTo(Math.round(x) + 0.5, this.h - MARGIN.bottom);
    ctx.stroke();
    for (const lane of this.lanes) {
      const lines = [];
      for (const s of lane.members) {
        const v = this.valueAt(s, t);
        if (v) lines.push({ color: s.color, text: `${s.name}: ${v.text}` });
      }
      if (lines.length === 0) continue;
      lines.unshift({ color: '#656d76', text: formatIso(t, 9) });
      const width = Math.max(...lines.map((l) => ctx.measureText(l.text).width)) + 16;
      const bx = x + width + 12 < MARGIN.left + this.plotWidth ? x + 8 : x - width - 8;
      const by = lane.top + 6;
      ctx.fillStyle = 'rgba(255, 255, 255, 0.92)';
      ctx.strokeStyle = '#dde1e6';
      ctx.fillRect(bx, by, width, lines.length * 16 + 8);
      ctx.strokeRect(bx + 0.5, by + 0.5, width, lines.length * 16 + 8);
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      lines.forEach((l, i) => {
        ctx.fillStyle = l.color;
        ctx.fillText(l.text, bx + 8, by + 5 + i * 16);
      });
    }
  }
}

/**
 * Progress reporting on stderr for long commands (import): on a terminal, one line redrawn in
 * place — a bar, the percentage, points/s and the ETA — at most 10 times a second; when stderr is
 * not a terminal (a log file, CI, a pipe), a plain line every 5 s instead, so logs stay readable.
 * Nothing is printed for work that finishes before the first plain line is due.
 */

/** Where progress goes: process.stderr, or a fake in tests. */
export interface ProgressSink {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** What is being done, e.g. "parse data.csv". */
  readonly label: string;
  /** The amount of work (in the unit of `update`'s `done`); undefined = unknown (no % or ETA). */
  readonly total?: number;
  readonly sink?: ProgressSink;
  /** Milliseconds clock (tests inject one). */
  readonly now?: () => number;
  /** Plain-line interval when the sink is not a terminal (default 5000 ms). */
  readonly intervalMs?: number;
  /** false = print nothing (--quiet). */
  readonly enabled?: boolean;
}

export interface ProgressState {
  readonly label: string;
  readonly done: number;
  readonly total: number | undefined;
  readonly points: number;
  readonly elapsedMs: number;
}

/** A count with a k/M/G suffix: 1234567 → "1.23M". */
export function compact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** Seconds as m:ss or h:mm:ss. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The figures of a progress line: percentage, points/s and ETA (each '' when unknown). */
export function progressFigures(s: ProgressState): { percent: string; rate: string; eta: string } {
  const secs = s.elapsedMs / 1000;
  const rate = secs > 0 ? `${compact(s.points / secs)} pts/s` : '';
  if (s.total === undefined || s.total <= 0) return { percent: '', rate, eta: '' };
  const f = Math.min(1, s.done / s.total);
  const eta = f > 0 && secs > 0 ? `ETA ${clock((secs * (1 - f)) / f)}` : '';
  return { percent: `${(f * 100).toFixed(1)}%`, rate, eta };
}

/** The line redrawn on a terminal, fitted to `columns`: the figures first, then the bar, then the label. */
export function barLine(s: ProgressState, columns = 80): string {
  const { percent, rate, eta } = progressFigures(s);
  const tail = [percent.padStart(6), `${compact(s.points)} pts`, rate, eta].filter((x) => x.trim() !== '').join('  ');
  const label =
    s.label.length + tail.length + 3 > columns
      ? `${s.label.slice(0, Math.max(0, columns - tail.length - 4))}…`
      : s.label;
  const room = columns - label.length - tail.length - 6;
  let bar = '';
  if (s.total !== undefined && s.total > 0 && room >= 10) {
    const w = Math.min(40, room);
    const filled = Math.round(Math.min(1, s.done / s.total) * w);
    bar = `[${'#'.repeat(filled)}${'-'.repeat(w - filled)}]  `;
  }
  return `${label}  ${bar}${tail}`;
}

/** The periodic line written when stderr is not a terminal. */
export function plainLine(s: ProgressState): string {
  const { percent, rate, eta } = progressFigures(s);
  const figures = [`${s.points} points`, rate, eta].filter((x) => x !== '').join(', ');
  return `${s.label}: ${percent === '' ? '' : `${percent} `}(${figures})\n`;
}

export class Progress {
  readonly #o: ProgressOptions;
  readonly #sink: ProgressSink;
  readonly #now: () => number;
  readonly #start: number;
  readonly #tty: boolean;
  #last: number;
  #drawn = false;

  constructor(opts: ProgressOptions) {
    this.#o = opts;
    this.#sink = opts.sink ?? process.stderr;
    this.#now = opts.now ?? Date.now;
    this.#start = this.#now();
    this.#last = this.#start;
    this.#tty = this.#sink.isTTY === true;
  }

  /** Report `done` units of `total` and `points` points so far (cheap: call it as often as you like). */
  update(done: number, points: number): void {
    if (this.#o.enabled === false) return;
    const t = this.#now();
    const interval = this.#tty ? 100 : (this.#o.intervalMs ?? 5000);
    if (t - this.#last < interval) return;
    this.#last = t;
    const state = { label: this.#o.label, done, total: this.#o.total, points, elapsedMs: t - this.#start };
    if (this.#tty) {
      this.#sink.write(`\r${barLine(state, this.#sink.columns ?? 80)}\x1b[K`);
      this.#drawn = true;
    } else {
      this.#sink.write(plainLine(state));
    }
  }

  /** The work is over: erase the bar (the caller prints its own summary). */
  finish(): void {
    if (this.#drawn) this.#sink.write('\r\x1b[K');
    this.#drawn = false;
  }
}

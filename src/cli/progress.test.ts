import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { barLine, clock, compact, Progress, plainLine, progressFigures } from './progress.ts';

const state = { label: 'import x.csv', done: 250, total: 1000, points: 2_000_000, elapsedMs: 2000 };

describe('progress', () => {
  test('figures give the percentage, the point rate and the time left', () => {
    assert.deepEqual(progressFigures(state), { percent: '25.0%', rate: '1.00M pts/s', eta: 'ETA 0:06' });
  });

  test('an unknown total shows the rate only', () => {
    assert.deepEqual(progressFigures({ ...state, total: undefined }), { percent: '', rate: '1.00M pts/s', eta: '' });
  });

  test('numbers and durations are compact', () => {
    assert.equal(compact(999), '999');
    assert.equal(compact(12_345), '12.3k');
    assert.equal(compact(3_210_000_000), '3.21G');
    assert.equal(clock(75), '1:15');
    assert.equal(clock(3725), '1:02:05');
  });

  test('the terminal line has a bar and fits the width', () => {
    const line = barLine(state, 100);
    assert.match(line, /^import x\.csv {2}\[#+-+\] +25\.0% {2}2\.00M pts {2}1\.00M pts\/s {2}ETA 0:06$/);
    assert.ok(barLine(state, 60).length < 60);
    assert.match(
      barLine({ ...state, label: 'parse a-very-long-file-name.csv' }, 60),
      /^parse a-very-\S*… +25\.0%.*ETA 0:06$/,
    );
  });

  test('a terminal gets redraws in place at most every 100 ms, erased at the end', () => {
    const out: string[] = [];
    let now = 0;
    const p = new Progress({ label: 'x', total: 10, sink: { isTTY: true, write: (s) => out.push(s) }, now: () => now });
    p.update(1, 1);
    now = 50;
    p.update(2, 2);
    now = 150;
    p.update(3, 3);
    p.finish();
    assert.equal(out.length, 2);
    assert.match(out[0]!, /^\rx .*30\.0%/);
    assert.equal(out[1], '\r\x1b[K');
  });

  test('a log gets a plain line every interval and nothing for short work', () => {
    const out: string[] = [];
    let now = 0;
    const sink = { isTTY: false, write: (s: string) => out.push(s) };
    const p = new Progress({ label: 'parse f', total: 100, sink, now: () => now, intervalMs: 1000 });
    p.update(10, 10);
    assert.equal(out.length, 0);
    now = 1000;
    p.update(50, 50);
    now = 1500;
    p.update(60, 60);
    p.finish();
    assert.deepEqual(out, [plainLine({ label: 'parse f', done: 50, total: 100, points: 50, elapsedMs: 1000 })]);
    assert.match(out[0]!, /^parse f: 50\.0% \(50 points, 50 pts\/s, ETA 0:01\)\n$/);
  });

  test('a disabled progress prints nothing', () => {
    const out: string[] = [];
    const p = new Progress({
      label: 'x',
      sink: { isTTY: true, write: (s) => out.push(s) },
      enabled: false,
      now: () => 1e9,
    });
    p.update(1, 1);
    assert.deepEqual(out, []);
  });
});

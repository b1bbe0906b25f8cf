import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit } from './group-commit.ts';

/** A fake store: `stage` grows the staged end; each flush is released by hand. */
function fake(discardOnFailure = false) {
  let staged = 0;
  let durable = 0;
  const flushes: { target: number; release: (err?: Error) => void }[] = [];
  const gc = new GroupCommit(
    () => staged,
    () => durable,
    (target) =>
      new Promise<void>((resolve, reject) => {
        flushes.push({
          target,
          release: (err) => {
            if (err) return reject(err);
            durable = target;
            resolve();
          },
        });
      }),
    discardOnFailure
      ? async () => {
          staged = durable;
        }
      : undefined,
  );
  const tick = () => new Promise((r) => setImmediate(r));
  return { gc, flushes, tick, stage: (n = 1) => (staged += n) };
}

describe('group commit', () => {
  it('a sync with nothing staged does no flush', async () => {
    const f = fake();
    await f.gc.sync();
    assert.equal(f.flushes.length, 0);
  });

  it('callers during a flush wait for it, then share exactly one more flush', async () => {
    const f = fake();
    f.stage();
    const a = f.gc.sync();
    f.stage();
    const b = f.gc.sync();
    f.stage();
    const c = f.gc.sync();
    await f.tick();
    assert.equal(f.flushes.length, 1);
    f.flushes[0]?.release();
    await a;
    await f.tick();
    assert.equal(f.flushes.length, 2);
    assert.equal(f.flushes[1]?.target, 3);
    f.flushes[1]?.release();
    await Promise.all([b, c]);
    assert.equal(f.flushes.length, 2);
  });

  it('a caller whose bytes the running flush covers does not start another', async () => {
    const f = fake();
    f.stage(2);
    const a = f.gc.sync();
    const b = f.gc.sync();
    await f.tick();
    f.flushes[0]?.release();
    await Promise.all([a, b]);
    assert.equal(f.flushes.length, 1);
  });

  it('a failed flush rejects the callers it covered; later callers get a new flush', async () => {
    const f = fake();
    f.stage();
    const a = f.gc.sync();
    f.stage();
    const b = f.gc.sync();
    await f.tick();
    f.flushes[0]?.release(new Error('EIO'));
    await assert.rejects(a, /EIO/);
    await f.tick();
    assert.equal(f.flushes.length, 2);
    f.flushes[1]?.release();
    await b;
  });

  it('with a discarding failure hook, every waiter on the discarded bytes is rejected', async () => {
    const f = fake(true);
    f.stage();
    const a = f.gc.sync();
    await f.tick();
    f.stage();
    const b = f.gc.sync(); // not covered by the running flush
    f.flushes[0]?.release(new Error('ENOSPC'));
    await assert.rejects(a, /ENOSPC/);
    await assert.rejects(b, /ENOSPC/);
    assert.equal(f.flushes.length, 1, 'no flush is started for discarded bytes');
    f.stage();
    const c = f.gc.sync();
    await f.tick();
    f.flushes[1]?.release();
    await c;
  });
});

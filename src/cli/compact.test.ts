/** `arbor compact --retain`: data retention from the command line, on a real data directory. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { captureStdout } from '../../test/capture-stdout.ts';
import { DAY, MAX_TIME, MIN_TIME } from '../core/time.ts';
import type { StreamId } from '../core/types.ts';
import { Database } from '../db/database.ts';
import { compactCommand } from './compact.ts';
import { UsageError } from './main.ts';

const run = (argv: string[]): Promise<string> => captureStdout(() => compactCommand(argv));

const A = '00000000-0000-4000-8000-00000000c0a1' as StreamId;
const B = '00000000-0000-4000-8000-00000000c0a2' as StreamId;

describe('arbor compact --retain', () => {
  test('drops the points older than the age in the named collection only and says what it dropped', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-compact-'));
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      // One point per 6 hours over the last 4 days in both streams, none within an hour of the cutoff.
      const times = BigInt64Array.from({ length: 16 }, (_, i) => now - 4n * DAY + DAY / 24n + BigInt(i) * (DAY / 4n));
      const values = Float64Array.from({ length: 16 }, (_, i) => i);
      let db = await Database.open(dir, { background: false });
      await db.create({ id: A, collection: 'edge/site1', tags: { name: 'f' }, annotations: {} });
      await db.create({ id: B, collection: 'central', tags: { name: 'f' }, annotations: {} });
      for (const id of [A, B]) await db.insert(id, { times, values });
      await db.close();

      const out = await run(['--data', dir, '--retain', 'edge=2d']);
      assert.match(out, /retain edge: 1 streams, \d+ bytes; dropped 8 points before \d{4}-/);
      assert.match(out, /compacted 2 streams/);

      db = await Database.open(dir, { background: false });
      try {
        assert.equal((await db.engine.count(A, MIN_TIME, MAX_TIME)).count, 8);
        assert.equal((await db.engine.count(A, MIN_TIME, now - 2n * DAY)).count, 0);
        assert.equal((await db.engine.count(B, MIN_TIME, MAX_TIME)).count, 16, 'another collection is untouched');
      } finally {
        await db.close();
      }
      assert.match(
        await run(['--data', dir, '--retain', 'edge=2d']),
        /retain edge: 1 streams, \d+ bytes; nothing to drop/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a malformed rule is a usage error naming it, before the directory is opened', async () => {
    await assert.rejects(
      run(['--data', '/nonexistent/x', '--retain', 'edge=2 weeks']),
      (e) => e instanceof UsageError && /--retain: .*"edge=2 weeks"/.test(e.message),
    );
  });
});

/**
 * `arbor check` and `arbor check --repair` on a real data directory with a flipped bit in a block
 * segment: the damage is printed with file and offset, the directory is not opened while damaged,
 * and the repair keeps the intact versions, says which it dropped, and leaves a clean directory.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { StreamId } from '../core/types.ts';
import { Database } from '../db/database.ts';
import { checkCommand } from './check.ts';

const ID = '00000000-0000-4000-8000-00000000c0c0' as StreamId;

async function run(argv: string[]): Promise<{ out: string; code: number }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await checkCommand(argv);
  } finally {
    process.stdout.write = write;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { out, code };
}

describe('arbor check', () => {
  test('reports a flipped bit with file and offset, and --repair drops only the versions that used it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-check-'));
    try {
      const db = await Database.open(dir, { background: false });
      await db.create({ id: ID, collection: 'c', tags: { name: 'x' }, annotations: {} });
      const n = 3000;
      const first = await db.engine.insert(ID, {
        times: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1000n),
        values: Float64Array.from({ length: n }, (_, i) => i),
      });
      await db.engine.flush(ID);
      const second = await db.engine.insert(ID, {
        times: BigInt64Array.from({ length: n }, (_, i) => BigInt(i + n) * 1000n),
        values: Float64Array.from({ length: n }, (_, i) => i + n),
      });
      await db.engine.flush(ID);
      await db.close();

      const clean = await run(['--data', dir]);
      assert.equal(clean.code, 0, clean.out);
      assert.match(clean.out, /no problems/);

      // The last block written is the root of the second version only.
      const seg = path.join(dir, 'blocks', '0000000001.seg');
      const bytes = fs.readFileSync(seg);
      bytes[bytes.length - 20]! ^= 0x40;
      fs.writeFileSync(seg, bytes);

      const bad = await run(['--data', dir]);
      assert.equal(bad.code, 1);
      assert.match(bad.out, new RegExp(`DAMAGE: ${seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} offset \\d+`));
      assert.match(bad.out, /--repair/);
      assert.match(bad.out, new RegExp(`stream ${ID} versions ${second}`));

      const fixed = await run(['--data', dir, '--repair']);
      assert.equal(fixed.code, 0, fixed.out);
      assert.match(fixed.out, /could not salvage/);
      assert.match(fixed.out, new RegExp(`stream ${ID} versions ${second}: .*0000000001\\.seg offset \\d+`));
      assert.match(fixed.out, /manifest\.before-repair/);
      assert.match(fixed.out, /no problems/);

      const again = await Database.open(dir, { background: false });
      const got = await again.engine.valuesArray(ID, 0n, 1n << 40n);
      assert.equal(got.times.length, n, 'the first version is intact');
      assert.equal(got.version, first);
      await again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

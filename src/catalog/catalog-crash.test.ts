/**
 * kill -9 while creating and obliterating: after reopening, every acknowledged change is there and
 * nothing is half-done (ADR 0003 relies on create/obliterate being durable when they resolve).
 * PGlite has no fsync, so this covers process crashes, not power loss (docs/format/catalog.md).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sid } from './catalog-testing.ts';
import { openPgliteCatalog } from './pglite-catalog.ts';

const CHILD = fileURLToPath(new URL('./catalog-crash-child.ts', import.meta.url));

async function runAndKill(
  dir: string,
  first: number,
  afterAcks: number,
): Promise<{ created: number; obliterated: Set<number> }> {
  const args = ['--import', 'tsx', CHILD, dir, String(first)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let created = 0;
  const obliterated = new Set<number>();
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => resolve());
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const [op, n] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        if (op === 'c') created = Number(n);
        if (op === 'o') obliterated.add(Number(n));
      }
      if (created >= first + afterAcks && child.exitCode === null) child.kill('SIGKILL');
    });
  });
  return { created, obliterated };
}

test('every create and obliterate acknowledged before a kill -9 survives it', { timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-catalog-crash-'));
  try {
    // round 2 crashes a catalog that was itself recovered from round 1's crash
    for (const [first, acks] of [
      [1, 150],
      [10_001, 320],
    ] as const) {
      const { created, obliterated } = await runAndKill(dir, first, acks);
      assert.ok(created >= first + acks, `child stopped early at ${created}`);
      const cat = await openPgliteCatalog(dir);
      try {
        for (let n = first; n <= created; n++) {
          const m = await cat.get(sid(n));
          if (n % 10 === 0 && obliterated.has(n)) {
            assert.equal(m, undefined, `stream ${n} was obliterated`);
            assert.equal(await cat.isObliterated(sid(n)), true);
          } else if (n % 10 !== 0) {
            assert.equal(m?.annotations.n, String(n), `acknowledged stream ${n} is missing`);
          }
        }
        // the one in flight at the kill is either wholly there or wholly absent
        const next = await cat.get(sid(created + 1));
        assert.ok(next === undefined || next.annotations.n === String(created + 1));
        if (first > 1) assert.equal((await cat.get(sid(1)))?.annotations.n, '1', 'round 1 survives round 2');
      } finally {
        await cat.close();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

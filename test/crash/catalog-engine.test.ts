/**
 * ADR 0003: after a SIGKILL during creates and obliterates, the catalog and the engine agree —
 * every acknowledged create is a live stream in both with its data, every acknowledged obliterate
 * is gone from both, and no stream exists in only one of them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { StreamId } from '../../src/core/types.ts';
import { openDatabase } from '../../src/db/database.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'catalog-child.ts');
const CYCLES = Number(process.env.ARBOR_CATALOG_CRASH_CYCLES ?? 4);

it(
  `keeps catalog and engine consistent across ${CYCLES} SIGKILLs during create/obliterate`,
  {
    timeout: 600_000,
  },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-catalog-crash-'));
    const created = new Set<string>();
    const obliterated = new Set<string>();
    // Obliterates that started but were not acknowledged before the kill: either outcome is right.
    const inDoubt = new Set<string>();
    try {
      for (let c = 0; c < CYCLES; c++) {
        const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(c)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
        });
        const ready = new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            // Start the kill clock at the first acknowledged create: on a loaded machine the first
            // one can take longer than the whole kill window, and a cycle without creates tests nothing.
            if (out.includes('\ncreated ')) resolve();
          });
          child.on('exit', () => reject(new Error(`child exited early: ${err.slice(-1500)}`)));
        });
        await ready;
        await new Promise((r) => setTimeout(r, 500 + Math.random() * 2000));
        const exited = new Promise((r) => child.on('exit', r));
        child.kill('SIGKILL');
        await exited;
        for (const line of out.split('\n')) {
          const m = /^(created|obliterating|obliterated) (\S+)$/.exec(line);
          if (m?.[1] === 'created') created.add(m[2]!);
          if (m?.[1] === 'obliterating') inDoubt.add(m[2]!);
          if (m?.[1] === 'obliterated') {
            obliterated.add(m[2]!);
            inDoubt.delete(m[2]!);
          }
        }
        const db = await openDatabase(dir, { background: false });
        try {
          const live = new Set<string>(await db.catalog.liveIds());
          const inEngine = new Set<string>(db.engine.streamIds());
          assert.deepEqual([...live].sort(), [...inEngine].sort(), `cycle ${c}: catalog and engine disagree`);
          for (const id of created) {
            if (obliterated.has(id)) {
              assert.ok(!live.has(id), `cycle ${c}: obliterated ${id} is still live`);
              continue;
            }
            if (inDoubt.has(id) && !live.has(id)) {
              obliterated.add(id); // its obliterate took effect before the kill: it must stay gone
              continue;
            }
            assert.ok(live.has(id), `cycle ${c}: acknowledged stream ${id} is missing`);
            const got = await db.engine.valuesArray(id as StreamId, -(1n << 60n), 48n << 56n);
            assert.equal(got.times.length, 1, `cycle ${c}: stream ${id} lost its point`);
          }
          assert.deepEqual((await db.check()).problems, []);
        } finally {
          await db.close();
        }
      }
      assert.ok(created.size > CYCLES, `only ${created.size} streams were created`);
      assert.ok(obliterated.size > 0, 'no obliterate was acknowledged');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

/**
 * The README's embedded example must run as written: extract the first ```ts block, point its
 * `arbordb` import at this checkout, run it in a temp directory, and check what it prints.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { Connection, Database, open } from '../../src/index.ts';

it('the README embedded example runs and prints what its comments say', () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code, 'README has a ```ts example');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-readme-'));
  try {
    const entry = path.resolve('src/index.ts');
    const file = path.join(dir, 'example.mts'); // .mts: an ES module (top-level await)
    fs.writeFileSync(file, code.replace(`from 'arbordb'`, `from ${JSON.stringify(entry)}`));
    const tsx = import.meta.resolve('tsx');
    const out = execFileSync(process.execPath, ['--import', tsx, file], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /^7200 \{/, out);
    assert.match(out, /count: 12[01]/); // 8 333 333 ns apart: 120 or 121 points per second
    assert.equal(lines.at(-1), '7200', out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('open() returns an instance of the exported Database (also exported as Connection)', async () => {
  const db = await open(null, { background: false });
  try {
    assert.ok(db instanceof Database);
    assert.equal(Database, Connection);
  } finally {
    await db.close();
  }
});

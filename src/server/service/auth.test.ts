import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ApiKeyAuth, bearerKey } from './auth.ts';
import { generateKey, type KeyEntry, writeKeyEntries } from './keys-file.ts';
import type { Role } from './roles.ts';

test('bearerKey accepts the scheme word in any case and trims spaces', () => {
  assert.equal(bearerKey('Bearer abc'), 'abc');
  assert.equal(bearerKey('bearer abc'), 'abc');
  assert.equal(bearerKey('BEARER   abc  '), 'abc');
  assert.equal(bearerKey('Basic abc'), undefined);
  assert.equal(bearerKey('Bearer'), undefined);
  assert.equal(bearerKey(undefined), undefined);
});

test('a server without keys is open and grants admin', () => {
  const a = new ApiKeyAuth([]);
  assert.equal(a.open, true);
  assert.deepEqual(a.check(undefined), { ok: true, keyIndex: null, role: 'admin', keyId: null });
});

test('only a configured plain key passes, reported by position, with role admin', () => {
  const a = new ApiKeyAuth(['k1', 'k2']);
  assert.deepEqual(a.check('Bearer k2'), { ok: true, keyIndex: 1, role: 'admin', keyId: null });
  assert.equal(a.check('Bearer k3').ok, false);
  assert.equal(a.check('Bearer k').ok, false);
  assert.equal(a.check('Bearer k1x').ok, false);
  assert.equal(a.check('k1').ok, false);
  assert.equal(a.check(undefined).ok, false);
});

function keysDir(): { file: string; add(role: Role): { entry: KeyEntry; key: string }; entries: KeyEntry[] } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-auth-')), 'keys');
  const entries: KeyEntry[] = [];
  return {
    file,
    entries,
    add(role) {
      const made = generateKey(role, '', new Set(entries.map((e) => e.id)));
      entries.push(made.entry);
      writeKeyEntries(file, entries);
      return made;
    },
  };
}

test('keys-file keys pass with their own role and id; a wrong secret for a known id fails', () => {
  const d = keysDir();
  const r = d.add('read');
  const w = d.add('write');
  const a = new ApiKeyAuth(['plain'], { keysFile: d.file, watch: false });
  assert.deepEqual(a.check(`Bearer ${r.key}`), { ok: true, keyIndex: null, role: 'read', keyId: r.entry.id });
  assert.deepEqual(a.check(`Bearer ${w.key}`), { ok: true, keyIndex: null, role: 'write', keyId: w.entry.id });
  assert.equal(a.check('Bearer plain').role, 'admin');
  const forged = `arb_${r.entry.id}_${'A'.repeat(43)}`;
  assert.equal(a.check(`Bearer ${forged}`).ok, false);
  const unknownId = `arb_ffffffffffff_${r.key.slice(-43)}`;
  assert.equal(a.check(`Bearer ${unknownId}`).ok, false);
  assert.equal(a.keyCount, 3);
  a.close();
});

test('a revoked key is refused and an added key accepted on the next check, without a restart', () => {
  const d = keysDir();
  const r = d.add('read');
  const a = new ApiKeyAuth([], { keysFile: d.file, watch: false, recheckMs: 0 });
  assert.equal(a.check(`Bearer ${r.key}`).ok, true);
  const w = d.add('write');
  assert.equal(a.check(`Bearer ${w.key}`).role, 'write');
  d.entries.splice(0, 1); // revoke the read key
  writeKeyEntries(d.file, d.entries);
  assert.equal(a.check(`Bearer ${r.key}`).ok, false);
  assert.equal(a.check(`Bearer ${w.key}`).ok, true);
});

test('with a re-check interval the change is seen once the interval has passed, or at once on reload()', async () => {
  const d = keysDir();
  const r = d.add('read');
  const a = new ApiKeyAuth([], { keysFile: d.file, watch: false, recheckMs: 100 });
  assert.equal(a.check(`Bearer ${r.key}`).ok, true);
  writeKeyEntries(d.file, []);
  a.reload();
  assert.equal(a.check(`Bearer ${r.key}`).ok, false);
  const r2 = d.add('read');
  await new Promise((res) => setTimeout(res, 150));
  assert.equal(a.check(`Bearer ${r2.key}`).ok, true);
});

test('fs.watch alone notices a change (no re-stat interval)', async () => {
  const d = keysDir();
  const r = d.add('admin');
  const a = new ApiKeyAuth([], { keysFile: d.file, recheckMs: 3_600_000 });
  try {
    assert.equal(a.check(`Bearer ${r.key}`).ok, true);
    writeKeyEntries(d.file, []);
    const deadline = Date.now() + 5000;
    while (a.check(`Bearer ${r.key}`).ok && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    assert.equal(a.check(`Bearer ${r.key}`).ok, false, 'refused within 5 s by the watcher');
  } finally {
    a.close();
  }
});

test('the server is open only while no keys file exists; deleting or breaking the file fails closed', () => {
  const d = keysDir();
  const a = new ApiKeyAuth([], { keysFile: d.file, watch: false, recheckMs: 0 });
  assert.equal(a.open, true, 'no file yet');
  writeKeyEntries(d.file, []);
  assert.equal(a.open, false, 'an empty keys file closes the server');
  assert.equal(a.check(undefined).ok, false);
  const k = d.add('admin');
  assert.equal(a.check(`Bearer ${k.key}`).ok, true);
  fs.writeFileSync(d.file, 'garbage\n');
  const logged: string[] = [];
  const b = new ApiKeyAuth([], { keysFile: d.file, watch: false, recheckMs: 0, log: (l) => logged.push(l) });
  assert.equal(a.check(`Bearer ${k.key}`).ok, false, 'a malformed file accepts none of its keys');
  assert.equal(b.open, false);
  assert.match(logged.join('\n'), /cannot be read/);
  fs.rmSync(d.file);
  assert.equal(a.open, false, 'a deleted file does not reopen the server');
  assert.equal(a.check(`Bearer ${k.key}`).ok, false);
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  formatKeyEntries,
  generateKey,
  KeysFileError,
  parseKeyEntries,
  readKeyEntries,
  secretMatches,
  splitKey,
  withKeysFileLock,
  writeKeyEntries,
} from './keys-file.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-keys-'));

test('a generated key is arb_<12 hex id>_<43 base64url> and only its own secret matches its entry', () => {
  const { entry, key } = generateKey('write', 'ingest', new Set());
  assert.match(key, /^arb_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  const parts = splitKey(key);
  assert.ok(parts);
  assert.equal(parts.id, entry.id);
  assert.equal(Buffer.from(parts.secret, 'base64url').length, 32, '256 bits of randomness');
  assert.ok(secretMatches(entry, parts.secret));
  // One character changed (never to itself: a random secret ends in 'A' one time in 64).
  const other = parts.secret.endsWith('A') ? 'B' : 'A';
  assert.ok(!secretMatches(entry, `${parts.secret.slice(0, -1)}${other}`));
  // Independent reference: SHA-256 over salt then secret.
  const ref = createHash('sha256')
    .update(Buffer.concat([entry.salt, Buffer.from(parts.secret)]))
    .digest();
  assert.deepEqual(Buffer.from(entry.hash), ref);
  assert.equal(splitKey('plain-key'), undefined);
  assert.equal(splitKey(`${key}x`), undefined);
});

test('two keys never share an id, salt or secret', () => {
  const a = generateKey('read', '', new Set());
  const b = generateKey('read', '', new Set([a.entry.id]));
  assert.notEqual(a.entry.id, b.entry.id);
  assert.notDeepEqual(a.entry.salt, b.entry.salt);
  assert.notEqual(a.key, b.key);
});

test('the file text round-trips and never contains the secret', () => {
  const made = [generateKey('read', 'grafana board', new Set()), generateKey('admin', '', new Set())];
  const text = formatKeyEntries(made.map((m) => m.entry));
  assert.ok(text.startsWith('# arbordb keys v1\n'));
  for (const m of made) assert.ok(!text.includes(splitKey(m.key)!.secret), 'secret not stored');
  const back = parseKeyEntries(text);
  assert.deepEqual(
    back.map((e) => [e.id, e.role, e.label, e.created, Buffer.from(e.hash).toString('hex')]),
    made.map((m) => [
      m.entry.id,
      m.entry.role,
      m.entry.label,
      m.entry.created,
      Buffer.from(m.entry.hash).toString('hex'),
    ]),
  );
});

test('malformed lines are refused with their line number', () => {
  const good = formatKeyEntries([generateKey('read', '', new Set()).entry])
    .trimEnd()
    .split('\n')
    .at(-1)!;
  const f = good.split('\t');
  const cases: [string, RegExp][] = [
    ['just one field', /line 1: expected 4 or 5/],
    [['ABC', ...f.slice(1)].join('\t'), /line 1: id must be 12/],
    [[f[0], 'root', ...f.slice(2)].join('\t'), /line 1: role must be/],
    [[f[0], f[1], 'md5$x$y', f[3]].join('\t'), /line 1: hash must be/],
    [[f[0], f[1], 'sha256$AAAA$BBBB', f[3]].join('\t'), /line 1: salt must be 16 bytes/],
    [[...f.slice(0, 3), 'yesterday'].join('\t'), /line 1: created must be/],
    [`${good}\n${good}`, /line 2: id .* appears twice/],
  ];
  for (const [text, re] of cases)
    assert.throws(
      () => parseKeyEntries(text),
      (e: unknown) => e instanceof KeysFileError && re.test(e.message),
    );
  assert.deepEqual(parseKeyEntries('# only a comment\n\n'), []);
});

test('labels with tabs or line breaks are refused (they would break the line format)', () => {
  assert.throws(() => generateKey('read', 'a\tb', new Set()), KeysFileError);
  assert.throws(() => generateKey('read', 'a\nb', new Set()), KeysFileError);
  assert.throws(() => generateKey('read', 'x'.repeat(201), new Set()), KeysFileError);
});

test('the file is written atomically with mode 0600 and leaves no temporary file', () => {
  const dir = tmp();
  const file = path.join(dir, 'keys');
  assert.deepEqual(readKeyEntries(file), [], 'a missing file has no keys');
  const a = generateKey('read', '', new Set()).entry;
  const b = generateKey('write', '', new Set()).entry;
  fs.writeFileSync(`${file}.tmp`, 'left by a crash', { mode: 0o644 });
  writeKeyEntries(file, [a]);
  const inoBefore = fs.statSync(file).ino;
  writeKeyEntries(file, [a, b]);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.notEqual(fs.statSync(file).ino, inoBefore, 'replaced by rename, not rewritten in place');
  assert.deepEqual(fs.readdirSync(dir), ['keys']);
  assert.deepEqual(
    readKeyEntries(file).map((e) => e.id),
    [a.id, b.id],
  );
});

test('the writers lock excludes a second writer and is released afterwards', () => {
  const file = path.join(tmp(), 'keys');
  const inner = withKeysFileLock(file, () => {
    assert.throws(() => withKeysFileLock(file, () => 1, 50), /held by another/);
    return 2;
  });
  assert.equal(inner, 2);
  assert.equal(
    withKeysFileLock(file, () => 3),
    3,
  );
  assert.ok(!fs.existsSync(`${file}.lock`));
});

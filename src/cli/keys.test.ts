import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ApiKeyAuth } from '../server/service/auth.ts';
import { type KeysIO, keysCommand } from './keys.ts';
import { USAGE, UsageError } from './main.ts';

function capture(
  env: Record<string, string | undefined> = {},
): KeysIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env,
    stdout: () => out,
    stderr: () => err,
  };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-keys-cli-'));

test('keys add prints the key once on stdout and stores only its hash in DATA/keys (mode 0600)', async () => {
  const dir = path.join(tmp(), 'data');
  const io = capture();
  await keysCommand(['add', '--role', 'write', '--label', 'pmu ingest', '--data', dir], io);
  const key = io.stdout().trim();
  assert.match(key, /^arb_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert.match(io.stderr(), /only time the key is shown/);
  const file = path.join(dir, 'keys');
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(!text.includes(key.slice(17)), 'the secret is not in the file');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const auth = new ApiKeyAuth([], { keysFile: file, watch: false });
  assert.equal(auth.check(`Bearer ${key}`).role, 'write');
});

test('keys list shows id, role, time and label but never a secret or hash', async () => {
  const file = path.join(tmp(), 'k');
  const keys: string[] = [];
  for (const role of ['read', 'admin']) {
    const io = capture();
    await keysCommand(['add', '--role', role, '--file', file, '--label', `${role} one`], io);
    keys.push(io.stdout().trim());
  }
  const io = capture();
  await keysCommand(['list', '--file', file], io);
  const lines = io.stdout().trim().split('\n');
  assert.match(lines[0]!, /^ID\s+ROLE\s+CREATED\s+LABEL$/);
  assert.equal(lines.length, 3);
  assert.match(lines[1]!, new RegExp(`^${keys[0]!.slice(4, 16)}\\s+read\\s+\\d{4}-\\d\\d-\\d\\dT.*read one$`));
  const body = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
  const hashes = body.match(/sha256\$[^\t]+/g) ?? [];
  assert.equal(hashes.length, 2);
  for (const k of keys) assert.ok(!io.stdout().includes(k.slice(17)));
  for (const h of hashes) assert.ok(!io.stdout().includes(h.split('$')[2]!));
  const js = capture();
  await keysCommand(['list', '--file', file, '--json'], js);
  assert.deepEqual(
    (JSON.parse(js.stdout()) as { role: string; label: string }[]).map((r) => [r.role, r.label]),
    [
      ['read', 'read one'],
      ['admin', 'admin one'],
    ],
  );
});

test('keys revoke removes exactly that key; an unknown id is a usage error', async () => {
  const file = path.join(tmp(), 'keys');
  const a = capture();
  await keysCommand(['add', '--role', 'read', '--file', file], a);
  const b = capture();
  await keysCommand(['add', '--role', 'read', '--file', file], b);
  const keyA = a.stdout().trim();
  const keyB = b.stdout().trim();
  const auth = new ApiKeyAuth([], { keysFile: file, watch: false, recheckMs: 0 });
  assert.equal(auth.check(`Bearer ${keyA}`).ok, true);
  const r = capture();
  await keysCommand(['revoke', keyA.slice(4, 16), '--file', file], r);
  assert.match(r.stderr(), /revoked key/);
  assert.equal(auth.check(`Bearer ${keyA}`).ok, false, 'refused on the next check');
  assert.equal(auth.check(`Bearer ${keyB}`).ok, true);
  await assert.rejects(keysCommand(['revoke', 'ffffffffffff', '--file', file], capture()), UsageError);
});

test('bad command lines are usage errors and the data directory default follows ARBOR_DATA', async () => {
  await assert.rejects(keysCommand(['add', '--file', path.join(tmp(), 'k')], capture()), /--role must be one of/);
  await assert.rejects(keysCommand(['add', '--role', 'root', '--file', path.join(tmp(), 'k')], capture()), UsageError);
  await assert.rejects(
    keysCommand(['add', '--role', 'read', '--label', 'a\tb', '--file', path.join(tmp(), 'k')], capture()),
    UsageError,
  );
  await assert.rejects(keysCommand(['add', '--role', 'read', '--file', 'a', '--data', 'b'], capture()), UsageError);
  await assert.rejects(keysCommand(['rotate'], capture()), /unknown keys command/);
  const dir = tmp();
  await keysCommand(['add', '--role', 'read'], capture({ ARBOR_DATA: dir }));
  assert.ok(fs.existsSync(path.join(dir, 'keys')));
  const help = capture();
  await keysCommand(['--help'], help);
  assert.match(help.stdout(), /arbor keys add --role read\|write\|admin/);
  assert.match(USAGE, /keys\s+API keys with roles/);
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DbError } from '../core/errors.ts';
import { connectRemote, parseCredentialsYaml, resolveCredentials } from './remote-backend.ts';

function homeWith(yaml: string): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-creds-'));
  fs.mkdirSync(path.join(home, '.predictivegrid'));
  fs.writeFileSync(path.join(home, '.predictivegrid', 'credentials.yaml'), yaml);
  return home;
}

const FILE = `# profiles
default:
  name: default
  btrdb:
    endpoints: 10.0.0.1:4410
    api_key: "file-key"   # quoted
arbor:
  name: arbor
  btrdb: {endpoints: "127.0.0.1:4411", api_key: 'k, with comma'}
`;

test('the credentials YAML subset parses block and flow mappings, quotes and comments', () => {
  const y = parseCredentialsYaml(FILE);
  assert.deepEqual(y.default, { name: 'default', btrdb: { endpoints: '10.0.0.1:4410', api_key: 'file-key' } });
  assert.deepEqual(y.arbor, { name: 'arbor', btrdb: { endpoints: '127.0.0.1:4411', api_key: 'k, with comma' } });
});

test('credentials merge like btrdb.connect: default profile < BTRDB_* environment < arguments', () => {
  const home = homeWith(FILE);
  try {
    assert.deepEqual(resolveCredentials({ home, env: {} }), { endpoints: '10.0.0.1:4410', apiKey: 'file-key' });
    assert.deepEqual(resolveCredentials({ home, env: { BTRDB_PROFILE: 'arbor' } }), {
      endpoints: '127.0.0.1:4411',
      apiKey: 'k, with comma',
    });
    assert.deepEqual(resolveCredentials({ home, env: { BTRDB_ENDPOINTS: 'e:1' } }), {
      endpoints: 'e:1',
      apiKey: 'file-key',
    });
    assert.deepEqual(resolveCredentials({ home, env: { BTRDB_API_KEY: 'env' }, endpoints: 'a:2' }), {
      endpoints: 'a:2',
      apiKey: 'env',
    });
    assert.deepEqual(
      resolveCredentials({ home, env: { BTRDB_ENDPOINTS: 'e:1' }, profile: 'arbor' }).endpoints,
      '127.0.0.1:4411',
    );
    assert.throws(
      () => resolveCredentials({ home, env: {}, profile: 'nope' }),
      (e: DbError) => e.code === 438,
    );
    assert.throws(() => resolveCredentials({ home, env: {}, profile: 'arbor', endpoints: 'x:1' }), DbError);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('without a credentials file only the environment and arguments count', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-creds-'));
  try {
    assert.deepEqual(resolveCredentials({ home, env: {} }), {});
    assert.deepEqual(resolveCredentials({ home, env: { BTRDB_ENDPOINTS: 'h:4410', BTRDB_API_KEY: 'k' } }), {
      endpoints: 'h:4410',
      apiKey: 'k',
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('connectRemote without any endpoint is 438 and an unreachable server is 402 after retries', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-creds-'));
  try {
    await assert.rejects(connectRemote({ home, env: {} }), (e: DbError) => e.code === 438);
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await assert.rejects(connectRemote({ home, env: {}, endpoints: `127.0.0.1:${port}`, retries: 2 }), (e: DbError) => {
      assert.equal(e.code, 402);
      assert.match(e.message, /UNAVAILABLE/);
      return true;
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('a CA bundle that cannot be read is an error, as in btrdb-python', async () => {
  await assert.rejects(
    connectRemote({ env: { BTRDB_CA_BUNDLE: '/nonexistent/ca.pem' }, endpoints: '127.0.0.1:4411', home: os.tmpdir() }),
    /BTRDB_CA_BUNDLE/,
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_GRPC, parseKeysFile, parseServeConfig, UsageError } from './serve-config.ts';

const noFile = (f: string): string => {
  throw new Error(`ENOENT: ${f}`);
};

test('defaults apply when neither flags nor environment say anything', () => {
  const c = parseServeConfig([], {}, noFile);
  assert.equal(c.data, './data');
  assert.equal(c.grpc, DEFAULT_GRPC);
  assert.equal(c.http, '127.0.0.1:9000');
  assert.deepEqual(c.apiKeys, []);
  assert.equal(c.enableFaultInject, false);
  assert.equal(c.tlsCert, null);
});

test('flags win over the environment, which wins over defaults', () => {
  const env = {
    ARBOR_DATA: '/env',
    ARBOR_GRPC: '0.0.0.0:1',
    ARBOR_API_KEYS: 'e1, e2',
    ARBOR_ENABLE_FAULT_INJECT: 'yes',
  };
  const fromEnv = parseServeConfig([], env, noFile);
  assert.equal(fromEnv.data, '/env');
  assert.equal(fromEnv.grpc, '0.0.0.0:1');
  assert.deepEqual(fromEnv.apiKeys, ['e1', 'e2']);
  assert.equal(fromEnv.enableFaultInject, true);
  const fromFlags = parseServeConfig(
    ['--data', '/flag', '--grpc', '127.0.0.1:0', '--api-key', 'f1', '--api-key', 'f2'],
    env,
    noFile,
  );
  assert.equal(fromFlags.data, '/flag');
  assert.equal(fromFlags.grpc, '127.0.0.1:0');
  assert.deepEqual(fromFlags.apiKeys, ['f1', 'f2']);
});

test('a keys file gives one key per line, skipping blanks and comments', () => {
  assert.deepEqual(parseKeysFile('# keys\nk1\n\n  k2  \r\n#k3\n'), ['k1', 'k2']);
  const c = parseServeConfig(['--api-keys-file', 'keys.txt', '--api-key', 'k0'], {}, () => 'k1\nk2\n');
  assert.deepEqual(c.apiKeys, ['k0', 'k1', 'k2']);
});

test('bad command lines are usage errors', () => {
  assert.throws(() => parseServeConfig(['--nope'], {}, noFile), UsageError);
  assert.throws(() => parseServeConfig(['--grpc', 'localhost'], {}, noFile), UsageError);
  assert.throws(() => parseServeConfig(['--tls-cert', 'a.pem'], {}, noFile), UsageError);
  assert.throws(() => parseServeConfig(['--api-keys-file', 'missing'], {}, noFile), UsageError);
  assert.throws(() => parseServeConfig(['--grace-ms', '-1'], {}, noFile), UsageError);
});

test(':memory: selects an in-memory database', () => {
  assert.equal(parseServeConfig(['--data', ':memory:'], {}, noFile).data, null);
});

test('compaction is off by default and --compact-every / --keep-versions turn it on', () => {
  const off = parseServeConfig([], {}, noFile);
  assert.equal(off.compactEveryMs, 0);
  assert.equal(off.keepVersions, null);
  const on = parseServeConfig(['--compact-every', '500', '--keep-versions', '3'], {}, noFile);
  assert.equal(on.compactEveryMs, 500);
  assert.equal(on.keepVersions, 3);
  const env = parseServeConfig([], { ARBOR_COMPACT_EVERY_MS: '60000', ARBOR_KEEP_VERSIONS: '10' }, noFile);
  assert.equal(env.compactEveryMs, 60_000);
  assert.equal(env.keepVersions, 10);
  assert.throws(() => parseServeConfig(['--compact-every', 'soon'], {}, noFile), UsageError);
  assert.throws(() => parseServeConfig(['--keep-versions', '0'], {}, noFile), UsageError);
});

test('the keys file defaults to DATA/keys; an explicit one must exist', () => {
  assert.equal(parseServeConfig(['--data', '/srv/db'], {}, noFile).keysFile, '/srv/db/keys');
  assert.equal(parseServeConfig(['--data', ':memory:'], {}, noFile).keysFile, null);
  assert.equal(parseServeConfig(['--keys-file', '/etc/k'], {}, () => '').keysFile, '/etc/k');
  assert.equal(parseServeConfig([], { ARBOR_KEYS_FILE: '/env/k' }, () => '').keysFile, '/env/k');
  assert.throws(() => parseServeConfig(['--keys-file', '/missing'], {}, noFile), /arbor keys add --file/);
});

test('limit flags set the gRPC message size, concurrent calls and HTTP body size', () => {
  const c = parseServeConfig(
    ['--max-message-mb', '8', '--max-concurrent-streams', '16', '--max-body-mb', '2'],
    {},
    noFile,
  );
  assert.equal(c.maxMessageBytes, 8 << 20);
  assert.equal(c.maxConcurrentStreams, 16);
  assert.equal(c.maxBodyBytes, 2 << 20);
  assert.equal(parseServeConfig([], { ARBOR_MAX_CONCURRENT_STREAMS: '7' }, noFile).maxConcurrentStreams, 7);
  assert.throws(() => parseServeConfig(['--max-concurrent-streams', '0'], {}, noFile), UsageError);
  assert.throws(() => parseServeConfig(['--max-message-mb', 'lots'], {}, noFile), UsageError);
});

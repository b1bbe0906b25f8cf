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

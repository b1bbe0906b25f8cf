import assert from 'node:assert/strict';
import os from 'node:os';
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

test('--cluster with etcd, catalog and objects gives a cluster config; its defaults are sensible', () => {
  const c = parseServeConfig(
    [
      '--cluster',
      'prod',
      '--etcd',
      'http://10.0.0.1:2379, http://10.0.0.2:2379',
      '--catalog',
      'postgres://arbor@db/arbor',
      '--objects',
      's3://K:S@rgw:7480/arbor/',
      '--grpc',
      '10.0.0.5:4410',
    ],
    {},
    noFile,
  );
  assert.ok(c.cluster);
  const { nodeId, ...rest } = c.cluster;
  assert.deepEqual(rest, {
    name: 'prod',
    etcd: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'],
    catalog: 'postgres://arbor@db/arbor',
    objects: 's3://K:S@rgw:7480/arbor/',
    internal: '10.0.0.5:0',
    shards: 64,
    leaseSeconds: 5,
    gcGraceMs: 600_000,
  });
  assert.equal(nodeId, `${os.hostname()}-4410`, 'the default node id is HOST-GRPCPORT');
  assert.equal(c.keysFile, null, 'a cluster node has no data directory, so no default keys file');
  assert.equal(parseServeConfig([], {}, noFile).cluster, null, 'no --cluster: a single node');
});

test('cluster-mode mistakes are usage errors that say what to do', () => {
  const base = [
    '--cluster',
    'c',
    '--etcd',
    'http://e:2379',
    '--catalog',
    'postgres://db/x',
    '--objects',
    's3://K:S@h:1/b',
  ];
  const bad: [string[], RegExp][] = [
    [['--etcd', 'http://e:2379'], /--etcd is a cluster-mode option: give --cluster NAME too/],
    [['--cluster', 'c'], /cluster mode needs --etcd/],
    [['--cluster', 'c', '--etcd', 'http://e:2379'], /cluster mode needs --catalog/],
    [[...base, '--data', '/d'], /--data does not apply in cluster mode/],
    [[...base, '--snapdb'], /--snapdb does not apply in cluster mode/],
    [[...base.slice(0, 5), 'sqlite://x', ...base.slice(6)], /--catalog must be a postgres:\/\/ URL/],
    [[...base.slice(0, 7), 'http://h/b'], /--objects must be an s3:\/\/ URL/],
    [[...base, '--shards', '0'], /--shards must be a whole number/],
    [[...base, '--node-id', 'has space'], /--node-id must be/],
    [['--cluster', 'c', '--etcd', 'e:2379'], /--etcd: e:2379 is not http\(s\):\/\/HOST:PORT/],
  ];
  for (const [argv, re] of bad) {
    assert.throws(
      () => parseServeConfig(argv, {}, noFile),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      argv.join(' '),
    );
  }
});

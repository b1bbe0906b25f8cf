import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runServer, ServeError } from '../serve/run-server.ts';
import { DEFAULT_SNAPDB, parseServeConfig, UsageError } from '../serve/serve-config.ts';
import { SnapdbClient } from './snapdb-client.ts';
import { snapdbBindProblem } from './snapdb-server.ts';

const parse = (argv: string[], env: Record<string, string> = {}) => parseServeConfig(argv, env, () => '');

test('arbor serve has no SNAPdb listener unless --snapdb is given', () => {
  assert.equal(parse(['--data', ':memory:']).snapdb, null);
});

test('--snapdb alone listens on 127.0.0.1:38402, last or before another option', () => {
  assert.equal(DEFAULT_SNAPDB, '127.0.0.1:38402');
  assert.equal(parse(['--data', ':memory:', '--snapdb']).snapdb, DEFAULT_SNAPDB);
  assert.equal(parse(['--snapdb', '--data', ':memory:']).snapdb, DEFAULT_SNAPDB);
});

test('--snapdb HOST:PORT and ARBOR_SNAPDB choose the address; a bad one is a usage error', () => {
  assert.equal(parse(['--data', ':memory:', '--snapdb', '0.0.0.0:4000']).snapdb, '0.0.0.0:4000');
  assert.equal(parse(['--data', ':memory:'], { ARBOR_SNAPDB: '127.0.0.1:5000' }).snapdb, '127.0.0.1:5000');
  assert.throws(() => parse(['--data', ':memory:', '--snapdb', 'nope']), UsageError);
});

test('with API keys configured SNAPdb may only bind a loopback address', () => {
  assert.equal(snapdbBindProblem('0.0.0.0:38402', false), null);
  assert.equal(snapdbBindProblem('127.0.0.1:38402', true), null);
  assert.equal(snapdbBindProblem('[::1]:38402', true), null);
  assert.equal(snapdbBindProblem('localhost:38402', true), null);
  assert.match(snapdbBindProblem('0.0.0.0:38402', true) ?? '', /no authentication/);
  assert.match(snapdbBindProblem('10.1.2.3:38402', true) ?? '', /loopback/);
});

const quiet = { out: () => undefined, err: () => undefined };

test('runServer starts the SNAPdb listener beside gRPC and HTTP and stops it on stop()', async () => {
  const cfg = parse([
    '--data',
    ':memory:',
    '--grpc',
    '127.0.0.1:0',
    '--http',
    '127.0.0.1:0',
    '--snapdb',
    '127.0.0.1:0',
  ]);
  const running = await runServer(cfg, quiet);
  try {
    assert.ok(running.snapdb);
    const port = Number(running.snapdb.address.split(':').at(-1));
    const c = await SnapdbClient.connect('127.0.0.1', port);
    assert.deepEqual(
      c.instances.map((i) => i.name),
      ['PPA'],
    );
    await c.disconnect();
    c.destroy();
  } finally {
    await running.stop();
  }
});

test('runServer refuses a non-loopback SNAPdb address when API keys are configured', async () => {
  const cfg = parse([
    '--data',
    ':memory:',
    '--grpc',
    '127.0.0.1:0',
    '--http',
    '127.0.0.1:0',
    '--snapdb',
    '0.0.0.0:0',
    '--api-key',
    'k1',
  ]);
  await assert.rejects(
    runServer(cfg, quiet),
    (e: unknown) => e instanceof ServeError && /no authentication/.test(e.message),
  );
});

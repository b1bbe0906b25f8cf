/**
 * `arbor serve` as a process: help, usage errors, a taken port and a locked data directory (exit
 * 1 with one line), the open-server warning, and SIGTERM → exit 0 with the data durable.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { connectRemote } from '../../src/client/remote-backend.ts';
import type { StreamId } from '../../src/core/types.ts';
import { newStreamId } from '../../src/core/uuid.ts';
import { runServe, startServe } from './spawn-serve.ts';

const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('arbor serve: error:'));

test('--help prints the flags with their environment variables and exits 0', async () => {
  const r = await runServe(['--help']);
  assert.equal(r.code, 0);
  for (const word of [
    '--data',
    '--grpc',
    '--http',
    '--api-key',
    '--api-keys-file',
    '--tls-cert',
    '--tls-key',
    '--enable-fault-inject',
    'ARBOR_DATA',
    'ARBOR_API_KEYS',
    'Examples',
  ]) {
    assert.ok(r.stdout.includes(word), `help mentions ${word}`);
  }
});

test('an unknown flag is a usage error (exit 2)', async () => {
  const r = await runServe(['--frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /arbor serve: .*frobnicate/);
});

test('a taken port is one error line and exit 1', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const r = await runServe(['--data', ':memory:', '--grpc', `127.0.0.1:${port}`, '--api-key', 'k']);
    assert.equal(r.code, 1);
    assert.deepEqual(errorLines(r.stderr), [
      `arbor serve: error: cannot listen on 127.0.0.1:${port}: the address is already in use`,
    ]);
  } finally {
    blocker.close();
  }
});

test('SIGTERM stops cleanly (exit 0) with the data durable; a locked data directory is exit 1; no key warns', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-serve-cli-'));
  try {
    const first = await startServe(['--data', dir, '--grpc', '127.0.0.1:0']);
    assert.match(first.stderr(), /WARNING: no API key is configured: the server on .* is OPEN/);
    const locked = await runServe(['--data', dir, '--grpc', '127.0.0.1:0']);
    assert.equal(locked.code, 1);
    const lines = errorLines(locked.stderr);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /in use by another process/);

    const id: StreamId = newStreamId();
    const times = BigInt64Array.from({ length: 1000 }, (_, i) => BigInt(i));
    const remote = await connectRemote({ endpoints: first.address, env: {}, home: dir });
    await remote.create({ id, collection: 'cli/durable', tags: { name: 'x' }, annotations: {} });
    await remote.insert(id, { times, values: Float64Array.from(times, Number) }, 'never');
    await remote.close();
    assert.equal(await first.stop('SIGTERM'), 0);
    assert.match(first.stderr(), /stopped/);

    const second = await startServe(['--data', dir, '--grpc', '127.0.0.1:0', '--api-key', 'k2']);
    try {
      const again = await connectRemote({ endpoints: second.address, apiKey: 'k2', env: {}, home: dir });
      let n = 0;
      for await (const b of again.rawValues(id, 0n, 10_000n, 0)) n += b.value.times.length;
      assert.equal(n, 1000);
      await again.close();
    } finally {
      assert.equal(await second.stop('SIGINT'), 0);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

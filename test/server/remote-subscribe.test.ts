/** RemoteBackend.subscribe over a loopback gRPC server: pushes of inserted batches, then abort. */
import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { connectRemote } from '../../src/client/remote-backend.ts';
import { newStreamId } from '../../src/core/uuid.ts';
import { openDatabase } from '../../src/db/database.ts';
import { startGrpcServer } from '../../src/server/grpc/grpc-server.ts';

test('a remote subscriber receives each batch inserted after it subscribed, until it aborts', async () => {
  const db = await openDatabase(null);
  const server = await startGrpcServer({ backend: db, address: '127.0.0.1:0', apiKeys: ['k'] });
  const remote = await connectRemote({ endpoints: server.address, apiKey: 'k', env: {}, home: os.tmpdir() });
  try {
    const id = newStreamId();
    await remote.create({ id, collection: 'sub/a', tags: { name: 'x' }, annotations: {} });
    const ac = new AbortController();
    const got: bigint[][] = [];
    const reading = (async () => {
      for await (const push of remote.subscribe([id], ac.signal)) {
        assert.equal(push.id, id);
        got.push([...push.batch.times]);
        if (got.length === 2) ac.abort();
      }
    })();
    // Subscribe has no acknowledgement: give the server time to register the stream.
    await new Promise((r) => setTimeout(r, 500));
    await remote.insert(id, { times: BigInt64Array.of(1n, 2n), values: Float64Array.of(1, 2) }, 'never');
    await remote.insert(id, { times: BigInt64Array.of(3n), values: Float64Array.of(3) }, 'never');
    await reading;
    assert.deepEqual(got, [[1n, 2n], [3n]]);
  } finally {
    await remote.close();
    await server.close(1000);
    await db.close();
  }
});

/**
 * Archives and data retention in a running server: `--attach` at start, `arbor archive attach /
 * detach / list` at run time over the admin HTTP API, reads through the remote gRPC client, writes
 * refused; `--retain` dropping old points on the compaction timer.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { archiveCommand } from '../../src/cli/archive.ts';
import { connectRemote } from '../../src/client/remote-backend.ts';
import { isDbError } from '../../src/core/errors.ts';
import { DAY, MAX_TIME, MIN_TIME, SECOND } from '../../src/core/time.ts';
import type { StreamId } from '../../src/core/types.ts';
import { exportArchive } from '../../src/db/archive.ts';
import type { Backend } from '../../src/db/backend.ts';
import { openDatabase } from '../../src/db/database.ts';
import { type RunningServer, runServer } from '../../src/server/serve/run-server.ts';
import { parseServeConfig } from '../../src/server/serve/serve-config.ts';
import { captureStdout } from '../capture-stdout.ts';

const ARCHIVED = '00000000-0000-4000-8000-00000000a7c1' as StreamId;
const LATER = '00000000-0000-4000-8000-00000000a7c2' as StreamId;
const EDGE = '00000000-0000-4000-8000-00000000a7c3' as StreamId;
const T0 = 1_600_000_000_000_000_000n;

let tmp: string;
let server: RunningServer;
let remote: Backend;
const log: string[] = [];

async function count(b: Backend, id: StreamId): Promise<number> {
  let n = 0;
  for await (const c of b.rawValues(id, MIN_TIME, MAX_TIME, 0)) n += c.value.times.length;
  return n;
}

const cli = (argv: string[]): Promise<string> => captureStdout(() => archiveCommand(argv));

async function makeArchive(dir: string, id: StreamId, collection: string, n: number): Promise<void> {
  const src = await openDatabase(null, { background: false });
  try {
    await src.create({ id, collection, tags: { name: 'f', unit: 'Hz' }, annotations: { site: 'edge1' } });
    const times = BigInt64Array.from({ length: n }, (_, i) => T0 + BigInt(i) * (SECOND / 30n));
    await src.insert(id, { times, values: Float64Array.from({ length: n }, (_, i) => 50 + i / 1e4) });
    await exportArchive(src, dir, { collection: '', start: MIN_TIME, end: MAX_TIME }, 'test');
  } finally {
    await src.close();
  }
}

describe('a server with archives and data retention', () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-archive-serve-'));
    await makeArchive(path.join(tmp, 'a2020'), ARCHIVED, 'pmu/old', 3000);
    await makeArchive(path.join(tmp, 'a2021'), LATER, 'pmu/older', 1000);
    const cfg = parseServeConfig(
      [
        ...['--data', path.join(tmp, 'data'), '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'],
        ...['--attach', path.join(tmp, 'a2020'), '--retain', 'edge=1d', '--compact-every', '200'],
      ],
      {},
      (f) => fs.readFileSync(f, 'utf8'),
    );
    server = await runServer(cfg, { out: () => undefined, err: (line) => log.push(line) });
    remote = await connectRemote({ endpoints: server.grpc.address });
  });
  after(async () => {
    await remote?.close();
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('serves an archive attached at start over gRPC, read-only', async () => {
    assert.ok(
      log.some((l) => /attached archive a2020 .*: 1 streams/.test(l)),
      log.join('\n'),
    );
    assert.equal(await count(remote, ARCHIVED), 3000);
    const found = await remote.lookupStreams({ collection: 'pmu', isPrefix: true });
    assert.deepEqual(
      found.map((s) => s.id),
      [ARCHIVED],
    );
    assert.equal(found[0]?.annotations.site, 'edge1');
    await assert.rejects(
      remote.insert(ARCHIVED, { times: BigInt64Array.of(T0), values: Float64Array.of(1) }, 'never'),
      (e) => isDbError(e, 403) && /a2020/.test(e.message),
    );
    assert.equal(await count(remote, ARCHIVED), 3000, 'the refused insert changed nothing');
  });

  test('attaches, lists and detaches archives at run time with arbor archive', async () => {
    const url = server.http.url;
    const attached = JSON.parse(await cli(['attach', path.join(tmp, 'a2021'), '--server', url, '--name', 'older'])) as {
      name: string;
      streams: number;
    };
    assert.deepEqual([attached.name, attached.streams], ['older', 1]);
    assert.equal(await count(remote, LATER), 1000);
    const listed = JSON.parse(await cli(['list', '--server', url])) as { archives: { name: string }[] };
    assert.deepEqual(listed.archives.map((a) => a.name).sort(), ['a2020', 'older']);
    await assert.rejects(cli(['attach', 'relative/dir', '--server', url]), /absolute path/);
    await cli(['detach', 'older', '--server', url]);
    await assert.rejects(remote.streamInfo(LATER), (e) => isDbError(e, 404));
    await assert.rejects(cli(['detach', 'older', '--server', url]), /no attached archive is named "older"/);
  });

  test('drops points older than the retention age on the compaction timer', async () => {
    await remote.create({ id: EDGE, collection: 'edge/site1', tags: { name: 'f' }, annotations: {} });
    const now = BigInt(Date.now()) * 1_000_000n;
    // 10 points 2–3 days old, 10 from the last hour.
    const times = BigInt64Array.from({ length: 20 }, (_, i) =>
      i < 10 ? now - 3n * DAY + BigInt(i) * SECOND : now - 3_600n * SECOND + BigInt(i) * SECOND,
    );
    await remote.insert(EDGE, { times, values: new Float64Array(20) }, 'never');
    const deadline = Date.now() + 20_000;
    // The points go first; the log line follows once the sweep's compaction is done.
    const dropped = () => log.some((l) => /retention edge: dropped 10 points before/.test(l));
    while ((await count(remote, EDGE)) !== 10 || !dropped()) {
      assert.ok(Date.now() < deadline, `retention did not run: ${log.slice(-5).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(
      log.some((l) => /retention edge: dropped 10 points before/.test(l)),
      log.join('\n'),
    );
    assert.equal(await count(remote, EDGE), 10);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { block, blockStoreConformance } from './block-store.conformance.ts';
import { openBlockStore } from './block-store-open.ts';
import { envConformance } from './env.conformance.ts';
import { fsEnv } from './fs-env.ts';
import { collect, rec, recordLogConformance } from './record-log.conformance.ts';
import { openRecordLog } from './record-log-open.ts';
import { makeFsTestEnv } from './test-envs.ts';

envConformance('fs', makeFsTestEnv);
blockStoreConformance('fs', makeFsTestEnv);
recordLogConformance('fs', makeFsTestEnv);

describe('recovery on real files', () => {
  it('a torn tail appended to a real block segment and log segment is cut off at open', async () => {
    const t = await makeFsTestEnv();
    try {
      const blocks = await openBlockStore(fsEnv, join(t.dir, 'blocks'));
      const ref = blocks.put(block(1));
      await blocks.close();
      const seg = join(t.dir, 'blocks', '0000000001.seg');
      fs.appendFileSync(seg, new Uint8Array([200, 0, 0, 0, 1, 2, 3]));
      const blocks2 = await openBlockStore(fsEnv, join(t.dir, 'blocks'));
      assert.equal(blocks2.recovery.truncated.length, 1);
      assert.equal(fs.statSync(seg).size, 16 + 3008);
      assert.deepEqual(await blocks2.get(ref), block(1));
      await blocks2.close();

      const log = await openRecordLog(fsEnv, join(t.dir, 'wal'));
      log.append(rec(1));
      await log.close();
      const file = join(t.dir, 'wal', '0000000000000000.log');
      fs.appendFileSync(file, new Uint8Array(30).fill(0xee));
      const log2 = await openRecordLog(fsEnv, join(t.dir, 'wal'));
      assert.equal(log2.recovery.truncated[0]?.from, 96);
      assert.deepEqual(
        (await collect(log2)).map((r) => r.payload),
        [rec(1)],
      );
      await log2.close();
    } finally {
      await t.cleanup();
    }
  });
});

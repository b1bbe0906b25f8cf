/**
 * What the engine's write buffers cost in memory at fleet scale, measured in-process (no gRPC):
 * open an engine on a temp dir with the background commit timer off, create `streams` streams,
 * insert `seconds` of `hz` data into each in `batch-ms` batches (acknowledged = WAL-durable, not
 * yet committed to the tree: exactly what the engine holds for up to 10 s per stream), and report
 * heap and RSS per buffered point; then flush everything and report again.
 *
 *   node --expose-gc --import tsx bench/load/buffer-memory.ts [--streams 12000] [--hz 120] [--seconds 10] [--batch-ms 1000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { StreamId } from '../../src/core/types.ts';
import { newStreamId } from '../../src/core/uuid.ts';
import { openEngineDir } from '../../src/engine/open-dir.ts';
import { framesPerBatch, slotTimes } from './fleet-data.ts';

const { values: a } = parseArgs({
  options: {
    streams: { type: 'string', default: '12000' },
    hz: { type: 'string', default: '120' },
    seconds: { type: 'string', default: '10' },
    'batch-ms': { type: 'string', default: '1000' },
    out: { type: 'string', default: '.bench/load-buffer-memory.json' },
  },
});
const STREAMS = Number(a.streams);
const HZ = Number(a.hz);
const SECONDS = Number(a.seconds);
const BATCH_MS = Number(a['batch-ms']);
const MB = 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
function mem() {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-bufmem-'));
// commitPoints above what a stream receives, and no timer: everything stays buffered.
const engine = await openEngineDir(dir, { background: false, commitPoints: 1 << 30 });
try {
  const ids: StreamId[] = [];
  for (let i = 0; i < STREAMS; i += 500) {
    const chunk = Array.from({ length: Math.min(500, STREAMS - i) }, () => newStreamId());
    await Promise.all(chunk.map((id) => engine.createStream(id)));
    ids.push(...chunk);
  }
  const before = mem();
  const per = framesPerBatch(HZ, BATCH_MS);
  const slots = Math.round((SECONDS * 1000) / BATCH_MS);
  const t0 = 1_800_000_000_000_000_000n;
  const t = Date.now();
  for (let k = 0; k < slots; k++) {
    const times = slotTimes(t0, HZ, k, per);
    for (let i = 0; i < ids.length; i += 2000) {
      await Promise.all(
        ids.slice(i, i + 2000).map((id, j) => {
          const values = new Float64Array(per);
          for (let x = 0; x < per; x++) values[x] = 230 + ((i + j + x) % 100) / 1000;
          return engine.insert(id, { times, values });
        }),
      );
    }
  }
  const insertMs = Date.now() - t;
  const buffered = mem();
  const points = STREAMS * slots * per;
  const f = Date.now();
  await engine.flushAll();
  const flushMs = Date.now() - f;
  const flushed = mem();
  const result = {
    bench: 'load-buffer-memory',
    streams: STREAMS,
    hz: HZ,
    seconds: SECONDS,
    batchMs: BATCH_MS,
    bufferedPoints: points,
    insertMs,
    flushMs,
    heapPerPointB: (buffered.heap - before.heap) / points,
    externalPerPointB: (buffered.external - before.external) / points,
    rssPerPointB: (buffered.rss - before.rss) / points,
    rssBufferedMB: Math.round(buffered.rss / MB),
    rssBeforeMB: Math.round(before.rss / MB),
    rssAfterFlushMB: Math.round(flushed.rss / MB),
    heapAfterFlushMB: Math.round(flushed.heap / MB),
    loadavg: os.loadavg(),
  };
  console.log(
    `${STREAMS} streams × ${SECONDS} s × ${HZ} Hz = ${(points / 1e6).toFixed(1)}M buffered points: ` +
      `heap +${result.heapPerPointB.toFixed(1)} B/pt, array buffers +${result.externalPerPointB.toFixed(1)} B/pt, ` +
      `RSS ${result.rssBeforeMB} → ${result.rssBufferedMB} MB (${result.rssPerPointB.toFixed(1)} B/pt); ` +
      `after flushAll (${flushMs} ms) RSS ${result.rssAfterFlushMB} MB, heap ${result.heapAfterFlushMB} MB`,
  );
  fs.mkdirSync(path.dirname(path.resolve(a.out)), { recursive: true });
  fs.writeFileSync(a.out, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await engine.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

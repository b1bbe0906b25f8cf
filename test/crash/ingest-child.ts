/**
 * Child process of the kill loop: opens the engine on a directory and ingests forever from several
 * concurrent writers, printing one line per acknowledged insert ("ack <stream> <first> <n>") only
 * after the insert resolved (i.e. after its fsync). The parent kills it with SIGKILL.
 *
 * Batch k of writer w in cycle c covers [firstTime(c, k), + n µs) of stream w with values derived
 * from (k, i, w), so the parent can verify every acknowledged batch exactly.
 */
import { openEngineDir } from '../../src/engine/open-dir.ts';
import { firstTime, streamOf, WRITERS } from './ingest-child-shared.ts';

const [dir, cycleArg] = process.argv.slice(2);
if (!dir || !cycleArg) throw new Error('usage: ingest-child DIR CYCLE');
const cycle = Number(cycleArg);
const engine = await openEngineDir(dir, { commitPoints: 5000, directInsertPoints: 20_000, maxBufferAgeMs: 200 });
for (let w = 0; w < WRITERS; w++) if (!engine.hasStream(streamOf(w))) await engine.createStream(streamOf(w));
process.stdout.write('ready\n');

let seed = cycle * 7919 + 1;
const rnd = (): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

async function writer(w: number): Promise<void> {
  for (let k = 0; ; k++) {
    const r = rnd();
    const n = r < 0.05 ? 25_000 : r < 0.3 ? 3000 : 1 + Math.floor(rnd() * 300);
    const t0 = firstTime(cycle, k);
    const times = new BigInt64Array(n);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      times[i] = t0 + BigInt(i) * 1000n;
      values[i] = ((k * 1_000_003 + i) % 1_000_000) + w / 10;
    }
    await engine.insert(streamOf(w), { times, values });
    process.stdout.write(`ack ${w} ${k} ${n}\n`);
    if (rnd() < 0.05) await engine.flush(streamOf(w));
  }
}
await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

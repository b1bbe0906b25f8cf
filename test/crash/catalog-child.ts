/**
 * Child of the catalog/engine consistency test: creates streams (each with one point) and
 * obliterates some, forever, printing "created <id>" / "obliterated <id>" only after each call
 * resolved, and "obliterating <id>" before an obliterate starts (if the kill lands before
 * "obliterated", that stream is in doubt: it may or may not be gone). The parent kills it with
 * SIGKILL at a random moment.
 */
import { newStreamId } from '../../src/core/uuid.ts';
import { openDatabase } from '../../src/db/database.ts';

const [dir, cycle] = process.argv.slice(2);
if (!dir || !cycle) throw new Error('usage: catalog-child DIR CYCLE');
const db = await openDatabase(dir);
process.stdout.write('ready\n');
const mine: string[] = [];
for (let i = 0; ; i++) {
  const id = newStreamId();
  await db.create({ id, collection: `crash/c${cycle}`, tags: { name: `s${i}` }, annotations: {} });
  await db.insert(id, { times: BigInt64Array.of(BigInt(i)), values: Float64Array.of(i) }, 'never');
  process.stdout.write(`created ${id}\n`);
  mine.push(id);
  if (i % 3 === 2) {
    const victim = mine.shift()!;
    process.stdout.write(`obliterating ${victim}\n`); // in doubt until "obliterated" follows
    await db.obliterate(victim as never);
    process.stdout.write(`obliterated ${victim}\n`);
  }
}

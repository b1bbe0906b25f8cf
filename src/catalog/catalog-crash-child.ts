/**
 * Child process for catalog-crash.test.ts: opens the catalog directory given as argv[2] and
 * creates streams first, first + 1, … (first = argv[3]) forever (obliterating every 10th right after), printing `c <n>` or
 * `o <n>` to stdout once each call has resolved — i.e. once it is acknowledged. The test kills it
 * with SIGKILL at a random moment.
 */
import { sid, stream } from './catalog-testing.ts';
import { openPgliteCatalog } from './pglite-catalog.ts';

const dir = process.argv[2];
const first = Number(process.argv[3]);
if (dir === undefined || !Number.isSafeInteger(first)) throw new Error('usage: catalog-crash-child.ts DIR FIRST');
const cat = await openPgliteCatalog(dir);
process.stdout.write('open\n');
for (let n = first; ; n++) {
  await cat.create(stream(n, `crash/${n % 13}`, { name: `s${n}` }, { n: String(n) }));
  process.stdout.write(`c ${n}\n`);
  if (n % 10 === 0) {
    await cat.obliterate(sid(n));
    process.stdout.write(`o ${n}\n`);
  }
}

/** Conformance: StreamSet transformers — CSV, Arrow, records, series, arrays, text (exact ns and values). */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { StreamSet } from '../../src/client/stream-set.ts';
import { readTimes } from '../../src/client/transformers/arrow.ts';
import type { Ctx } from './context.ts';
import { BIG_T, columns, P, rejectsWith, T0 } from './helpers.ts';

async function pair(ctx: Ctx): Promise<{ collection: string; set: StreamSet; a: string; b: string }> {
  const collection = ctx.collection('tx');
  const a = await ctx.conn.create({ collection, tags: { name: 'a', unit: 'V' } });
  const b = await ctx.conn.create({ collection, tags: { name: 'b', unit: 'V' } });
  await a.insert(columns([P(BIG_T, 0.1), P(T0, -0)]));
  await b.insert(columns([P(T0, 1e21), P(T0 + 1n, 2)]));
  return { collection, set: new StreamSet([a, b]), a: a.uuid, b: b.uuid };
}

/** a: (T0, 1), (T0+1, 3); b: (T0, 10) — one 2 ns window each with round statistics. */
async function statPair(ctx: Ctx): Promise<{ collection: string; set: StreamSet }> {
  const collection = ctx.collection('txs');
  const a = await ctx.conn.create({ collection, tags: { name: 'a' } });
  const b = await ctx.conn.create({ collection, tags: { name: 'b' } });
  await a.insert(columns([P(T0, 1), P(T0 + 1n, 3)]));
  await b.insert(columns([P(T0, 10)]));
  return { collection, set: new StreamSet([a, b]) };
}

export function transformerCases(ctx: Ctx): void {
  describe('transformers', () => {
    test('toCsv writes a header of collection/name labels, exact ns times, exact values and blanks', async () => {
      const { collection, set } = await pair(ctx);
      assert.equal(
        await set.toCsv(),
        [`time,${collection}/a,${collection}/b`, `${BIG_T},0.1,`, `${T0},-0,1e+21`, `${T0 + 1n},,2`, ''].join('\n'),
      );
    });

    test('toCsv can label by uuid and write ISO times with nine fraction digits', async () => {
      const { set, a, b } = await pair(ctx);
      const csv = await set.toCsv({ columnName: 'uuid', time: 'iso' });
      const lines = csv.split('\n');
      assert.equal(lines[0], `time,${a},${b}`);
      assert.equal(lines[1], '1970-04-15T05:59:59.254740993Z,0.1,');
      assert.equal(lines[3], '2017-07-14T02:40:00.000000001Z,,2');
    });

    test('toCsv of window statistics with agg "all" names columns label/stat', async () => {
      const { collection, set } = await statPair(ctx);
      const csv = await (await set.filter({ start: T0, end: T0 + 2n })).windows(2n).toCsv({ agg: 'all' });
      const [header, row] = csv.split('\n');
      assert.equal(
        header,
        [
          'time',
          ...['a', 'b'].flatMap((n) => ['min', 'mean', 'max', 'count', 'stddev'].map((f) => `${collection}/${n}/${f}`)),
        ].join(','),
      );
      assert.equal(row, `${T0},1,2,3,2,1,10,10,10,1,0`);
    });

    test('toArrow has time timestamp[ns, UTC] with exact int64 ns and one float64 column per stream, NaN for missing', async () => {
      const { collection, set } = await pair(ctx);
      const t = tableFromIPC(tableToIPC(await set.toArrow(), 'stream'));
      assert.deepEqual(
        t.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`),
        ['time:Timestamp<NANOSECOND, UTC>:false', `${collection}/a:Float64:false`, `${collection}/b:Float64:false`],
      );
      assert.deepEqual([...readTimes(t.getChild('time')!)], [BIG_T, T0, T0 + 1n]);
      const b = t
        .getChild(`${collection}/b`)!
        .data.flatMap((d) => [...(d.values as Float64Array).subarray(0, d.length)]);
      assert.deepEqual(b, [Number.NaN, 1e21, 2]);
    });

    test('arrowValues names columns by uuid, in member order', async () => {
      const { set, a, b } = await pair(ctx);
      const t = await set.arrowValues();
      assert.deepEqual(
        t.schema.fields.map((f) => f.name),
        ['time', a, b],
      );
    });

    test('toRecords gives one object per time with null for missing values', async () => {
      const { collection, set } = await pair(ctx);
      assert.deepEqual(await set.toRecords(), [
        { time: BIG_T, [`${collection}/a`]: 0.1, [`${collection}/b`]: null },
        { time: T0, [`${collection}/a`]: -0, [`${collection}/b`]: 1e21 },
        { time: T0 + 1n, [`${collection}/a`]: null, [`${collection}/b`]: 2 },
      ]);
    });

    test('toSeries and toArrays give each stream its own unjoined times and values', async () => {
      const { collection, set } = await pair(ctx);
      const series = await set.toSeries();
      assert.deepEqual(Object.keys(series), [`${collection}/a`, `${collection}/b`]);
      assert.deepEqual([...series[`${collection}/b`]!.times], [T0, T0 + 1n]);
      const arrays = await set.toArrays();
      assert.deepEqual([...arrays[0]!.times], [BIG_T, T0]);
      const stats = await statPair(ctx);
      const maxes = await (await stats.set.filter({ start: T0, end: T0 + 2n })).windows(2n).toArrays({ agg: 'max' });
      assert.deepEqual(
        maxes.map((s) => [...s.values]),
        [[3], [10]],
      );
    });

    test('toTextTable prints a header and one line per row', async () => {
      const { collection, set } = await pair(ctx);
      const text = await set.toTextTable();
      const lines = text.split('\n');
      assert.equal(lines.length, 5);
      assert.match(lines[0]!, new RegExp(`time\\s+${collection}/a\\s+${collection}/b`));
      assert.match(lines[2]!, /^\s*9007199254740993\s+0\.1\s*$/);
    });

    test('a column-name function labels columns', async () => {
      const { set } = await pair(ctx);
      const csv = await set.toCsv({ columnName: (_s, d) => `${d.tags.name}[${d.tags.unit}]` });
      assert.equal(csv.split('\n')[0], 'time,a[V],b[V]');
    });

    test('two streams with the same collection/name make duplicate labels, rejected with 438; uuid labels work', async () => {
      const collection = ctx.collection('dupname');
      const v = await ctx.conn.create({ collection, tags: { name: 'x', unit: 'V' } });
      const i = await ctx.conn.create({ collection, tags: { name: 'x', unit: 'A' } });
      const set = new StreamSet([v, i]);
      await rejectsWith(() => set.toCsv(), 438);
      await rejectsWith(() => set.toSeries(), 438);
      assert.match(await set.toCsv({ columnName: 'uuid' }), /^time,/);
    });

    test('includeFlags adds a label/flags column for streams that carry flags (501 where flags are unsupported)', async () => {
      const s = await ctx.stream({ name: 'flagged' });
      if (!ctx.features.flags) {
        const flagged = { times: BigInt64Array.of(T0), values: Float64Array.of(1), flags: Uint32Array.of(7) };
        await rejectsWith(() => s.insert(flagged), 501, 'flags over this backend');
        return;
      }
      await s.insert({
        times: BigInt64Array.of(T0, T0 + 1n),
        values: Float64Array.of(1, 2),
        flags: Uint32Array.of(7, 0),
      });
      const set = new StreamSet([s]);
      const csv = await set.toCsv({ includeFlags: true });
      const collection = await s.collection();
      assert.equal(csv, `time,${collection}/flagged,${collection}/flagged/flags\n${T0},1,7\n${T0 + 1n},2,0\n`);
      const t = await set.toArrow({ includeFlags: true });
      assert.equal(String(t.schema.fields[2]!.type), 'Uint32');
      assert.deepEqual([...((await set.toArrays({ includeFlags: true }))[0]!.flags ?? [])], [7, 0]);
    });

    test('writeCsv writes the same text to a file', async () => {
      const { set } = await pair(ctx);
      const dir = await mkdtemp(path.join(tmpdir(), 'arbor-conf-'));
      try {
        const file = path.join(dir, 'out.csv');
        await set.writeCsv(file, { time: 'both' });
        assert.equal(await readFile(file, 'utf8'), await set.toCsv({ time: 'both' }));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}

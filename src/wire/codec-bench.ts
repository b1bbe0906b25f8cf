/**
 * Benchmark of the hot codecs against protobufjs reflection (the generic decoder that
 * @grpc/proto-loader would give). A program, not a test:
 *   node --import tsx src/wire/codec-bench.ts [points]
 * Prints a table (median of 5 runs, after a warm-up) and one JSON line.
 */
import protobuf from 'protobufjs';
import { decodeInsertParams, encodeInsertParams } from './insert-codec.ts';
import { decodeRawValuesResponse, encodeRawValuesResponse } from './raw-values-codec.ts';
import { reflectionType } from './reflection-reference.ts';
import { decodeWindowsResponse, encodeWindowsResponse, type StatPoint } from './windows-codec.ts';

// protobufjs' Long class (from its `long` dependency), typed for the two factories used here.
const Long = protobuf.util.Long as unknown as {
  fromString(s: string, unsigned?: boolean): unknown;
  fromNumber(n: number, unsigned?: boolean): unknown;
};
const n = Number(process.argv[2] ?? 1_000_000);
const windowsN = Math.max(1, Math.floor(n / 10));

function median(f: () => unknown, runs = 5): number {
  f();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    f();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(runs / 2)]!;
}

const times = new BigInt64Array(n);
const values = new Float64Array(n);
for (let i = 0; i < n; i++) {
  times[i] = 1_700_000_000_000_000_000n + BigInt(i) * 8_333_333n + BigInt((i * 7919) % 1000);
  values[i] = Math.sin(i / 100) * 120 + (i % 13) / 7;
}
const stats: StatPoint[] = [];
for (let i = 0; i < windowsN; i++) {
  stats.push({ time: BigInt(i) << 30n, min: -i, mean: i / 3, max: i, count: 120 + (i % 5), stddev: Math.sqrt(i) });
}

const raw = { versionMajor: 12n, versionMinor: 0n, values: { times, values } };
const insert = { uuid: new Uint8Array(16).fill(1), sync: false, values: { times, values }, merge_policy: 0 };
const win = { versionMajor: 12n, versionMinor: 0n, values: stats };

const rawBytes = encodeRawValuesResponse(raw);
const insertBytes = encodeInsertParams(insert);
const winBytes = encodeWindowsResponse(win);

const pts = Array.from({ length: n }, (_, i) => ({ time: Long.fromString(String(times[i]!)), value: values[i]! }));
const RawT = reflectionType('RawValuesResponse');
const InsT = reflectionType('InsertParams');
const WinT = reflectionType('WindowsResponse');
const rawMsg = RawT.create({ versionMajor: Long.fromNumber(12, true), values: pts });
const insMsg = InsT.create({ uuid: insert.uuid, values: pts });
const winMsg = WinT.create({
  versionMajor: Long.fromNumber(12, true),
  values: stats.map((s) => ({ ...s, time: Long.fromString(String(s.time)), count: Long.fromNumber(s.count, true) })),
});

const rows: [string, number, number, number][] = [
  [
    'RawValuesResponse encode',
    n,
    median(() => encodeRawValuesResponse(raw)),
    median(() => RawT.encode(rawMsg).finish()),
  ],
  ['RawValuesResponse decode', n, median(() => decodeRawValuesResponse(rawBytes)), median(() => RawT.decode(rawBytes))],
  ['InsertParams encode', n, median(() => encodeInsertParams(insert)), median(() => InsT.encode(insMsg).finish())],
  [
    'InsertParams decode',
    n,
    median(() => decodeInsertParams(insertBytes, { maxPoints: n })),
    median(() => InsT.decode(insertBytes)),
  ],
  [
    'WindowsResponse encode',
    windowsN,
    median(() => encodeWindowsResponse(win)),
    median(() => WinT.encode(winMsg).finish()),
  ],
  [
    'WindowsResponse decode',
    windowsN,
    median(() => decodeWindowsResponse(winBytes)),
    median(() => WinT.decode(winBytes)),
  ],
];

console.log(`points: ${n} (${(rawBytes.length / 1e6).toFixed(1)} MB RawValuesResponse); windows: ${windowsN}`);
console.log('| operation | items | hand-written ms | reflection ms | hand-written Mitems/s | speed-up |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [op, items, hand, refl] of rows) {
  console.log(
    `| ${op} | ${items} | ${hand.toFixed(1)} | ${refl.toFixed(1)} | ${(items / hand / 1000).toFixed(1)} | ${(refl / hand).toFixed(0)}× |`,
  );
}
console.log(
  JSON.stringify({
    points: n,
    windows: windowsN,
    rows: rows.map(([op, items, hand, refl]) => ({ op, items, hand, refl })),
  }),
);

/**
 * Writes the golden blocks in test/fixtures/format/: one .bin per block and a .json beside it with
 * the content it must decode to (times as decimal strings, floats as 16-hex-digit bit patterns).
 * golden.test.ts decodes the committed files; that is what keeps later builds reading today's
 * format. Run by hand, only when adding a fixture or a format version — never to "fix" a failing
 * golden test:
 *
 *   node --import tsx src/codec/make-fixtures.ts [dir]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../core/random.ts';
import { encodeCoreNode } from './core-node.ts';
import { encodeLeaf, type LeafEncodeOptions } from './leaf-block.ts';
import { type CoreNode, emptyCoreNode, FANOUT, type LeafColumns } from './types.ts';

/** A float64's bit pattern as 16 hex digits. */
export const floatHex = (v: number): string => {
  const b = new BigUint64Array(Float64Array.of(v).buffer)[0]!;
  return b.toString(16).padStart(16, '0');
};

/** 16 hex digits → the float64 with exactly those bits (NaN payloads included). */
export const hexFloat = (hex: string): number => new Float64Array(BigUint64Array.of(BigInt(`0x${hex}`)).buffer)[0]!;

export interface LeafFixture {
  readonly kind: 'leaf';
  readonly note: string;
  readonly times: string[];
  readonly values: string[];
  readonly flags?: number[];
}

export interface CoreFixture {
  readonly kind: 'core';
  readonly note: string;
  readonly start: string;
  readonly childPw: number;
  readonly slots: {
    readonly index: number;
    readonly addr: number;
    readonly len: number;
    readonly leaf: number;
    readonly count: number;
    readonly min: string;
    readonly max: string;
    readonly mean: string;
    readonly m2: string;
  }[];
}

const bitsToFloats = (bits: bigint[]): Float64Array => new Float64Array(BigUint64Array.from(bits).buffer);

function leaves(): [string, string, LeafColumns, LeafEncodeOptions][] {
  const rnd = mulberry32(20240101);
  const phase = rnd() * 2 * Math.PI;
  const n = 515;
  const synT = new BigInt64Array(n);
  const synV = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const off = i * 8333333 + Math.round((rnd() * 2 - 1) * 1000);
    synT[i] = 1704067200000000000n + BigInt(off);
    synV[i] = 7200 + 5 * Math.sin(2 * Math.PI * 60.05 * (off / 1e9) + phase) + (rnd() + rnd() - 1) * 0.1;
  }
  const pmuT: bigint[] = [];
  const pmuV: number[] = [];
  let t = 1355290255900000000n; // 2012-12-12T05:30:55.9Z
  for (let i = 0; i < 300; i++) {
    pmuT.push(t);
    pmuV.push(Math.round((59.998 + 0.02 * Math.sin(i / 17) + ((i * 7) % 5) / 1000) * 1000) / 1000);
    // a repeated stamp then a 0.2 s step every 10 frames, and one 3.4 h hole
    t += i % 10 === 4 ? 0n : i % 10 === 5 ? 200_000_000n : i === 150 ? 12_245_100_000_000n : 100_000_000n;
  }
  const special = bitsToFloats([
    0x8000000000000000n, // −0
    0x0000000000000000n, // +0
    0x7ff8000000000000n, // quiet NaN
    0x7ff0000000000001n, // NaN with payload 1
    0xfff8dead0000beefn, // negative NaN with payload
    0x7ff0000000000000n, // +Inf
    0xfff0000000000000n, // −Inf
    0x0000000000000001n, // smallest subnormal
    0x800fffffffffffffn, // largest negative subnormal
    0x7fefffffffffffffn, // MAX_VALUE
  ]);
  const extremes = BigInt64Array.from([
    -(2n ** 63n),
    -(2n ** 60n),
    -(2n ** 60n),
    -1n,
    0n,
    1n,
    3n * 2n ** 60n - 1n,
    3n * 2n ** 60n,
    2n ** 63n - 2n,
    2n ** 63n - 1n,
  ]);
  const flagsN = 200;
  const flagT = BigInt64Array.from({ length: flagsN }, (_, i) => 1704067200000000000n + BigInt(i) * 33_333_333n);
  const flagV = Float64Array.from({ length: flagsN }, (_, i) => Math.round(1000 * Math.cos(i / 9)) / 8);
  const flagF = Uint32Array.from({ length: flagsN }, (_, i) => (i < 120 ? 0 : i < 125 ? 0x80000001 : 2));
  const runsV = Float64Array.from({ length: flagsN }, (_, i) => (i < 70 ? 1.5 : i < 160 ? Number.NaN : -2.75));
  return [
    [
      'synthetic-515',
      'gen.mjs stream 0, first 515 points (120 Hz, jitter, 60.05 Hz sine + noise)',
      { times: synT, values: synV },
      {},
    ],
    [
      'pmu-like',
      '3-decimal frequency at 10 frames/s with repeated stamps, 0.2 s steps and a 3.4 h hole',
      { times: BigInt64Array.from(pmuT), values: Float64Array.from(pmuV) },
      {},
    ],
    [
      'flags',
      'decimal values (k = 3) with a quality-flags column in runs',
      { times: flagT, values: flagV, flags: flagF },
      {},
    ],
    [
      'special-floats',
      'special floats and int64 extremes, values forced raw',
      { times: extremes, values: special },
      { valueEncoding: 'raw' },
    ],
    [
      'special-floats-int',
      'the same, values forced to the integer-space encoding',
      { times: extremes, values: special },
      { valueEncoding: 'int', timePredictor: 'linear' },
    ],
    [
      'runs',
      'run-length values (with NaN runs) and constant flags',
      { times: flagT, values: runsV, flags: new Uint32Array(flagsN).fill(7) },
      {},
    ],
    [
      'constant',
      'one repeated value, a regular 1 ms clock',
      {
        times: BigInt64Array.from({ length: 100 }, (_, i) => BigInt(i) * 1_000_000n),
        values: new Float64Array(100).fill(-0),
      },
      {},
    ],
    ['single', 'one point', { times: BigInt64Array.of(-(2n ** 60n)), values: Float64Array.of(Math.E) }, {}],
    [
      'empty',
      'no points, flags present',
      { times: new BigInt64Array(0), values: new Float64Array(0), flags: new Uint32Array(0) },
      {},
    ],
  ];
}

function coreNode(): CoreNode {
  const node = emptyCoreNode(1704067200000000000n - (1704067200000000000n % 2n ** 38n), 32);
  const fill = (i: number, addr: number, len: number, leaf: number, count: number, stats: number[]): void => {
    node.addr[i] = addr;
    node.len[i] = len;
    node.leaf[i] = leaf;
    node.count[i] = count;
    [node.min[i], node.max[i], node.mean[i], node.m2[i]] = stats as [number, number, number, number];
  };
  fill(0, 2 ** 32 + 16, 3100, 1, 515, [7194.9, 7205.1, 7200.000123, 6437.5]);
  fill(1, 2 ** 32 + 3116, 3098, 1, 515, [-0, Number.POSITIVE_INFINITY, Number.NaN, 0]);
  fill(FANOUT - 1, Number.MAX_SAFE_INTEGER, 0xffffffff, 0, Number.MAX_SAFE_INTEGER, [
    Number.MIN_VALUE,
    Number.MAX_VALUE,
    -1e-310,
    1e300,
  ]);
  return node;
}

function leafJson(note: string, cols: LeafColumns): LeafFixture {
  const base = {
    kind: 'leaf' as const,
    note,
    times: Array.from(cols.times, String),
    values: Array.from(cols.values, floatHex),
  };
  return cols.flags === undefined ? base : { ...base, flags: Array.from(cols.flags) };
}

function coreJson(note: string, node: CoreNode): CoreFixture {
  const slots: CoreFixture['slots'] = [];
  for (let i = 0; i < FANOUT; i++) {
    if (node.addr[i] === 0 && node.count[i] === 0) continue;
    slots.push({
      index: i,
      addr: node.addr[i]!,
      len: node.len[i]!,
      leaf: node.leaf[i]!,
      count: node.count[i]!,
      min: floatHex(node.min[i]!),
      max: floatHex(node.max[i]!),
      mean: floatHex(node.mean[i]!),
      m2: floatHex(node.m2[i]!),
    });
  }
  return { kind: 'core', note, start: String(node.start), childPw: node.childPw, slots };
}

/** Write every fixture into `dir`. */
export function writeFixtures(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, bytes: Uint8Array, json: LeafFixture | CoreFixture): void => {
    fs.writeFileSync(path.join(dir, `${name}.bin`), bytes);
    fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(json, null, 1)}\n`);
    written.push(`${name}.bin (${bytes.length} bytes)`);
  };
  for (const [name, note, cols, options] of leaves())
    put(`leaf-v1-${name}`, encodeLeaf(cols, options), leafJson(note, cols));
  const node = coreNode();
  put(
    'core-v1-node',
    encodeCoreNode(node),
    coreJson('three slots: two leaves and one core child, with special floats', node),
  );
  return written;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = process.argv[2] ?? path.join(here, '..', '..', 'test', 'fixtures', 'format');
  for (const line of writeFixtures(dir)) console.log(line);
}

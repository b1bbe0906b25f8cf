/**
 * Shared machinery of the decoder fuzz suites (`*.fuzz.test.ts` beside each decoder).
 *
 * Inputs are random bytes and, mostly, mutations of VALID encodings (bit flips, overwrites with
 * hostile patterns — huge length prefixes, 10+-byte varints, negative counts —, truncation,
 * insertion, deletion, duplication and splices between samples): a mutated valid input gets past
 * the first checks and exercises the deep paths, where random bytes rarely get.
 *
 * The property every decoder must keep: it returns a value that re-validates, or throws its
 * documented error type (DbError, WireFormatError, …) with a message; anything else (TypeError,
 * RangeError, an assertion) fails the suite with the shrunk input in hex. A case slower than the
 * time budget fails too: that is how a hang or a huge allocation shows up (a 4 GB allocation or a
 * quadratic loop cannot finish in the budget).
 *
 * Reproducible: fixed seeds (`ARBOR_FUZZ_SEED` changes them all). `ARBOR_FUZZ_RUNS=N` runs N
 * cases per property instead of the CI count (e.g. 100000 for a long run).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';

/** Cases per property: the CI count, or ARBOR_FUZZ_RUNS when set. */
export function fuzzRuns(ci: number): number {
  const env = process.env.ARBOR_FUZZ_RUNS;
  if (env === undefined || env === '') return ci;
  const n = Number(env);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`ARBOR_FUZZ_RUNS must be a positive integer, got ${env}`);
  return n;
}

/** A fixed seed per property name (FNV-1a of the name, mixed with ARBOR_FUZZ_SEED when set). */
export function fuzzSeed(name: string): number {
  let h = 0x811c9dc5 ^ Number(process.env.ARBOR_FUZZ_SEED ?? 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Per-case time budget in ms (ARBOR_FUZZ_BUDGET_MS; default 1000, generous for a loaded 2-core machine). */
export function caseBudgetMs(): number {
  return Number(process.env.ARBOR_FUZZ_BUDGET_MS ?? 1000);
}

const u32le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

function varint(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x === 0n ? b : b | 0x80);
  } while (x !== 0n);
  return out;
}

/** Byte patterns that break careless decoders: huge lengths and counts, over-long varints, odd floats. */
export const HOSTILE_PATTERNS: readonly (readonly number[])[] = [
  varint(0xffffffffn), // 4 GiB length prefix
  varint(0x7fffffffn),
  varint(0x100000000n),
  varint((1n << 53n) - 1n),
  varint(1n << 53n),
  varint(-1n), // 10-byte varint of 2^64 − 1 (a negative int64)
  varint(-(1n << 31n)), // negative int32 as protobuf writes it
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // 11-byte varint
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], // 12 bytes, > 64 bits
  [0xff, 0xff, 0xff, 0xff, 0xff], // unterminated at the end of a buffer
  u32le(0xffffffff),
  u32le(0x7fffffff),
  u32le(0x80000000),
  u32le(0x00010001),
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // int64 −1, a NaN
  [0, 0, 0, 0, 0, 0, 0xf0, 0x7f], // +Inf
  [0, 0, 0, 0, 0, 0, 0, 0x80], // −0 / INT64_MIN
  [0],
];

type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly op: 'overwrite'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly op: 'delete'; readonly at: number; readonly count: number }
  | { readonly op: 'duplicate'; readonly at: number; readonly count: number }
  | {
      readonly op: 'splice';
      readonly sample: number;
      readonly from: number;
      readonly count: number;
      readonly at: number;
    };

const arbPatch: fc.Arbitrary<readonly number[]> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_PATTERNS) },
  { weight: 2, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 12 }) },
);

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      at: fc.nat(),
      value: fc.oneof(fc.constantFrom(0, 1, 0x7f, 0x80, 0xff), fc.nat(255)),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: arbPatch }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('overwrite' as const), at: fc.nat(), bytes: arbPatch }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 32 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('duplicate' as const),
      at: fc.nat(),
      count: fc.integer({ min: 1, max: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('splice' as const),
      sample: fc.nat(),
      from: fc.nat(),
      count: fc.integer({ min: 1, max: 64 }),
      at: fc.nat(),
    }),
  },
);

/** Apply `m` to `b` (positions are taken modulo the length, so every mutation applies). */
function apply(b: Uint8Array, m: Mutation, samples: readonly Uint8Array[]): Uint8Array {
  const n = b.length;
  const at = (x: number, extra = 0): number => (n + extra === 0 ? 0 : x % (n + extra));
  switch (m.op) {
    case 'flip': {
      if (n === 0) return b;
      const out = b.slice();
      out[at(m.at)]! ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      if (n === 0) return b;
      const out = b.slice();
      out[at(m.at)] = m.value;
      return out;
    }
    case 'truncate':
      return b.slice(0, at(m.at));
    case 'insert': {
      const p = at(m.at, 1);
      return concat(b.subarray(0, p), Uint8Array.from(m.bytes), b.subarray(p));
    }
    case 'overwrite': {
      const out = b.slice();
      const p = at(m.at);
      for (let i = 0; i < m.bytes.length && p + i < n; i++) out[p + i] = m.bytes[i]!;
      return out;
    }
    case 'delete': {
      const p = at(m.at);
      return concat(b.subarray(0, p), b.subarray(p + m.count));
    }
    case 'duplicate': {
      const p = at(m.at);
      return concat(b.subarray(0, p + m.count), b.subarray(p));
    }
    case 'splice': {
      const src = samples[m.sample % samples.length]!;
      const from = src.length === 0 ? 0 : m.from % src.length;
      const p = at(m.at, 1);
      return concat(b.subarray(0, p), src.subarray(from, from + m.count), b.subarray(p));
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** 1–`max` mutations of one of `samples` (the valid encodings). */
export function mutated(samples: readonly Uint8Array[], max = 4): fc.Arbitrary<Uint8Array> {
  if (samples.length === 0) throw new Error('mutated() needs at least one valid sample');
  // Plain copies: a Node Buffer's slice() is a view, so a mutation would edit the sample itself.
  const own = samples.map((s) => new Uint8Array(s));
  return fc
    .tuple(fc.nat(samples.length - 1), fc.array(arbMutation, { minLength: 1, maxLength: max }))
    .map(([i, ms]) => ms.reduce<Uint8Array>((b, m) => apply(b, m, own), own[i]!));
}

/** Hostile input for a decoder: mostly mutations of valid encodings, some random bytes. */
export function hostileBytes(samples: readonly Uint8Array[], maxRandom = 256): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: maxRandom }) },
    { weight: 6, arbitrary: mutated(samples) },
  );
}

/** What a fuzz run saw. */
export interface FuzzTally {
  runs: number;
  /** Inputs the decoder accepted (and the check re-validated). */
  decoded: number;
  /** Inputs the decoder rejected with its documented error. */
  rejected: number;
  /** Slowest case, ms. */
  slowestMs: number;
}

export interface DecoderFuzz<T> {
  /** Property name (also seeds the generator). */
  readonly name: string;
  readonly inputs: fc.Arbitrary<Uint8Array>;
  readonly decode: (bytes: Uint8Array) => T;
  /** True for the decoder's documented error (it must also carry a message). */
  readonly expected: (e: unknown) => boolean;
  /** Re-validate an accepted value (e.g. re-encode and decode again); throw when wrong. */
  readonly check?: (value: T, input: Uint8Array) => void;
  /** CI cases (ARBOR_FUZZ_RUNS overrides). */
  readonly runs: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/**
 * Run the decoder property; fails (with the shrunk input in hex) on an unexpected error type, an
 * error without a message, a failed check, or a case slower than {@link caseBudgetMs}.
 */
export function fuzzDecoder<T>(f: DecoderFuzz<T>): FuzzTally {
  const tally: FuzzTally = { runs: 0, decoded: 0, rejected: 0, slowestMs: 0 };
  const budget = caseBudgetMs();
  const runs = fuzzRuns(f.runs);
  fc.assert(
    fc.property(f.inputs, (input) => {
      const copy = input.slice(); // the decoder must not depend on anything but these bytes
      const t0 = performance.now();
      let outcome: 'decoded' | 'rejected';
      try {
        const v = f.decode(copy);
        outcome = 'decoded';
        f.check?.(v, input);
      } catch (e) {
        if (!f.expected(e)) {
          const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          throw new Error(`${f.name}: unexpected ${what} for input ${hex(input)}`, { cause: e });
        }
        assert.ok((e as Error).message.length > 0, 'an error without a message');
        outcome = 'rejected';
      }
      const ms = performance.now() - t0;
      if (ms > budget) throw new Error(`${f.name}: a case took ${ms.toFixed(0)} ms (budget ${budget}): ${hex(input)}`);
      tally.runs++;
      tally[outcome]++;
      tally.slowestMs = Math.max(tally.slowestMs, ms);
    }),
    { numRuns: runs, seed: fuzzSeed(f.name) },
  );
  // Shrinking re-runs failing cases; count only the passes of the main run.
  tally.runs = Math.min(tally.runs, runs);
  return tally;
}

/** {@link fuzzDecoder} for decoders that return a promise (file readers, HTTP requests). */
export async function fuzzDecoderAsync<T>(
  f: Omit<DecoderFuzz<T>, 'decode' | 'check'> & {
    readonly decode: (bytes: Uint8Array) => Promise<T>;
    readonly check?: (value: T, input: Uint8Array) => void | Promise<void>;
  },
): Promise<FuzzTally> {
  const tally: FuzzTally = { runs: 0, decoded: 0, rejected: 0, slowestMs: 0 };
  const budget = caseBudgetMs();
  const runs = fuzzRuns(f.runs);
  await fc.assert(
    fc.asyncProperty(f.inputs, async (input) => {
      const t0 = performance.now();
      let outcome: 'decoded' | 'rejected';
      try {
        const v = await f.decode(input.slice());
        outcome = 'decoded';
        await f.check?.(v, input);
      } catch (e) {
        if (!f.expected(e)) {
          const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          throw new Error(`${f.name}: unexpected ${what} for input ${hex(input)}`, { cause: e });
        }
        assert.ok((e as Error).message.length > 0, 'an error without a message');
        outcome = 'rejected';
      }
      const ms = performance.now() - t0;
      if (ms > budget) throw new Error(`${f.name}: a case took ${ms.toFixed(0)} ms (budget ${budget}): ${hex(input)}`);
      tally.runs++;
      tally[outcome]++;
      tally.slowestMs = Math.max(tally.slowestMs, ms);
    }),
    { numRuns: runs, seed: fuzzSeed(f.name) },
  );
  tally.runs = Math.min(tally.runs, runs);
  return tally;
}

/** One line for the test report: cases run and how they ended. */
export function describeTally(t: FuzzTally): string {
  return `${t.runs} cases: ${t.decoded} decoded, ${t.rejected} rejected, slowest ${t.slowestMs.toFixed(1)} ms`;
}

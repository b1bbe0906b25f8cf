/**
 * The verifier (`arbor check`): walks every retained version of every stream and proves the tree
 * invariants — each block reads back with a valid checksum and decodes; points are sorted and lie
 * inside their node's time range; each slot's statistics equal a recomputation over the points
 * below it; the shape is canonical (leaves ≤ LEAF_MAX points unless minimum width, core nodes
 * above it); version numbers strictly increase. Shared subtrees are verified once.
 */
import { DbError } from '../core/errors.ts';
import { Summary } from '../core/stat.ts';
import type { StreamId } from '../core/types.ts';
import type { Engine } from './engine.ts';
import { FANOUT, MIN_NODE_PW, mustSplit, ROOT_PW, ROOT_START, slotStart } from './geometry.ts';
import { type NodeRef, slotRef } from './node-ref.ts';

export interface CheckProblem {
  readonly stream: StreamId;
  readonly version: number;
  readonly what: string;
}

export interface CheckReport {
  streams: number;
  versions: number;
  nodes: number;
  points: number;
  problems: CheckProblem[];
}

const REL = 1e-9;

function close(a: number, b: number, scale: number): boolean {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return true;
  return Math.abs(a - b) <= REL * Math.max(1, Math.abs(scale));
}

/** Verify every stream (or the given ones). Never throws for a bad tree: problems are reported. */
export async function checkEngine(engine: Engine, ids: readonly StreamId[] = engine.streamIds()): Promise<CheckReport> {
  const report: CheckReport = { streams: 0, versions: 0, nodes: 0, points: 0, problems: [] };
  const verified = new Map<number, Summary>();
  for (const id of ids) {
    report.streams++;
    let prev = -1;
    for (const v of engine.versionsOf(id)) {
      report.versions++;
      const problem = (what: string): void => {
        report.problems.push({ stream: id, version: v.version, what });
      };
      if (v.version <= prev) problem(`version ${v.version} does not increase after ${prev}`);
      prev = v.version;
      if (v.root === null) continue;
      try {
        await verify(engine, v.root, ROOT_START, ROOT_PW, verified, report, problem);
      } catch (e) {
        problem(e instanceof DbError ? e.message : `unexpected error: ${String(e)}`);
      }
    }
  }
  return report;
}

async function verify(
  engine: Engine,
  ref: NodeRef,
  start: bigint,
  pw: number,
  verified: Map<number, Summary>,
  report: CheckReport,
  problem: (what: string) => void,
): Promise<Summary> {
  const known = verified.get(ref.addr);
  let actual: Summary;
  if (known) actual = known;
  else {
    report.nodes++;
    actual = new Summary();
    const end = start + (1n << BigInt(pw));
    if (ref.leaf) {
      const c = await engine.tree.leaf(ref);
      const n = c.times.length;
      report.points += n;
      if (n === 0) problem(`leaf at ${ref.addr} is empty`);
      if (mustSplit(n, pw)) problem(`leaf at ${ref.addr} holds ${n} points at width 2^${pw}; it must be split`);
      for (let i = 0; i < n; i++) {
        const t = c.times[i]!;
        if (t < start || t >= end) {
          problem(`leaf at ${ref.addr}: point ${i} time ${t} outside [${start}, ${end})`);
          break;
        }
        if (i > 0 && t < c.times[i - 1]!) {
          problem(`leaf at ${ref.addr}: times not sorted at point ${i}`);
          break;
        }
        actual.add(c.values[i]!);
      }
    } else {
      if (pw <= MIN_NODE_PW) problem(`core node at ${ref.addr} at width 2^${pw} is below the minimum`);
      const node = await engine.tree.core(ref);
      if (node.start !== start || node.childPw !== pw - 6) {
        problem(
          `core node at ${ref.addr} says start ${node.start}/childPw ${node.childPw}, expected ${start}/${pw - 6}`,
        );
      }
      for (let i = 0; i < FANOUT; i++) {
        const child = slotRef(node, i);
        if (!child) continue;
        const s = await verify(engine, child, slotStart(start, pw - 6, i), pw - 6, verified, report, problem);
        actual.merge(s.count, s.mean, s.m2, s.min, s.max);
      }
      if (!mustSplit(actual.count, pw)) {
        problem(`core node at ${ref.addr} holds only ${actual.count} points; it should be a leaf`);
      }
    }
    verified.set(ref.addr, actual);
  }
  const scale = Math.max(Math.abs(actual.min), Math.abs(actual.max));
  if (actual.count !== ref.count) problem(`node at ${ref.addr}: slot count ${ref.count}, recomputed ${actual.count}`);
  else if (actual.count > 0) {
    if (!Object.is(actual.min, ref.min) && !(actual.min === ref.min))
      problem(`node at ${ref.addr}: min ${ref.min} ≠ ${actual.min}`);
    if (!(actual.max === ref.max) && !Object.is(actual.max, ref.max))
      problem(`node at ${ref.addr}: max ${ref.max} ≠ ${actual.max}`);
    if (!close(actual.mean, ref.mean, scale))
      problem(`node at ${ref.addr}: mean ${ref.mean} ≠ recomputed ${actual.mean}`);
    const sd1 = Math.sqrt(Math.max(0, ref.m2) / ref.count);
    if (!close(actual.stddev(), sd1, scale))
      problem(`node at ${ref.addr}: stddev ${sd1} ≠ recomputed ${actual.stddev()}`);
  }
  return actual;
}

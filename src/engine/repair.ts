/**
 * Salvage of a damaged data directory (`arbor check` reports, `arbor check --repair` rewrites).
 *
 * The analysis reads everything without opening the engine (which refuses damage) and without
 * writing: every block segment, every manifest and WAL record (skipping bad ones by searching for
 * the next valid record), and the tree of every retained version. A version is intact when every
 * block under its root reads back with a valid checksum, decodes, and holds the number of points
 * its parent says. Every finding names a file and a byte offset.
 *
 * The repair then keeps every intact version of every stream and drops the others (a stream with
 * no intact version is kept, empty, at a new version), keeps every readable WAL record not yet in a
 * tree, and rewrites the two logs:
 *
 * 1. copy every manifest and WAL segment into `manifest.before-repair/` and `wal.before-repair/`
 *    (a `-<time>` suffix if those exist) and move block segments with a bad header into
 *    `blocks.before-repair/`;
 * 2. write one new manifest segment starting at the old manifest's end LSN holding a `state`
 *    checkpoint of the kept versions, and one new WAL segment starting past every old WAL LSN
 *    holding the kept records (each atomically: temp file, fsync, rename, directory fsync);
 * 3. delete the old segments.
 *
 * A crash in step 3 leaves old segments before the new ones; replaying them is harmless (the new
 * `state` records come last and win), or the open reports their damage and the repair is run
 * again. Finally the engine is opened normally and the verifier run on the result.
 */
import { join } from 'node:path';
import { DbError } from '../core/errors.ts';
import type { StreamId, Version } from '../core/types.ts';
import { openBlockStore } from '../storage/block-store-open.ts';
import type { Env } from '../storage/env.ts';
import { type LogSalvage, salvageLog } from '../storage/log-salvage.ts';
import { RECORD_HEADER_BYTES, writeRecord } from '../storage/record-format.ts';
import { encodeSegmentHeader, LOG_SEGMENT } from '../storage/segment-header.ts';
import type { BlockStore } from '../storage/types.ts';
import { type CheckReport, checkEngine } from './check.ts';
import { Engine } from './engine.ts';
import { FANOUT } from './geometry.ts';
import {
  applyRecord,
  decodeRecord,
  encodeRecord,
  type ManifestRecord,
  type StreamRecord,
  stateRecord,
  type VersionEntry,
} from './manifest.ts';
import { type NodeRef, slotRef } from './node-ref.ts';
import { openEngineStorage } from './open-dir.ts';
import { TreeStore } from './tree-store.ts';
import { decodeWalInsert } from './wal-record.ts';

/** A damage found, where it is. */
export interface Finding {
  /** 'torn-tail': bytes after the last valid record of a log or segment — what a crash leaves. */
  readonly kind: 'damage' | 'torn-tail';
  readonly file: string;
  readonly offset: number;
  readonly what: string;
}

/** Something the repair could not salvage (or, in a dry run, would not). */
export interface Loss {
  /** The stream it belonged to, when known. */
  readonly stream: StreamId | null;
  /** Versions of that stream dropped because of it. */
  readonly versions: readonly number[];
  readonly file: string;
  readonly offset: number;
  readonly what: string;
}

export interface SalvageReport {
  readonly dir: string;
  /** True when nothing was written (`arbor check` without --repair). */
  readonly dryRun: boolean;
  readonly findings: Finding[];
  readonly lost: Loss[];
  /** Per stream: how many versions are (or would be) kept, and the newest kept. */
  readonly streams: { readonly stream: StreamId; readonly kept: number; readonly latest: number }[];
  /** WAL records not yet in a tree that are (or would be) kept. */
  readonly walRecordsKept: number;
  /** True when the logs must be (dry run) or were rewritten. */
  readonly needsRewrite: boolean;
  /** Files written or moved by the repair, and where the originals went. */
  readonly rewritten: string[];
  readonly backups: string[];
  /** The verifier's report on the repaired directory (repair only). */
  readonly verified: CheckReport | null;
}

export interface SalvageOptions {
  /** Rewrite the directory (default false: analyse and report only). */
  readonly repair?: boolean;
  /** Wall clock in ms (for version timestamps and backup names). */
  readonly now?: () => number;
}

/** Where a bad block is: the location of the DbError that reading it threw, if any. */
interface BlockProblem {
  readonly file: string;
  readonly offset: number;
  readonly what: string;
}

/**
 * Analyse (and with `repair`, rewrite) the engine directory `dir` (holding blocks/, wal/,
 * manifest/) on `env`. REQUIRES: no engine has the directory open (the caller holds its lock).
 */
export async function salvageEngineDir(env: Env, dir: string, options: SalvageOptions = {}): Promise<SalvageReport> {
  const repair = options.repair === true;
  const now = options.now ?? Date.now;
  const blocksDir = join(dir, 'blocks');
  const manifestDir = join(dir, 'manifest');
  const walDir = join(dir, 'wal');
  const findings: Finding[] = [];
  const lost: Loss[] = [];
  let needsRewrite = false;

  const blocks = await openBlockStore(env, blocksDir, { skipDamagedSegments: true, readOnly: true });
  const skippedSegments = blocks.recovery.skipped.map((s) => s.file);
  let state: Map<StreamId, StreamRecord>;
  let man: LogSalvage;
  let wal: LogSalvage;
  const keptWal: { lsn: number; payload: Uint8Array }[] = [];
  try {
    for (const t of blocks.recovery.truncated) {
      findings.push({
        kind: 'torn-tail',
        file: t.file,
        offset: t.from,
        what: `torn tail of ${t.to - t.from} bytes after the last valid block (a crash's unacknowledged writes; open cuts it off)`,
      });
    }
    for (const s of blocks.recovery.skipped) {
      findings.push({ kind: 'damage', file: s.file, offset: 0, what: `block segment unreadable: ${s.reason}` });
      needsRewrite = true;
    }
    const seen = new Set(findings.map((f) => `${f.file}@${f.offset}`));
    for (const p of await blocks.verify()) {
      if (seen.has(`${p.file}@${p.offset}`)) continue;
      findings.push({ kind: 'damage', file: p.file, offset: p.offset, what: `damaged block record: ${p.reason}` });
    }

    // The manifest: every readable record, replayed leniently.
    man = await salvageLog(env, manifestDir);
    if (
      noteLostRecords(
        man,
        'manifest',
        'the versions, creations, prunes or obliterations recorded there are lost unless a later record repeats them',
        findings,
        lost,
      )
    )
      needsRewrite = true;
    state = new Map();
    const obliterated = new Set<StreamId>();
    for (const rec of man.records) {
      const where = `${rec.file} at offset ${rec.offset}`;
      let r: ManifestRecord;
      try {
        r = decodeRecord(rec.payload, `record in ${where}`);
      } catch (e) {
        needsRewrite = true;
        const what = `manifest record unusable: ${message(e)}`;
        findings.push({ kind: 'damage', file: rec.file, offset: rec.offset, what });
        lost.push({ stream: null, versions: [], file: rec.file, offset: rec.offset, what });
        continue;
      }
      if (r.k === 'obliterate') obliterated.add(r.id);
      if (r.k === 'create' || r.k === 'state') obliterated.delete(r.id);
      if (r.k === 'commit' && !state.has(r.id) && !obliterated.has(r.id)) {
        // Its create record was lost: keep the stream (its options are unknown: the defaults).
        needsRewrite = true;
        state.set(r.id, { id: r.id, options: { allowNonFinite: false }, versions: [], walBound: 0 });
        findings.push({
          kind: 'damage',
          file: rec.file,
          offset: rec.offset,
          what: `stream ${r.id} is committed to but never created (its create record is lost); recreated with default options`,
        });
      }
      try {
        applyRecord(state, r, where);
      } catch (e) {
        needsRewrite = true;
        const what = `manifest record not applicable: ${message(e)}`;
        findings.push({ kind: 'damage', file: rec.file, offset: rec.offset, what });
        lost.push({ stream: null, versions: [], file: rec.file, offset: rec.offset, what });
      }
    }

    // Every version's tree: keep the intact ones.
    const tree = new TreeStore(blocks, { coreCacheBytes: 8 * 1024 * 1024, leafCacheBytes: 8 * 1024 * 1024 });
    const memo = new Map<number, BlockProblem | null>();
    for (const s of state.values()) {
      const kept: VersionEntry[] = [];
      const dropped = new Map<string, { problem: BlockProblem; versions: number[] }>();
      let newest = 0;
      for (const v of s.versions) {
        newest = Math.max(newest, v.version);
        const problem = v.root === null ? null : await treeProblem(tree, blocks, v.root, memo);
        if (problem === null) {
          kept.push(v);
          continue;
        }
        const key = `${problem.file}@${problem.offset}`;
        const d = dropped.get(key) ?? { problem, versions: [] };
        d.versions.push(v.version);
        dropped.set(key, d);
      }
      for (const { problem, versions } of dropped.values()) {
        needsRewrite = true;
        findings.push({ kind: 'damage', file: problem.file, offset: problem.offset, what: problem.what });
        lost.push({
          stream: s.id,
          versions,
          file: problem.file,
          offset: problem.offset,
          what: `version${versions.length > 1 ? 's' : ''} ${versions.join(', ')} dropped: ${problem.what}`,
        });
      }
      if (kept.length === 0) {
        needsRewrite = true;
        const version = (newest + 1) as Version;
        kept.push({ version, root: null, at: now() });
        lost.push({
          stream: s.id,
          versions: [],
          file: manifestDir,
          offset: 0,
          what: `no intact version of stream ${s.id} is left; it is kept, empty, at version ${version}`,
        });
      }
      s.versions = kept;
    }

    // The WAL: the readable records that are not in a tree yet.
    wal = await salvageLog(env, walDir);
    if (noteLostRecords(wal, 'WAL', 'acknowledged inserts logged there and not yet committed are lost', findings, lost))
      needsRewrite = true;
    let bound = 0;
    for (const s of state.values()) bound = Math.max(bound, s.walBound);
    if (wal.endLsn < bound) {
      needsRewrite = true;
      const what = `the WAL ends at LSN ${wal.endLsn} but the manifest has committed records up to LSN ${bound}: WAL segments are missing (inserts logged there and not yet committed are lost)`;
      findings.push({ kind: 'damage', file: walDir, offset: wal.endLsn, what });
      lost.push({ stream: null, versions: [], file: walDir, offset: wal.endLsn, what });
    }
    for (const rec of wal.records) {
      let stream: StreamId;
      try {
        stream = decodeWalInsert(rec.payload, `in ${rec.file} at offset ${rec.offset}`).stream;
      } catch (e) {
        needsRewrite = true;
        const what = `WAL record unusable: ${message(e)}`;
        findings.push({ kind: 'damage', file: rec.file, offset: rec.offset, what });
        lost.push({ stream: null, versions: [], file: rec.file, offset: rec.offset, what });
        continue;
      }
      const s = state.get(stream);
      if (s && rec.lsn >= s.walBound) keptWal.push(rec);
    }
  } finally {
    await blocks.close();
  }

  const once = new Set<string>();
  const report = {
    dir,
    dryRun: !repair,
    // A damaged block is found by the segment scan and again under each version using it.
    // A "torn tail" that a version references is a damaged block (damage listed first wins).
    findings: [...findings]
      .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'damage' ? -1 : 1))
      .filter((f) => !once.has(`${f.file}@${f.offset}`) && once.add(`${f.file}@${f.offset}`) !== undefined),
    lost,
    streams: [...state.values()].map((s) => ({
      stream: s.id,
      kept: s.versions.length,
      latest: s.versions.at(-1)?.version ?? 0,
    })),
    walRecordsKept: keptWal.length,
    needsRewrite,
    rewritten: [] as string[],
    backups: [] as string[],
    verified: null as CheckReport | null,
  };
  if (!repair) return report;

  if (needsRewrite) {
    const stamp = new Date(now()).toISOString().replace(/[:.]/g, '-');
    // 1. Backups.
    const manBackup = await backupDir(env, `${manifestDir}.before-repair`, stamp);
    const walBackup = await backupDir(env, `${walDir}.before-repair`, stamp);
    for (const seg of man.segments) await copyFile(env, seg.file, join(manBackup, baseName(seg.file)));
    for (const seg of wal.segments) await copyFile(env, seg.file, join(walBackup, baseName(seg.file)));
    report.backups.push(manBackup, walBackup);
    if (skippedSegments.length > 0) {
      const blockBackup = await backupDir(env, `${blocksDir}.before-repair`, stamp);
      for (const f of skippedSegments) await env.rename(f, join(blockBackup, baseName(f)));
      await env.syncDir(blockBackup);
      await env.syncDir(blocksDir);
      report.backups.push(blockBackup);
      report.rewritten.push(...skippedSegments);
    }
    // 2. New segments past every old LSN.
    const walStart = Math.max(wal.endLsn, maxWalBound(state), LOG_SEGMENT.bytes);
    const manStart = man.endLsn;
    const newWal = join(walDir, segName(walStart));
    const newMan = join(manifestDir, segName(manStart));
    await env.mkdirp(walDir);
    await env.mkdirp(manifestDir);
    await env.writeFileAtomic(
      newWal,
      logSegment(
        walStart,
        keptWal.map((r) => r.payload),
      ),
    );
    const states = [...state.values()].map((s) => encodeRecord(stateRecord({ ...s, walBound: walStart })));
    await env.writeFileAtomic(newMan, logSegment(manStart, states));
    report.rewritten.push(newMan, newWal);
    // 3. Drop the old segments.
    for (const seg of man.segments) if (seg.file !== newMan) await env.remove(seg.file);
    for (const seg of wal.segments) if (seg.file !== newWal) await env.remove(seg.file);
    await env.syncDir(manifestDir);
    await env.syncDir(walDir);
  }

  // Prove the result: a normal open and the full verifier.
  const engine = await Engine.open(await openEngineStorage(env, dir), { background: false });
  try {
    report.verified = await checkEngine(engine);
  } finally {
    await engine.close();
  }
  return report;
}

/** The first problem in the tree under `ref` (memoized by address), or null if it is intact. */
async function treeProblem(
  tree: TreeStore,
  blocks: BlockStore,
  ref: NodeRef,
  memo: Map<number, BlockProblem | null>,
): Promise<BlockProblem | null> {
  const known = memo.get(ref.addr);
  if (known !== undefined) return known;
  let problem: BlockProblem | null = null;
  try {
    if (ref.leaf) {
      const n = (await tree.leaf(ref)).times.length;
      if (n !== ref.count) problem = where(blocks, ref, `leaf holds ${n} points, its parent says ${ref.count}`);
    } else {
      const node = await tree.core(ref);
      let count = 0;
      for (let i = 0; i < FANOUT && problem === null; i++) {
        const child = slotRef(node, i);
        if (!child) continue;
        count += child.count;
        problem = await treeProblem(tree, blocks, child, memo);
      }
      if (problem === null && count !== ref.count) {
        problem = where(blocks, ref, `core node's slots hold ${count} points, its parent says ${ref.count}`);
      }
    }
  } catch (e) {
    problem =
      e instanceof DbError && e.location
        ? { file: e.location.file, offset: e.location.offset, what: e.message }
        : where(blocks, ref, message(e));
  }
  memo.set(ref.addr, problem);
  return problem;
}

/** A problem at the block `ref` (file and offset from its address). */
function where(blocks: BlockStore, ref: NodeRef, what: string): BlockProblem {
  const id = Math.floor(ref.addr / 2 ** 32);
  const dir = 'dir' in blocks && typeof blocks.dir === 'string' ? blocks.dir : 'blocks';
  const file = join(dir, `${String(id).padStart(10, '0')}.seg`);
  const offset = ref.addr - id * 2 ** 32;
  return { file, offset, what: `block at ${file} offset ${offset}: ${what}` };
}

/**
 * Report the record ranges a salvaged log could not read: a torn tail as a note, anything else as
 * damage and a loss (`consequence` says what was in it). True when the log must be rewritten.
 */
function noteLostRecords(
  log: LogSalvage,
  name: string,
  consequence: string,
  findings: Finding[],
  lost: Loss[],
): boolean {
  let damaged = false;
  for (const l of log.lost) {
    findings.push({ kind: l.tail ? 'torn-tail' : 'damage', file: l.file, offset: l.from, what: describeLost(name, l) });
    if (l.tail) continue;
    damaged = true;
    lost.push({
      stream: null,
      versions: [],
      file: l.file,
      offset: l.from,
      what: `${describeLost(name, l)}: ${consequence}`,
    });
  }
  return damaged;
}

function describeLost(log: string, l: LogSalvage['lost'][number]): string {
  const range = `bytes ${l.from}–${l.to} (LSN ${l.fromLsn}–${l.toLsn})`;
  return l.tail
    ? `${log} torn tail at ${range}: ${l.reason} (a crash's unacknowledged write, or damage to the last record)`
    : `${log} damage at ${range}: ${l.reason}`;
}

const maxWalBound = (state: Map<StreamId, StreamRecord>): number => {
  let b = 0;
  for (const s of state.values()) b = Math.max(b, s.walBound);
  return b;
};

const segName = (lsn: number): string => `${String(lsn).padStart(16, '0')}.log`;

const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A whole log segment: header for `start`, then the records (docs/format/record-log.md). */
function logSegment(start: number, payloads: readonly Uint8Array[]): Uint8Array {
  let size = LOG_SEGMENT.bytes;
  for (const p of payloads) size += RECORD_HEADER_BYTES + p.length;
  const out = new Uint8Array(size);
  out.set(encodeSegmentHeader(LOG_SEGMENT, start), 0);
  let pos = LOG_SEGMENT.bytes;
  for (const p of payloads) {
    writeRecord(out, pos, p);
    pos += RECORD_HEADER_BYTES + p.length;
  }
  return out;
}

/** A fresh backup directory: `base`, or `base-<stamp>` if that exists. */
async function backupDir(env: Env, base: string, stamp: string): Promise<string> {
  let dir = base;
  try {
    await env.list(dir);
    dir = `${base}-${stamp}`;
  } catch {
    // does not exist: use it
  }
  await env.mkdirp(dir);
  return dir;
}

async function copyFile(env: Env, from: string, to: string): Promise<void> {
  await env.writeFileAtomic(to, await env.readFile(from));
}

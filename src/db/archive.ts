/**
 * Archives (openHistorian's staged archive files, seed 003): a selection of streams and a time
 * range, written as a standalone ArborDB data directory plus an ARCHIVE.json that says what it
 * holds (docs/format/archive.md).
 *
 *   - `exportArchive(src, dir, selection)`: copy the selection from any Backend (an open Database
 *     or a remote server) into a new directory; ARCHIVE.json is written last, so a directory
 *     without it is an interrupted export, never mistaken for an archive.
 *   - `importArchive(dir, dest)`: copy an archive's points into a Backend. Streams are matched by
 *     uuid and created with the archive's metadata when missing; points are inserted with the
 *     `replace` merge policy, so importing twice (or resuming an interrupted import) leaves one copy.
 *   - `openArchive(dir)`: open an archive to read (attach: see attached-backend.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DbError } from '../core/errors.ts';
import { MAX_TIME, MIN_TIME } from '../core/time.ts';
import type { PointBatch, StreamDescriptor, StreamId } from '../core/types.ts';
import { concat } from '../engine/point-batch.ts';
import type { Backend } from './backend.ts';
import { covers } from './data-retention.ts';
import { type Database, openDatabase } from './database.ts';

export const ARCHIVE_FILE = 'ARCHIVE.json';
export const ARCHIVE_FORMAT = 'arbordb-archive';
export const ARCHIVE_VERSION = 1;

export interface ArchiveSelection {
  /** Streams of this collection and its sub-collections ('' = every stream). */
  readonly collection: string;
  /** Half-open time range [start, end) in ns. */
  readonly start: bigint;
  readonly end: bigint;
}

export interface ArchiveStreamEntry {
  readonly uuid: string;
  readonly collection: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly points: number;
  /** First and last point time (ns, decimal string), null when the stream has no point in range. */
  readonly first: string | null;
  readonly last: string | null;
}

export interface ArchiveManifest {
  readonly format: typeof ARCHIVE_FORMAT;
  readonly version: number;
  /** ISO time of the export. */
  readonly created: string;
  /** Where it came from (a directory or a server URL), as the exporter named it. */
  readonly source: string;
  readonly selection: { readonly collection: string; readonly start: string; readonly end: string };
  readonly streams: readonly ArchiveStreamEntry[];
  readonly points: number;
}

export interface ArchiveProgress {
  readonly streamsDone: number;
  readonly streams: number;
  readonly points: number;
}

/** Insert in slices of this many points (bounded memory, one WAL record each). */
const SLICE = 50_000;

/**
 * Copy every point of `id` in [start, end) from `src` to `dest` in slices; returns the count and
 * the first/last time.
 */
async function copyPoints(
  src: Backend,
  dest: Backend,
  id: StreamId,
  start: bigint,
  end: bigint,
  policy: 'never' | 'replace',
): Promise<{ points: number; first: bigint | null; last: bigint | null }> {
  let points = 0;
  let first: bigint | null = null;
  let last: bigint | null = null;
  let pending: PointBatch[] = [];
  let pendingPoints = 0;
  const drain = async (): Promise<void> => {
    if (pendingPoints === 0) return;
    await dest.insert(id, concat(pending), policy);
    pending = [];
    pendingPoints = 0;
  };
  for await (const chunk of src.rawValues(id, start, end, 0)) {
    const b = chunk.value;
    if (b.times.length === 0) continue;
    first ??= b.times[0]!;
    last = b.times[b.times.length - 1]!;
    points += b.times.length;
    pending.push(b);
    pendingPoints += b.times.length;
    if (pendingPoints >= SLICE) await drain();
  }
  await drain();
  await dest.flush(id);
  return { points, first, last };
}

/** Export `selection` of `src` into the new (absent or empty) directory `dir`. */
export async function exportArchive(
  src: Backend,
  dir: string,
  selection: ArchiveSelection,
  sourceName: string,
  progress: (p: ArchiveProgress) => void = () => {},
): Promise<ArchiveManifest> {
  if (selection.start >= selection.end)
    throw new DbError(413, `archive export: start ${selection.start} is not before end ${selection.end}`);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new DbError(438, `archive export: ${dir} exists and is not empty; name a new directory`);
  }
  const streams = (await src.lookupStreams({ collection: '', isPrefix: true }))
    .filter((s) => covers(selection.collection, s.collection))
    .sort((a, b) => (a.collection + a.tags.name < b.collection + b.tags.name ? -1 : 1));
  const out = await openDatabase(dir, { background: false });
  const entries: ArchiveStreamEntry[] = [];
  let total = 0;
  try {
    for (const s of streams) {
      await out.create({
        id: s.id,
        collection: s.collection,
        tags: s.tags,
        annotations: s.annotations,
        allowNonFinite: true,
      });
      const c = await copyPoints(src, out, s.id, selection.start, selection.end, 'never');
      total += c.points;
      entries.push({
        uuid: s.id,
        collection: s.collection,
        tags: s.tags,
        points: c.points,
        first: c.first === null ? null : String(c.first),
        last: c.last === null ? null : String(c.last),
      });
      progress({ streamsDone: entries.length, streams: streams.length, points: total });
    }
  } finally {
    await out.close();
  }
  const manifest: ArchiveManifest = {
    format: ARCHIVE_FORMAT,
    version: ARCHIVE_VERSION,
    created: new Date().toISOString(),
    source: sourceName,
    selection: { collection: selection.collection, start: String(selection.start), end: String(selection.end) },
    streams: entries,
    points: total,
  };
  // Written last and atomically: its presence means the export completed.
  const tmp = path.join(dir, `${ARCHIVE_FILE}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `${JSON.stringify(manifest, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, ARCHIVE_FILE));
  const dfd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
  return manifest;
}

/** Read and check an archive's ARCHIVE.json. */
export function readArchiveManifest(dir: string): ArchiveManifest {
  const file = path.join(dir, ARCHIVE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const why =
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'is missing (not an archive, or an interrupted export)'
        : String(e);
    throw new DbError(438, `${file} ${why}`);
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new DbError(438, `${file} is not valid JSON: ${(e as Error).message}`);
  }
  const o = m as Partial<ArchiveManifest> | null;
  if (!o || o.format !== ARCHIVE_FORMAT || !Array.isArray(o.streams) || typeof o.points !== 'number') {
    throw new DbError(438, `${file} is not an ArborDB archive manifest`);
  }
  if (o.version !== ARCHIVE_VERSION)
    throw new DbError(438, `${file}: archive format version ${o.version}; this build reads ${ARCHIVE_VERSION}`);
  return o as ArchiveManifest;
}

/** Open an archive to read; its manifest is checked first. Writes to it are the caller's to refuse. */
export async function openArchive(dir: string): Promise<{ manifest: ArchiveManifest; db: Database }> {
  const manifest = readArchiveManifest(dir);
  const db = await openDatabase(dir, { background: false });
  return { manifest, db };
}

export interface ImportReport {
  readonly streams: number;
  readonly created: number;
  readonly points: number;
}

/**
 * Copy every point of the archive in `dir` into `dest` (see the file comment). The archive's
 * point counts are checked against what it holds before anything is written.
 */
export async function importArchive(
  dir: string,
  dest: Backend,
  progress: (p: ArchiveProgress) => void = () => {},
): Promise<ImportReport> {
  const { manifest, db } = await openArchive(dir);
  let created = 0;
  let points = 0;
  try {
    const streams = new Map(
      (await db.lookupStreams({ collection: '', isPrefix: true })).map((s) => [s.id as string, s]),
    );
    for (const e of manifest.streams) {
      const s = streams.get(e.uuid);
      if (!s)
        throw new DbError(500, `archive ${dir}: stream ${e.uuid} is listed in ${ARCHIVE_FILE} but not in the archive`);
      const n = (await db.engine.count(s.id, MIN_TIME, MAX_TIME)).count;
      if (n !== e.points)
        throw new DbError(500, `archive ${dir}: stream ${e.uuid} holds ${n} points, ${ARCHIVE_FILE} says ${e.points}`);
    }
    let done = 0;
    for (const e of manifest.streams) {
      const s = streams.get(e.uuid) as StreamDescriptor;
      if (await ensureStream(dest, s)) created++;
      points += (await copyPoints(db, dest, s.id, MIN_TIME, MAX_TIME, 'replace')).points;
      progress({ streamsDone: ++done, streams: manifest.streams.length, points });
    }
  } finally {
    await db.close();
  }
  return { streams: manifest.streams.length, created, points };
}

/**
 * Create `s` in `dest` unless a stream with its uuid exists; true when created. The copy accepts
 * NaN/±Inf where the backend can say so (embedded); over the BTrDB wire, which cannot (501), it is
 * created as an ordinary stream.
 */
export async function ensureStream(
  dest: Backend,
  s: Pick<StreamDescriptor, 'id' | 'collection' | 'tags' | 'annotations'>,
): Promise<boolean> {
  try {
    await dest.streamInfo(s.id);
    return false;
  } catch (e) {
    if (!(e instanceof DbError && e.code === 404)) throw e;
  }
  const req = { id: s.id, collection: s.collection, tags: s.tags, annotations: s.annotations };
  try {
    await dest.create({ ...req, allowNonFinite: true });
  } catch (e) {
    if (!(e instanceof DbError && e.code === 501)) throw e;
    await dest.create(req);
  }
  return true;
}

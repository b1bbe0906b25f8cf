import { dirname, resolve } from 'node:path';
import type { AppendFile, Env, ReadableFile } from './env.ts';
import { errnoError } from './errno.ts';
import { MemFile, type TornMode } from './memory-file.ts';
import { writeFileAtomicVia } from './write-file-atomic.ts';

export interface CrashOptions {
  /**
   * What becomes of bytes written but not synced. false (default): all lost. true: per file, a
   * random choice of the modes below. A mode: see {@link TornMode} ('prefix' keeps a random prefix
   * of the real bytes, 'garbage' random bytes in it, 'zeros' a zero-filled end).
   */
  readonly torn?: boolean | TornMode;
  /** Random source in [0, 1) (default Math.random); use `seededRng(seed)` to reproduce a failure. */
  readonly rng?: () => number;
}

const MODES: readonly TornMode[] = ['prefix', 'garbage', 'zeros'];

/**
 * An in-memory Env that models durability, for crash tests. Per file it keeps the bytes written
 * and the bytes made durable by the last `sync()`; per directory, the entries made durable by the
 * last `syncDir()`. `crash()` throws away everything not durable: files created (or renamed, or
 * removed) since their directory's last fsync revert, and unsynced bytes vanish or survive torn.
 * Directories made by `mkdirp` are durable at once. Handles opened before a crash fail with EBADF.
 *
 * `capacity` (bytes, summed over all files) models a full disk: a write past it writes what fits
 * and fails with ENOSPC, as a real one does. Raise or clear it to "free space".
 */
export class MemoryEnv implements Env {
  readonly name = 'memory';
  capacity: number | undefined;
  private files = new Map<string, MemFile>();
  private durable = new Map<string, MemFile>();
  private readonly dirs = new Set<string>(['/']);
  private generation = 0;

  constructor(options?: { readonly capacity?: number }) {
    this.capacity = options?.capacity;
  }

  async mkdirp(dir: string): Promise<void> {
    for (let d = resolve(dir); !this.dirs.has(d); d = dirname(d)) {
      if (this.files.has(d)) throw errnoError('EEXIST', 'mkdir', d, 'a file has this name');
      this.dirs.add(d);
    }
  }

  async list(dir: string): Promise<string[]> {
    const d = this.dir(dir, 'scandir');
    const names: string[] = [];
    for (const p of this.files.keys()) if (dirname(p) === d) names.push(p.slice(d === '/' ? 1 : d.length + 1));
    for (const p of this.dirs) if (p !== '/' && dirname(p) === d) names.push(p.slice(d === '/' ? 1 : d.length + 1));
    return names.sort();
  }

  async openAppend(path: string): Promise<AppendFile> {
    const p = resolve(path);
    let f = this.files.get(p);
    if (!f) {
      this.dir(dirname(p), 'open');
      f = new MemFile();
      this.files.set(p, f);
    }
    return this.handle(p, f, true);
  }

  async openRead(path: string): Promise<ReadableFile> {
    const p = resolve(path);
    return this.handle(p, this.file(p, 'open'), false);
  }

  async remove(path: string): Promise<void> {
    const p = resolve(path);
    this.file(p, 'unlink');
    this.files.delete(p);
  }

  async rename(from: string, to: string): Promise<void> {
    const f = resolve(from);
    const t = resolve(to);
    const file = this.file(f, 'rename');
    this.dir(dirname(t), 'rename');
    this.files.delete(f);
    this.files.set(t, file);
  }

  async syncDir(dir: string): Promise<void> {
    const d = this.dir(dir, 'fsync');
    for (const p of [...this.durable.keys()]) if (dirname(p) === d) this.durable.delete(p);
    for (const [p, f] of this.files) if (dirname(p) === d) this.durable.set(p, f);
  }

  async readFile(path: string): Promise<Uint8Array> {
    return this.file(resolve(path), 'open').view().slice();
  }

  writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    return writeFileAtomicVia(this, path, data);
  }

  /** Simulate power loss: keep only durable entries and bytes (see {@link CrashOptions}). */
  crash(options: CrashOptions = {}): void {
    const rng = options.rng ?? Math.random;
    const torn = options.torn ?? false;
    this.generation++;
    const survivors = new Map<string, MemFile>();
    const done = new Set<MemFile>();
    for (const [p, f] of this.durable) {
      if (!done.has(f)) {
        const mode =
          torn === false ? 'none' : torn === true ? (MODES[Math.floor(rng() * MODES.length)] ?? 'prefix') : torn;
        f.crash(mode, rng);
        done.add(f);
      }
      survivors.set(p, f);
    }
    this.files = survivors;
    this.durable = new Map(survivors);
  }

  /** XOR `mask` into the stored byte at `offset` of `path`: media corruption that survives crashes. */
  corrupt(path: string, offset: number, mask = 1): void {
    this.file(resolve(path), 'corrupt').corrupt(offset, mask);
  }

  /** A copy of the current bytes of `path` (for tests). */
  fileBytes(path: string): Uint8Array {
    return this.file(resolve(path), 'open').view().slice();
  }

  /** A copy of what `path` would hold after a crash now (empty if its entry is not durable). */
  durableBytes(path: string): Uint8Array {
    return this.durable.get(resolve(path))?.durableBytes() ?? new Uint8Array(0);
  }

  /** Bytes held by all files (what `capacity` limits). */
  usedBytes(): number {
    let n = 0;
    for (const f of new Set(this.files.values())) n += f.size();
    return n;
  }

  /** Bytes that still fit under `capacity` (Infinity without one). */
  private room(): number {
    return this.capacity === undefined ? Number.POSITIVE_INFINITY : Math.max(0, this.capacity - this.usedBytes());
  }

  private handle(p: string, f: MemFile, writable: boolean): MemHandle {
    const generation = this.generation;
    return new MemHandle(p, f, writable, {
      alive: () => generation === this.generation,
      room: () => this.room(),
    });
  }

  private file(p: string, syscall: string): MemFile {
    const f = this.files.get(p);
    if (!f) throw errnoError('ENOENT', syscall, p);
    return f;
  }

  private dir(dir: string, syscall: string): string {
    const d = resolve(dir);
    if (!this.dirs.has(d)) throw errnoError('ENOENT', syscall, d);
    return d;
  }
}

interface HandleHooks {
  /** False once the env has crashed since the handle was opened. */
  alive(): boolean;
  room(): number;
}

class MemHandle implements AppendFile {
  private closed = false;

  constructor(
    readonly path: string,
    private readonly file: MemFile,
    private readonly writable: boolean,
    private readonly hooks: HandleHooks,
  ) {}

  size(): number {
    this.live();
    return this.file.size();
  }

  read(dst: Uint8Array, position: number): number {
    this.live();
    return this.file.read(dst, position);
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    this.writableOrThrow('write');
    for (const c of chunks) {
      const room = this.hooks.room();
      if (room < c.length) {
        this.file.append(c.subarray(0, room));
        throw errnoError('ENOSPC', 'write', this.path);
      }
      this.file.append(c);
    }
  }

  async sync(): Promise<void> {
    this.live();
    this.file.sync();
  }

  async truncate(size: number): Promise<void> {
    this.writableOrThrow('ftruncate');
    this.file.truncate(size);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private live(): void {
    if (this.closed) throw errnoError('EBADF', 'access', this.path, 'file is closed');
    if (!this.hooks.alive()) throw errnoError('EBADF', 'access', this.path, 'handle from before a crash');
  }

  private writableOrThrow(syscall: string): void {
    this.live();
    if (!this.writable) throw errnoError('EBADF', syscall, this.path, 'file is open read-only');
  }
}

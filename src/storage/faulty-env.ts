import { resolve } from 'node:path';
import type { AppendFile, Env, ReadableFile } from './env.ts';
import { errnoError } from './errno.ts';
import { Failpoints, type FaultErrno, type FaultOp, type FaultTrigger } from './failpoints.ts';
import { writeFileAtomicVia } from './write-file-atomic.ts';

/**
 * An Env wrapping another, with named failpoints (bbolt's habit) for fault and crash tests:
 *
 * - `failOn(op, {nth, times, path, errno})`: the nth matching call of `op` fails with EIO/ENOSPC;
 * - `tornWrite({nth, keep, errno})`: a write stores only its first `keep` bytes, then fails;
 * - `flipBitOnRead({nth, index, bit})`: one read returns data with a bit flipped;
 * - `flipStoredBit(path, offset, bit)`: every read of that byte sees the bit flipped (media rot);
 * - `crashAtStep(n)`: the nth durability step (`sync`, `rename`, `syncDir`) is not performed and
 *   throws, and every later call fails too, as in a dead process. The test then calls
 *   `MemoryEnv.crash()` on the inner env and reopens over it (or over this env after `reset()`).
 *
 * `steps` counts durability steps seen, so a test can run a workload once to learn the total and
 * then crash at every N = 1..total. Without armed faults a FaultyEnv behaves as its inner Env.
 */
export class FaultyEnv implements Env {
  readonly name: string;
  private readonly points = new Failpoints();
  private readonly storedFlips = new Map<string, Map<number, number>>();
  private crashStep: number | undefined;
  private stepCount = 0;
  private dead = false;

  constructor(readonly inner: Env) {
    this.name = `faulty(${inner.name})`;
  }

  /** Fail the nth matching call of `op` (then `times - 1` more) with `errno` (default EIO). */
  failOn(op: FaultOp, options: FaultTrigger & { readonly errno?: FaultErrno } = {}): void {
    this.points.arm(op, { kind: 'fail', errno: options.errno ?? 'EIO' }, options);
  }

  /** The nth matching write stores only its first `keep` bytes (default half), then fails. */
  tornWrite(options: FaultTrigger & { readonly keep?: number; readonly errno?: FaultErrno } = {}): void {
    this.points.arm('write', { kind: 'torn', errno: options.errno ?? 'EIO', keep: options.keep }, options);
  }

  /** The nth matching read returns its bytes with bit `bit` of byte `index` (default middle) flipped. */
  flipBitOnRead(options: FaultTrigger & { readonly index?: number; readonly bit?: number } = {}): void {
    this.points.arm('read', { kind: 'flip', index: options.index, bit: options.bit ?? 0 }, options);
  }

  /** From now on, every read through this env sees bit `bit` of byte `offset` of `path` flipped. */
  flipStoredBit(path: string, offset: number, bit = 0): void {
    const p = resolve(path);
    const flips = this.storedFlips.get(p) ?? new Map<number, number>();
    flips.set(offset, (flips.get(offset) ?? 0) ^ (1 << bit));
    this.storedFlips.set(p, flips);
  }

  /** Crash just before the nth durability step from the env's creation (counting from 1). */
  crashAtStep(n: number): void {
    this.crashStep = n;
  }

  /** Durability steps (sync, rename, syncDir calls) seen so far, including a failed one. */
  get steps(): number {
    return this.stepCount;
  }

  /** True once a `crashAtStep` crash happened: every call fails until `reset()`. */
  get crashed(): boolean {
    return this.dead;
  }

  /** Calls seen per operation. */
  counts(): Readonly<Record<FaultOp, number>> {
    return this.points.counts();
  }

  /** Remove armed failpoints and the crash step. Stored bit flips stay (they model the medium). */
  disarm(): void {
    this.points.disarm();
    this.crashStep = undefined;
  }

  /** Disarm, forget stored bit flips and the crashed state: the env works as its inner one again. */
  reset(): void {
    this.disarm();
    this.storedFlips.clear();
    this.dead = false;
  }

  async mkdirp(dir: string): Promise<void> {
    this.alive('mkdir', dir);
    await this.inner.mkdirp(dir);
  }

  async list(dir: string): Promise<string[]> {
    this.check('list', dir);
    return this.inner.list(dir);
  }

  async openAppend(path: string): Promise<AppendFile> {
    this.check('open', path);
    return new FaultyFile(this, await this.inner.openAppend(path));
  }

  async openRead(path: string): Promise<ReadableFile> {
    this.check('open', path);
    return new FaultyFile(this, await this.inner.openRead(path));
  }

  async remove(path: string): Promise<void> {
    this.check('remove', path);
    await this.inner.remove(path);
  }

  async rename(from: string, to: string): Promise<void> {
    this.check('rename', from);
    await this.inner.rename(from, to);
  }

  async syncDir(dir: string): Promise<void> {
    this.check('syncDir', dir);
    await this.inner.syncDir(dir);
  }

  async readFile(path: string): Promise<Uint8Array> {
    this.check('readFile', path);
    const bytes = await this.inner.readFile(path);
    this.applyStoredFlips(path, bytes, 0);
    return bytes;
  }

  writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    return writeFileAtomicVia(this, path, data);
  }

  /** @internal Count a call, apply crash mode and 'fail' faults; return any other fault that fired. */
  check(op: FaultOp, path: string): ReturnType<Failpoints['fire']> {
    this.alive(op, path);
    if (op === 'sync' || op === 'rename' || op === 'syncDir') {
      this.stepCount++;
      if (this.stepCount === this.crashStep) {
        this.dead = true;
        throw errnoError('EIO', op, path, `simulated crash at durability step ${this.stepCount}`);
      }
    }
    const action = this.points.fire(op, path);
    if (action?.kind === 'fail') throw errnoError(action.errno, op, path, `failpoint ${op}`);
    return action;
  }

  /** @internal XOR the stored bit flips of `path` into `bytes`, which hold the file from `position`. */
  applyStoredFlips(path: string, bytes: Uint8Array, position: number): void {
    const flips = this.storedFlips.get(resolve(path));
    if (!flips) return;
    for (const [offset, mask] of flips) {
      const i = offset - position;
      if (i >= 0 && i < bytes.length) bytes[i] = (bytes[i] ?? 0) ^ mask;
    }
  }

  private alive(op: string, path: string): void {
    if (this.dead) throw errnoError('EIO', op, path, 'the process has crashed (FaultyEnv.crashAtStep)');
  }
}

/** A handle whose calls pass through the env's failpoints. Read-only handles reject writes (EBADF). */
class FaultyFile implements AppendFile {
  readonly path: string;

  constructor(
    private readonly env: FaultyEnv,
    private readonly inner: AppendFile | ReadableFile,
  ) {
    this.path = inner.path;
  }

  size(): number {
    return this.inner.size();
  }

  read(dst: Uint8Array, position: number): number {
    const action = this.env.check('read', this.path);
    const n = this.inner.read(dst, position);
    this.env.applyStoredFlips(this.path, dst.subarray(0, n), position);
    if (action?.kind === 'flip' && n > 0) {
      const i = Math.min(n - 1, action.index ?? n >> 1);
      dst[i] = (dst[i] ?? 0) ^ (1 << action.bit);
    }
    return n;
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    const action = this.env.check('write', this.path);
    const f = this.writable('write');
    if (action?.kind !== 'torn') return f.write(chunks);
    const total = chunks.reduce((n, c) => n + c.length, 0);
    let keep = Math.min(total, action.keep ?? total >> 1);
    const prefix: Uint8Array[] = [];
    for (const c of chunks) {
      if (keep === 0) break;
      prefix.push(c.subarray(0, Math.min(keep, c.length)));
      keep -= Math.min(keep, c.length);
    }
    await f.write(prefix);
    throw errnoError(action.errno, 'write', this.path, 'failpoint torn write');
  }

  async sync(): Promise<void> {
    this.env.check('sync', this.path);
    await this.writable('fdatasync').sync();
  }

  async truncate(size: number): Promise<void> {
    this.env.check('truncate', this.path);
    await this.writable('ftruncate').truncate(size);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private writable(syscall: string): AppendFile {
    if (!('write' in this.inner)) throw errnoError('EBADF', syscall, this.path, 'file is open read-only');
    return this.inner;
  }
}

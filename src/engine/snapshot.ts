/**
 * A point-in-time view of the engine for backups (docs/adr/0005-backup.md).
 *
 * `Engine.snapshot()` commits every acknowledged write (a barrier over all streams), then captures
 * — synchronously, so no commit interleaves — every live stream's options and retained versions
 * with their roots, and the list of block segments. Blocks are immutable and every root published
 * was fsynced before it was published, so the captured roots reference only durable bytes of the
 * listed segments. While the snapshot is held, compaction (the only thing that deletes segments)
 * waits; new commits, inserts and reads carry on.
 */
import type { StreamId } from '../core/types.ts';
import type { BlockStore } from '../storage/types.ts';
import type { StreamOptions, StreamRecord, VersionEntry } from './manifest.ts';

/** One stream as captured: `walBound` is 0 because the snapshot carries no WAL. */
export interface SnapshotStream extends StreamRecord {
  readonly id: StreamId;
}

export interface EngineSnapshot {
  /** Every live stream at the capture, with its retained versions (ascending). */
  readonly streams: readonly SnapshotStream[];
  /**
   * Block segments at the capture, by id, with their logical size then (staged bytes included, so
   * an upper bound of the durable size). Every block the captured roots reference lies in the
   * durable prefix of one of these.
   */
  readonly segments: readonly { readonly id: number; readonly bytes: number }[];
  /** Wall-clock ms of the capture. */
  readonly takenAt: number;
  /** Let compaction run again. Idempotent. */
  release(): void;
}

/**
 * Counts snapshots in progress. Compaction must not start while one is held (it deletes segments a
 * copy may still be reading); a snapshot must not be taken during a compaction (its segment list
 * would be about to change) — the engine checks both before taking either.
 */
export class SnapshotPins {
  private held = 0;
  private waiters: (() => void)[] = [];

  get busy(): boolean {
    return this.held > 0;
  }

  /** Take a pin; the returned function releases it (once). */
  hold(): () => void {
    this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
      if (this.held === 0) {
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }
    };
  }

  /** Resolves when no pin is held. */
  idle(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/**
 * Capture the streams and segments now. REQUIRES: called synchronously after the barrier, with a
 * pin held (passed as `release`) and no compaction running.
 */
export function captureSnapshot(
  streams: Iterable<{
    readonly id: StreamId;
    readonly options: StreamOptions;
    readonly versions: readonly VersionEntry[];
  }>,
  blocks: BlockStore,
  now: number,
  release: () => void,
): EngineSnapshot {
  const captured: SnapshotStream[] = [];
  for (const s of streams) {
    captured.push({ id: s.id, options: { ...s.options }, versions: [...s.versions], walBound: 0 });
  }
  const segments = blocks
    .segments()
    .map((x) => ({ id: x.id, bytes: x.bytes }))
    .sort((a, b) => a.id - b.id);
  return { streams: captured, segments, takenAt: now, release };
}

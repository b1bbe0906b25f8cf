import { GroupCommit } from './group-commit.ts';
import type { SegmentFile, SegmentIo } from './segment-file.ts';

/**
 * The segments of a store that still have bytes to make durable, in order, plus the active one
 * that appends go to, and the group commit over them. Positions are global (`segment.base +
 * offset`), so one number orders every byte of the store.
 *
 * Flush order is the crash-safety argument: a segment's bytes are written and fdatasynced before
 * the next segment's file is created, so after a crash any segment but the last is complete.
 */
export class SegmentChain {
  private pending: SegmentFile[] = [];
  private activeSeg: SegmentFile | undefined;
  private durableEnd: number;
  private readonly commit: GroupCommit;

  constructor(
    private readonly io: SegmentIo,
    active: SegmentFile | undefined,
    /** Global position of the end of durable data when nothing is active yet. */
    durableEnd = 0,
    /** Called when a flush fails (see GroupCommit); record logs discard their unsynced records. */
    onFailure?: (error: unknown) => Promise<void>,
  ) {
    this.activeSeg = active;
    if (active) this.pending.push(active);
    this.durableEnd = active ? active.base + active.durable : durableEnd;
    this.commit = new GroupCommit(
      () => this.stagedEnd,
      () => this.durableEnd,
      (target) => this.flush(target),
      onFailure,
    );
  }

  /**
   * Forget every byte not yet durable: segments whose file never became durable are dropped (and
   * returned, for the owner to close and remove), the others are cut back to their durable size,
   * and the newest surviving one becomes active again. REQUIRES: `fallback` is the segment to
   * make active if every pending segment is dropped (the owner's newest durable segment).
   */
  discardUnsynced(fallback: SegmentFile | undefined): SegmentFile[] {
    const dropped: SegmentFile[] = [];
    const kept: SegmentFile[] = [];
    for (const seg of this.pending) {
      if (seg.durable === 0) dropped.push(seg);
      else {
        seg.discardStaged();
        kept.push(seg);
      }
    }
    const active = kept.at(-1) ?? fallback;
    if (active && !kept.includes(active)) {
      active.discardStaged();
      kept.push(active);
    }
    this.pending = kept;
    this.activeSeg = active;
    if (active) this.durableEnd = active.base + active.durable;
    return dropped;
  }

  get active(): SegmentFile | undefined {
    return this.activeSeg;
  }

  /** Global position just past the last appended byte. */
  get stagedEnd(): number {
    const a = this.activeSeg;
    return a ? a.base + a.end : this.durableEnd;
  }

  /** Global position just past the last durable byte. */
  get durable(): number {
    return this.durableEnd;
  }

  /** Make `seg` (already holding its staged header) the segment appends go to. */
  activate(seg: SegmentFile): void {
    this.activeSeg = seg;
    this.pending.push(seg);
  }

  sync(): Promise<void> {
    return this.commit.sync();
  }

  /** Resolves once no flush is running. */
  idle(): Promise<void> {
    return this.commit.idle();
  }

  private async flush(target: number): Promise<void> {
    for (const seg of this.pending) {
      if (seg.base >= target) break;
      await seg.flushTo(Math.min(seg.end, target - seg.base), this.io);
    }
    this.pending = this.pending.filter((s) => s === this.activeSeg || !s.settled());
    if (target > this.durableEnd) this.durableEnd = target;
  }
}

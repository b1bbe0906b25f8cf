/**
 * Replay a pcap capture into streams, as fast as the database takes it: frames in capture order,
 * decoded with the configuration current for their IDCODE, written through a C37Writer.
 */
import { DbError } from '../../core/errors.ts';
import type { C37Writer } from './ingest-writer.ts';
import { type PcapFrameStats, pcapFrames } from './pcap-frames.ts';
import { C37Session, type SessionCounts } from './session.ts';

export interface ReplaySummary {
  readonly frames: SessionCounts;
  readonly pcap: PcapFrameStats;
  /** Last few decode errors. */
  readonly errors: readonly string[];
}

export interface ReplayOptions {
  readonly port?: number;
  /** Called every `every` frames with the count so far and the capture bytes consumed (approx.). */
  readonly progress?: (framesDone: number) => void;
  readonly every?: number;
  /** Stop early (after the current frame); what was read so far is still flushed. */
  readonly signal?: AbortSignal;
}

/** Decode every frame of the capture `file` and hand configs and data frames to `writer`. */
export async function replayPcap(
  file: Uint8Array,
  writer: C37Writer,
  opts: ReplayOptions = {},
): Promise<ReplaySummary> {
  const session = new C37Session();
  const stats: PcapFrameStats = { records: 0, skippedRecords: 0, skippedBytes: 0, lostBytes: 0, outOfSequence: 0 };
  const every = opts.every ?? 1000;
  let n = 0;
  for (const f of pcapFrames(file, opts.port === undefined ? {} : { port: opts.port }, stats)) {
    const d = session.decode(f.bytes, f.offset);
    if (!(d instanceof DbError)) {
      if (d.type === 'data') await writer.data(d);
      else if (d.type === 'cfg1' || d.type === 'cfg2' || d.type === 'cfg3') {
        // Data frames follow the session's preferred configuration (CFG-2 over CFG-1).
        if (session.configs.get(d.idcode) === d) await writer.config(d);
      }
    }
    if (++n % every === 0) opts.progress?.(n);
    if (opts.signal?.aborted) break;
  }
  await writer.flush();
  return { frames: session.counts, pcap: stats, errors: session.errors };
}

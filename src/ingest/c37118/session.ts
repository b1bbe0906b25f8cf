/**
 * A decoding session: the configurations seen so far (by IDCODE: a CFG-1/2/3 frame replaces the
 * one of its IDCODE) and the counts of what was decoded. Data frames are decoded with the latest
 * configuration of their IDCODE; a CFG-2 is preferred to a CFG-1 (CFG-1 describes what the PMU can
 * send, CFG-2 what it sends), and a CFG-3 to both.
 */
import { type DbError, isDbError } from '../../core/errors.ts';
import { decodeFrame } from './frame-decode.ts';
import type { C37Frame, ConfigFrame } from './types.ts';

export interface SessionCounts {
  data: number;
  cfg1: number;
  cfg2: number;
  cfg3: number;
  command: number;
  header: number;
  /** Frames rejected (bad CRC, bad layout, data before any configuration). */
  bad: number;
}

const RANK = { cfg1: 1, cfg2: 2, cfg3: 3 } as const;

export class C37Session {
  readonly configs = new Map<number, ConfigFrame>();
  readonly counts: SessionCounts = { data: 0, cfg1: 0, cfg2: 0, cfg3: 0, command: 0, header: 0, bad: 0 };
  /** The last few rejections (message), newest last. */
  readonly errors: string[] = [];

  /**
   * Decode one frame. Returns the frame, or a DbError for a rejected one (counted in `bad`); a
   * configuration frame becomes current for its IDCODE unless a higher-ranked kind is current.
   */
  decode(bytes: Uint8Array, base = 0): C37Frame | DbError {
    let f: C37Frame;
    try {
      f = decodeFrame(bytes, { configs: (id) => this.configs.get(id), base });
    } catch (e) {
      if (!isDbError(e)) throw e;
      this.counts.bad++;
      this.errors.push(e.message);
      if (this.errors.length > 20) this.errors.shift();
      return e;
    }
    this.counts[f.type]++;
    if (f.type === 'cfg1' || f.type === 'cfg2' || f.type === 'cfg3') {
      const cur = this.configs.get(f.idcode);
      if (cur === undefined || RANK[cur.type] <= RANK[f.type]) this.configs.set(f.idcode, f);
    }
    return f;
  }
}

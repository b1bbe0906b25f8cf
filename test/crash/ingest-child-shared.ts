/** Layout of the kill loop's data, shared by the child (writer) and the parent (verifier). */
import { parseStreamId } from '../../src/core/uuid.ts';

export const WRITERS = 4;
export const streamOf = (w: number) => parseStreamId(`00000000-0000-4000-8000-${String(w + 1).padStart(12, '0')}`);
/** First time (ns) of batch k in cycle c; each (c, k) owns a 1-second slab, points 1 µs apart. */
export const firstTime = (c: number, k: number): bigint =>
  1_600_000_000_000_000_000n + BigInt(c * 100_000 + k) * 1_000_000_000n;

/**
 * A Frame as an array of row objects (btrdb-python `to_dict`: one dict per time): `time` (bigint
 * ns) plus one key per column. A missing float value (NaN in the frame) becomes `null`.
 */
import { checkFrame, type Frame } from '../frame.ts';

export type FrameRecord = Record<string, bigint | number | null> & { readonly time: bigint };

export function frameToRecords(frame: Frame): FrameRecord[] {
  checkFrame(frame);
  const out: FrameRecord[] = [];
  for (let i = 0; i < frame.times.length; i++) {
    const row: Record<string, bigint | number | null> = { time: frame.times[i]! };
    for (const c of frame.columns) {
      const v = c.data[i]!;
      row[c.name] = Number.isNaN(v) ? null : v;
    }
    out.push(row as FrameRecord);
  }
  return out;
}

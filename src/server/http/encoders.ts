/** Row encoders (tables.ts) for raw points and window statistics. */
import type { StatPoint } from '../../core/stat.ts';
import type { PointBatch } from '../../core/types.ts';
import { rawValuesToArrow, windowsToArrow } from '../../wire/index.ts';
import { jsonNumber, type TableEncoder, timeText } from './tables.ts';

/**
 * Raw points: `{"time": "…", "value": 1.5}`, plus `"flags": n` for points whose quality flags are
 * not 0 (streams written with flags). CSV `time,value,flags`; Arrow: the BTrDB raw schema.
 */
export const POINTS: TableEncoder<PointBatch> = {
  key: 'points',
  json(b, iso) {
    const out = new Array<string>(b.times.length);
    const f = b.flags;
    for (let i = 0; i < out.length; i++) {
      const flag = f?.[i] ?? 0;
      out[i] =
        `{"time":"${timeText(b.times[i]!, iso)}","value":${jsonNumber(b.values[i]!)}` +
        (flag !== 0 ? `,"flags":${flag}}` : '}');
    }
    return out;
  },
  csvHeader: 'time,value,flags',
  csv(b, iso) {
    const out = new Array<string>(b.times.length);
    for (let i = 0; i < out.length; i++) out[i] = `${timeText(b.times[i]!, iso)},${b.values[i]!},${b.flags?.[i] ?? 0}`;
    return out;
  },
  arrow: (b) => rawValuesToArrow({ times: b.times, values: b.values }),
  count: (b) => b.times.length,
};

/** Windows: `{"time", "min", "mean", "max", "count", "stddev"}`; Arrow: the BTrDB windows schema. */
export const WINDOWS: TableEncoder<readonly StatPoint[]> = {
  key: 'windows',
  json: (ws, iso) =>
    ws.map(
      (w) =>
        `{"time":"${timeText(w.time, iso)}","min":${jsonNumber(w.min)},"mean":${jsonNumber(w.mean)},` +
        `"max":${jsonNumber(w.max)},"count":${w.count},"stddev":${jsonNumber(w.stddev)}}`,
    ),
  csvHeader: 'time,min,mean,max,count,stddev',
  csv: (ws, iso) => ws.map((w) => `${timeText(w.time, iso)},${w.min},${w.mean},${w.max},${w.count},${w.stddev}`),
  arrow: (ws) => windowsToArrow(ws),
  count: (ws) => ws.length,
};

/** Plain JSON rows (list answers): one object per row; CSV is not offered for them. */
export function jsonRows<T>(key: string, toJson: (row: T) => unknown): TableEncoder<readonly T[]> {
  return {
    key,
    json: (rows) => rows.map((r) => JSON.stringify(toJson(r))),
    csvHeader: '',
    csv: () => [],
    count: (rows) => rows.length,
  };
}

/** Split an array into chunks of at most `size` (at least one chunk). */
export async function* chunked<T>(items: readonly T[], size = 5000): AsyncGenerator<readonly T[]> {
  if (items.length === 0) yield [];
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/**
 * Merge small point batches (the engine yields leaf-sized or smaller views) into batches of at
 * least `min` points, so each answer chunk (an Arrow record batch, a sink write) is worth its
 * overhead. Flags are kept when any batch has them (missing ones become 0). Holds at most one
 * output batch: a slow reader still holds the read back.
 */
export async function* coalesce(source: AsyncIterable<PointBatch>, min = 4096): AsyncGenerator<PointBatch> {
  let parts: PointBatch[] = [];
  let n = 0;
  const merge = (): PointBatch => {
    if (parts.length === 1) return parts[0]!;
    const times = new BigInt64Array(n);
    const values = new Float64Array(n);
    const anyFlags = parts.some((p) => p.flags !== undefined);
    const flags = anyFlags ? new Uint32Array(n) : undefined;
    let at = 0;
    for (const p of parts) {
      times.set(p.times, at);
      values.set(p.values, at);
      if (flags && p.flags) flags.set(p.flags, at);
      at += p.times.length;
    }
    return flags ? { times, values, flags } : { times, values };
  };
  let yielded = false;
  for await (const b of source) {
    if (b.times.length === 0) continue;
    parts.push(b);
    n += b.times.length;
    if (n >= min) {
      yield merge();
      yielded = true;
      parts = [];
      n = 0;
    }
  }
  if (n > 0 || !yielded) yield n > 0 ? merge() : { times: new BigInt64Array(0), values: new Float64Array(0) };
}

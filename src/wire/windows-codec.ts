/**
 * AlignedWindowsResponse and WindowsResponse (identical layout: +V and `values` field 4,
 * StatPoint rep), hand-written. A StatPoint entry is always written in full, 56 bytes:
 * tag, length 54, then time (sfixed64), min, mean, max (double), count (fixed64), stddev (double),
 * each as a one-byte tag and 8 bytes. Decoding takes that layout on a fast path and otherwise
 * decodes field by field (any order, omitted = 0, unknown fields skipped).
 *
 * `count` is a JS number here (core's StatPoint): exact up to 2^53; larger counts are rejected.
 */
import './endian.ts';
import type { StatPoint } from '../core/stat.ts';
import type { MessageCodec } from './message-codec.ts';
import type { VersionedResponse } from './messages-data.ts';
import { ProtoReader, WIRE_I64 } from './pb-reader.ts';
import { ProtoWriter } from './pb-writer.ts';
import { versionedHeaderReader, writeVersionedHeader } from './raw-values-codec.ts';
import { countEntries, forEachEntry } from './repeated-scan.ts';
import { WireFormatError } from './wire-error.ts';

export type { StatPoint };

/** One message of an AlignedWindows or Windows answer: windows in time order. */
export interface WindowsResponse extends VersionedResponse {
  readonly values: readonly StatPoint[];
}
export type AlignedWindowsResponse = WindowsResponse;

export const STAT_POINT_ENTRY_BYTES = 56;
const TWO_32 = 4294967296;
const MAX_SAFE_HI = 0x200000; // hi word of 2^53
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Encode either response (`name` only labels errors). */
export function encodeWindowsResponse(m: WindowsResponse, name = 'WindowsResponse'): Uint8Array {
  const head = new ProtoWriter(64);
  writeVersionedHeader(head, m, name);
  const header = head.finish();
  const pts = m.values;
  const out = new Uint8Array(header.length + pts.length * STAT_POINT_ENTRY_BYTES);
  out.set(header, 0);
  const dv = new DataView(out.buffer);
  let o = header.length;
  for (let i = 0; i < pts.length; i++) {
    const s = pts[i]!;
    const c = s.count;
    if (!(Number.isSafeInteger(c) && c >= 0)) {
      throw new WireFormatError(`${name}.values[${i}].count: expected a non-negative safe integer, got ${c}`);
    }
    out[o] = 0x22;
    out[o + 1] = 54;
    out[o + 2] = 0x09;
    const t = s.time;
    if (typeof t !== 'bigint' || t < I64_MIN || t > I64_MAX) {
      throw new WireFormatError(`${name}.values[${i}].time: expected an int64 bigint, got ${String(t)}`);
    }
    dv.setBigInt64(o + 3, t, true);
    out[o + 11] = 0x11;
    dv.setFloat64(o + 12, s.min, true);
    out[o + 20] = 0x19;
    dv.setFloat64(o + 21, s.mean, true);
    out[o + 29] = 0x21;
    dv.setFloat64(o + 30, s.max, true);
    out[o + 38] = 0x29;
    dv.setUint32(o + 39, c >>> 0, true);
    dv.setUint32(o + 43, Math.floor(c / TWO_32), true);
    out[o + 47] = 0x31;
    dv.setFloat64(o + 48, s.stddev, true);
    o += STAT_POINT_ENTRY_BYTES;
  }
  return out;
}

export function decodeWindowsResponse(bytes: Uint8Array, name = 'WindowsResponse'): WindowsResponse {
  const h: { stat: VersionedResponse['stat']; versionMajor: bigint; versionMinor: bigint } = {
    stat: undefined,
    versionMajor: 0n,
    versionMinor: 0n,
  };
  const n = countEntries(bytes, 0, bytes.length, 4, name, versionedHeaderReader(name, bytes, h));
  const values = new Array<StatPoint>(n);
  if (n > 0) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const b = bytes;
    forEachEntry(bytes, 0, bytes.length, 4, (p, len, i) => {
      if (
        len === 54 &&
        b[p] === 0x09 &&
        b[p + 9] === 0x11 &&
        b[p + 18] === 0x19 &&
        b[p + 27] === 0x21 &&
        b[p + 36] === 0x29 &&
        b[p + 45] === 0x31
      ) {
        const hi = dv.getUint32(p + 41, true);
        if (hi >= MAX_SAFE_HI) {
          throw new WireFormatError(`${name}.values[${i}].count exceeds 2^53 at byte ${p + 37} of ${b.length}`, p + 37);
        }
        values[i] = {
          time: dv.getBigInt64(p + 1, true),
          min: dv.getFloat64(p + 10, true),
          mean: dv.getFloat64(p + 19, true),
          max: dv.getFloat64(p + 28, true),
          count: hi * TWO_32 + dv.getUint32(p + 37, true),
          stddev: dv.getFloat64(p + 46, true),
        };
      } else values[i] = readStatPointSlow(b, p, p + len, `${name}.values[${i}]`);
    });
  }
  const out = { versionMajor: h.versionMajor, versionMinor: h.versionMinor, values };
  return h.stat === undefined ? out : { stat: h.stat, ...out };
}

const STAT_FIELDS = ['', 'time', 'min', 'mean', 'max', 'count', 'stddev'] as const;

function readStatPointSlow(b: Uint8Array, start: number, end: number, what: string): StatPoint {
  const r = new ProtoReader(b, start, end);
  let time = 0n;
  let min = 0;
  let mean = 0;
  let max = 0;
  let count = 0;
  let stddev = 0;
  while (r.pos < end) {
    const t = r.tag(what);
    const no = t >>> 3;
    if (no >= 1 && no <= 6) {
      if ((t & 7) !== WIRE_I64)
        throw r.fail(`${what}.${STAT_FIELDS[no]} (field ${no}): wire type ${t & 7}, expected 1`);
      if (no === 1) time = r.sfixed64(`${what}.time`);
      else if (no === 5) {
        const at = r.pos;
        r.fixed64(`${what}.count`);
        if (r.hi >= MAX_SAFE_HI) throw r.fail(`${what}.count exceeds 2^53`, at);
        count = r.hi * TWO_32 + r.lo;
      } else {
        const v = r.double(`${what}.${STAT_FIELDS[no]}`);
        if (no === 2) min = v;
        else if (no === 3) mean = v;
        else if (no === 4) max = v;
        else stddev = v;
      }
    } else r.skip(t & 7, `${what} field ${no}`, no);
  }
  if (r.pos !== end) throw r.fail(`${what}: field runs past the end of the window`);
  return { time, min, mean, max, count, stddev };
}

const codecFor = (name: string): MessageCodec<WindowsResponse> => ({
  name,
  encode: (m) => encodeWindowsResponse(m, name),
  decode: (bytes) => decodeWindowsResponse(bytes, name),
  write(w, m) {
    const bytes = encodeWindowsResponse(m, name);
    w.reserve(bytes.length);
    w.buf.set(bytes, w.pos);
    w.pos += bytes.length;
  },
  read: (bytes, start, end) => decodeWindowsResponse(bytes.subarray(start, end), name),
});

export const AlignedWindowsResponseCodec = codecFor('AlignedWindowsResponse');
export const WindowsResponseCodec = codecFor('WindowsResponse');

/** A single StatPoint message (the entry layout without tag and length); for completeness. */
export const StatPointCodec: MessageCodec<StatPoint> = {
  name: 'StatPoint',
  encode(s) {
    const entry = encodeWindowsResponse({ versionMajor: 0n, versionMinor: 0n, values: [s] }, 'StatPoint');
    return entry.slice(2);
  },
  decode: (bytes) => readStatPointSlow(bytes, 0, bytes.length, 'StatPoint'),
  write(w, s) {
    const bytes = StatPointCodec.encode(s);
    w.reserve(bytes.length);
    w.buf.set(bytes, w.pos);
    w.pos += bytes.length;
  },
  read: (bytes, start, end) => readStatPointSlow(bytes, start, end, 'StatPoint'),
};

/**
 * RawValuesResponse, hand-written: the server encodes it from column arrays and our remote
 * client decodes it back into columns, without a per-point object (PERF-NOTES: the generic
 * protobufjs decoder costs ~1.9 s per 1M points).
 */
import type { MessageCodec } from './message-codec.ts';
import { StatusCodec } from './messages-common.ts';
import type { VersionedResponse } from './messages-data.ts';
import { type ProtoReader, WIRE_LEN, WIRE_VARINT } from './pb-reader.ts';
import { ProtoWriter } from './pb-writer.ts';
import {
  checkColumns,
  decodeRawPointEntries,
  type PointColumns,
  RAW_POINT_ENTRY_BYTES,
  writeRawPointEntries,
} from './raw-point-entries.ts';
import { countEntries } from './repeated-scan.ts';

export type { PointColumns };

/** One message of a RawValues answer: points in time order (`values` field 4, RawPoint rep). */
export interface RawValuesResponse extends VersionedResponse {
  readonly values: PointColumns;
}

/** Write stat (1), versionMajor (2), versionMinor (3) of a "+V" response. */
export function writeVersionedHeader(w: ProtoWriter, m: VersionedResponse, what: string): void {
  if (m.stat !== undefined) {
    const sub = new ProtoWriter(32);
    StatusCodec.write(sub, m.stat);
    w.fieldBytes(1, sub.finish());
  }
  if (typeof m.versionMajor !== 'bigint' || typeof m.versionMinor !== 'bigint') {
    throw new TypeError(`${what}: versionMajor and versionMinor must be bigints`);
  }
  if (m.versionMajor !== 0n) w.fieldBigVarint(2, m.versionMajor);
  if (m.versionMinor !== 0n) w.fieldBigVarint(3, m.versionMinor);
}

/** Encode; `values` may be subarray views (no copy is made of them before writing). */
export function encodeRawValuesResponse(m: RawValuesResponse): Uint8Array {
  checkColumns(m.values, 'RawValuesResponse.values');
  const head = new ProtoWriter(64);
  writeVersionedHeader(head, m, 'RawValuesResponse');
  const header = head.finish();
  const out = new Uint8Array(header.length + m.values.times.length * RAW_POINT_ENTRY_BYTES);
  out.set(header, 0);
  writeRawPointEntries(out, header.length, 4, m.values);
  return out;
}

/** Decode; a mutable header collected while counting points. */
interface Header {
  stat: VersionedResponse['stat'];
  versionMajor: bigint;
  versionMinor: bigint;
}

/** Read fields 1–3 of a "+V" response (any order, repeats merge/last wins); skip unknown fields. */
export function versionedHeaderReader(name: string, bytes: Uint8Array, h: Header): (r: ProtoReader, t: number) => void {
  return (r, t) => {
    switch (t) {
      case (1 << 3) | WIRE_LEN: {
        const n = r.length(`${name}.stat`);
        h.stat = StatusCodec.read(bytes, r.pos, r.pos + n, h.stat);
        r.pos += n;
        return;
      }
      case (2 << 3) | WIRE_VARINT:
        h.versionMajor = r.uint64(`${name}.versionMajor`);
        return;
      case (3 << 3) | WIRE_VARINT:
        h.versionMinor = r.uint64(`${name}.versionMinor`);
        return;
      default: {
        const no = t >>> 3;
        if (no >= 1 && no <= 3) throw r.fail(`${name} field ${no}: wire type ${t & 7} is wrong for this field`);
        r.skip(t & 7, `${name} field ${no}`, no);
      }
    }
  };
}

export function decodeRawValuesResponse(bytes: Uint8Array): RawValuesResponse {
  const h: Header = { stat: undefined, versionMajor: 0n, versionMinor: 0n };
  const n = countEntries(
    bytes,
    0,
    bytes.length,
    4,
    'RawValuesResponse',
    versionedHeaderReader('RawValuesResponse', bytes, h),
  );
  const values: PointColumns = { times: new BigInt64Array(n), values: new Float64Array(n) };
  if (n > 0) decodeRawPointEntries(bytes, 0, bytes.length, 4, values, 'RawValuesResponse.values');
  const out = { versionMajor: h.versionMajor, versionMinor: h.versionMinor, values };
  return h.stat === undefined ? out : { stat: h.stat, ...out };
}

export const RawValuesResponseCodec: MessageCodec<RawValuesResponse> = {
  name: 'RawValuesResponse',
  encode: encodeRawValuesResponse,
  decode: decodeRawValuesResponse,
  write(w, m) {
    const bytes = encodeRawValuesResponse(m);
    w.reserve(bytes.length);
    w.buf.set(bytes, w.pos);
    w.pos += bytes.length;
  },
  read(bytes, start, end) {
    return decodeRawValuesResponse(bytes.subarray(start, end));
  },
};

/**
 * InsertParams, hand-written: decoded by the server straight into column arrays (btrdb-python
 * sends 50,000 points per call, ~1 MB) and encoded by our remote client from columns.
 *
 * Field numbers: uuid 1, sync 2, values 3 (RawPoint rep), merge_policy 4, rounding 5 — `values`
 * is declared last in the proto but numbered 3, and ArrowInsertParams numbers differently.
 */
import type { MessageCodec } from './message-codec.ts';
import { type RoundSpec, RoundSpecCodec } from './messages-common.ts';
import { WIRE_LEN, WIRE_VARINT } from './pb-reader.ts';
import { ProtoWriter } from './pb-writer.ts';
import {
  checkColumns,
  decodeRawPointEntries,
  type PointColumns,
  RAW_POINT_ENTRY_BYTES,
  writeRawPointEntries,
} from './raw-point-entries.ts';
import { countEntries } from './repeated-scan.ts';
import { WireFormatError } from './wire-error.ts';

export interface InsertParams {
  readonly uuid: Uint8Array;
  /** btrdb-python always sends false. */
  readonly sync: boolean;
  /** Points in arrival order (not necessarily sorted). */
  readonly values: PointColumns;
  /** A MergePolicy value (enums.ts); 0 = NEVER. */
  readonly merge_policy: number;
  /** Never sent by btrdb-python. */
  readonly rounding?: RoundSpec | undefined;
}

/**
 * Most points accepted in one InsertParams by default: 20× btrdb-python's batch. It bounds what
 * a hostile message can make the decoder allocate (16 bytes per point).
 */
export const DEFAULT_MAX_INSERT_POINTS = 1_000_000;

export interface InsertDecodeOptions {
  /** Reject messages with more points (WireFormatError). Default DEFAULT_MAX_INSERT_POINTS. */
  readonly maxPoints?: number;
}

export function encodeInsertParams(m: InsertParams): Uint8Array {
  checkColumns(m.values, 'InsertParams.values');
  const head = new ProtoWriter(32);
  if (m.uuid.length > 0) head.fieldBytes(1, m.uuid);
  if (m.sync) {
    head.tag(2, WIRE_VARINT);
    head.uint32(1);
  }
  const tail = new ProtoWriter(16);
  if (m.merge_policy !== 0) {
    if (!Number.isInteger(m.merge_policy) || m.merge_policy < -0x80000000 || m.merge_policy > 0x7fffffff) {
      throw new WireFormatError(`InsertParams.merge_policy: not an int32: ${m.merge_policy}`);
    }
    tail.tag(4, WIRE_VARINT);
    tail.int32(m.merge_policy);
  }
  if (m.rounding !== undefined) {
    const sub = new ProtoWriter(8);
    RoundSpecCodec.write(sub, m.rounding);
    tail.fieldBytes(5, sub.finish());
  }
  const h = head.finish();
  const t = tail.finish();
  const n = m.values.times.length;
  const out = new Uint8Array(h.length + n * RAW_POINT_ENTRY_BYTES + t.length);
  out.set(h, 0);
  const p = writeRawPointEntries(out, h.length, 3, m.values);
  out.set(t, p);
  return out;
}

export function decodeInsertParams(bytes: Uint8Array, options: InsertDecodeOptions = {}): InsertParams {
  const maxPoints = options.maxPoints ?? DEFAULT_MAX_INSERT_POINTS;
  let uuid: Uint8Array = new Uint8Array(0);
  let sync = false;
  let mergePolicy = 0;
  let rounding: RoundSpec | undefined;
  const n = countEntries(bytes, 0, bytes.length, 3, 'InsertParams', (r, t) => {
    switch (t) {
      case (1 << 3) | WIRE_LEN:
        uuid = r.bytesView('InsertParams.uuid');
        return;
      case (2 << 3) | WIRE_VARINT:
        sync = r.bool('InsertParams.sync');
        return;
      case (4 << 3) | WIRE_VARINT:
        mergePolicy = r.int32('InsertParams.merge_policy');
        return;
      case (5 << 3) | WIRE_LEN: {
        const len = r.length('InsertParams.rounding');
        rounding = RoundSpecCodec.read(bytes, r.pos, r.pos + len, rounding);
        r.pos += len;
        return;
      }
      default: {
        const no = t >>> 3;
        if (no >= 1 && no <= 5) throw r.fail(`InsertParams field ${no}: wire type ${t & 7} is wrong for this field`);
        r.skip(t & 7, `InsertParams field ${no}`, no);
      }
    }
  });
  if (n > maxPoints)
    throw new WireFormatError(`InsertParams: ${n} points exceed the limit of ${maxPoints} per message`);
  const values: PointColumns = { times: new BigInt64Array(n), values: new Float64Array(n) };
  if (n > 0) decodeRawPointEntries(bytes, 0, bytes.length, 3, values, 'InsertParams.values');
  const out = { uuid, sync, values, merge_policy: mergePolicy };
  return rounding === undefined ? out : { ...out, rounding };
}

export const InsertParamsCodec: MessageCodec<InsertParams> = {
  name: 'InsertParams',
  encode: encodeInsertParams,
  decode: (bytes) => decodeInsertParams(bytes),
  write(w, m) {
    const bytes = encodeInsertParams(m);
    w.reserve(bytes.length);
    w.buf.set(bytes, w.pos);
    w.pos += bytes.length;
  },
  read(bytes, start, end) {
    return decodeInsertParams(bytes.subarray(start, end));
  },
};

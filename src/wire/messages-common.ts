/**
 * Shared BTrDB v5 message types (proto/btrdb.proto) and their codecs.
 *
 * Representation, for every message of the wire layer:
 * - field names are the proto's, unchanged (`versionMajor`, `merge_policy`, `SQLQueryRow`);
 * - `bytes` → Uint8Array (decoders return views into the received buffer: copy to keep);
 * - every 64-bit integer (times, versions, counts, sizes) → bigint, exact over the full range;
 *   the one exception is `StatPoint.count` (number, as in core's StatPoint; exact up to 2^53);
 * - uint32/int32/enum/double → number; bool → boolean; string → string (valid UTF-8 only);
 * - repeated → readonly arrays; sub-messages → optional properties (absent = not on the wire).
 */
import type { StatPoint } from '../core/stat.ts';
import {
  bool,
  bytes,
  double,
  int64,
  type MessageCodec,
  messageCodec,
  msg,
  repeated,
  repeatedMsg,
  sfixed64,
  string,
  uint32,
  uint64,
} from './message-codec.ts';
import { ProtoReader, WIRE_VARINT } from './pb-reader.ts';
import { ProtoWriter } from './pb-writer.ts';
import { WireFormatError } from './wire-error.ts';

export type { StatPoint };

export interface RawPoint {
  readonly time: bigint;
  readonly value: number;
}
export const RawPointCodec = messageCodec<RawPoint>('RawPoint', { time: sfixed64(1), value: double(2) });

export interface ChangedRange {
  readonly start: bigint;
  readonly end: bigint;
}
export const ChangedRangeCodec = messageCodec<ChangedRange>('ChangedRange', { start: sfixed64(1), end: sfixed64(2) });

/** Declared by the protocol, used by no RPC. */
export interface RawPointVec {
  readonly time: bigint;
  readonly value: readonly number[];
}
export const RawPointVecCodec = messageCodec<RawPointVec>('RawPointVec', {
  time: sfixed64(1),
  value: repeated(double(2)),
});

export interface OptValue {
  readonly value: string;
}
export const OptValueCodec = messageCodec<OptValue>('OptValue', { value: string(1) });

/** A tag or annotation. `val` absent means "no value" (distinct from the empty string). */
export interface KeyOptValue {
  readonly key: string;
  readonly val?: OptValue | undefined;
}
export const KeyOptValueCodec = messageCodec<KeyOptValue>('KeyOptValue', {
  key: string(1),
  val: msg(2, OptValueCodec),
});

/** Declared by the protocol, used by no v5 message. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}
export const KeyValueCodec = messageCodec<KeyValue>('KeyValue', { key: string(1), value: string(2) });

export interface KeyCount {
  readonly key: string;
  readonly count: bigint;
}
export const KeyCountCodec = messageCodec<KeyCount>('KeyCount', { key: string(1), count: uint64(2) });

export interface StreamDescriptor {
  readonly uuid: Uint8Array;
  readonly collection: string;
  readonly tags: readonly KeyOptValue[];
  readonly annotations: readonly KeyOptValue[];
  readonly propertyVersion: bigint;
}
export const StreamDescriptorCodec = messageCodec<StreamDescriptor>('StreamDescriptor', {
  uuid: bytes(1),
  collection: string(2),
  tags: repeatedMsg(3, KeyOptValueCodec),
  annotations: repeatedMsg(4, KeyOptValueCodec),
  propertyVersion: uint64(5),
});

/** Field 100 of some requests; never set by btrdb-python. */
export interface Role {
  readonly name: string;
}
export const RoleCodec = messageCodec<Role>('Role', { name: string(1) });

/**
 * Timestamp rounding: `oneof spec { int32 bits = 2 }`. A oneof member has presence, so
 * `bits: 0` (set, zero) differs from `bits` absent; hand-written because of that.
 */
export interface RoundSpec {
  readonly bits?: number | undefined;
}
export const RoundSpecCodec: MessageCodec<RoundSpec> = {
  name: 'RoundSpec',
  encode(m) {
    const w = new ProtoWriter(8);
    RoundSpecCodec.write(w, m);
    return w.finish();
  },
  decode(input) {
    return RoundSpecCodec.read(input, 0, input.length);
  },
  write(w, m) {
    if (m.bits === undefined) return;
    if (!Number.isInteger(m.bits) || m.bits < -0x80000000 || m.bits > 0x7fffffff) {
      throw new WireFormatError(`RoundSpec.bits: expected a 32-bit signed integer, got ${m.bits}`);
    }
    w.tag(2, WIRE_VARINT);
    w.int32(m.bits);
  },
  read(input, start, end, into) {
    let bits = into?.bits;
    const r = new ProtoReader(input, start, end);
    while (r.pos < end) {
      const t = r.tag('RoundSpec');
      if (t === ((2 << 3) | WIRE_VARINT)) bits = r.int32('RoundSpec.bits (field 2)');
      else if (t >>> 3 === 2) throw r.fail(`RoundSpec.bits (field 2): wire type ${t & 7}, expected 0`);
      else r.skip(t & 7, `RoundSpec field ${t >>> 3}`, t >>> 3);
    }
    return bits === undefined ? {} : { bits };
  },
};

export interface Member {
  readonly hash: number;
  readonly nodename: string;
  readonly up: boolean;
  readonly in: boolean;
  readonly enabled: boolean;
  readonly start: bigint;
  readonly end: bigint;
  readonly weight: bigint;
  readonly readPreference: number;
  readonly httpEndpoints: string;
  readonly grpcEndpoints: string;
}
export const MemberCodec = messageCodec<Member>('Member', {
  hash: uint32(1),
  nodename: string(2),
  up: bool(3),
  in: bool(4),
  enabled: bool(5),
  start: int64(6),
  end: int64(7),
  weight: int64(8),
  readPreference: double(9),
  httpEndpoints: string(10),
  grpcEndpoints: string(11),
});

/** The cluster hash ring; btrdb-python ignores it. */
export interface Mash {
  readonly revision: bigint;
  readonly leader: string;
  readonly leaderRevision: bigint;
  readonly totalWeight: bigint;
  readonly healthy: boolean;
  readonly unmapped: number;
  readonly members: readonly Member[];
}
export const MashCodec = messageCodec<Mash>('Mash', {
  revision: int64(1),
  leader: string(2),
  leaderRevision: int64(3),
  totalWeight: int64(4),
  healthy: bool(5),
  unmapped: double(6),
  members: repeatedMsg(7, MemberCodec),
});

/** In-band result of every call: absent or code 0 = OK, else a BTrDB error code and message. */
export interface Status {
  readonly code: number;
  readonly msg: string;
  readonly mash?: Mash | undefined;
}
export const StatusCodec = messageCodec<Status>('Status', { code: uint32(1), msg: string(2), mash: msg(3, MashCodec) });

export interface ProxyInfo {
  readonly proxyEndpoints: readonly string[];
}
export const ProxyInfoCodec = messageCodec<ProxyInfo>('ProxyInfo', { proxyEndpoints: repeated(string(1)) });

/**
 * A small table-driven protobuf codec for the cold messages (metadata, status, parameters).
 * Each message is described once by a spec object whose type is checked against the message's
 * TypeScript interface (`MessageSpecOf<T>`: every property needs a field of a matching kind), so
 * the interfaces in messages-*.ts and the wire numbering cannot drift apart silently.
 *
 * Encoding follows proto3: fields in field-number order, singular scalars equal to their default
 * (0, 0n, +0.0, false, "", empty bytes) omitted, repeated numeric scalars packed, absent
 * sub-messages omitted. Decoding accepts fields in any order, repeated fields packed or not,
 * duplicates (last one wins for singular fields, sub-messages are merged as protobuf does) and
 * unknown fields (skipped by wire type). A known field with the wrong wire type is an error.
 */
import { ProtoReader, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './pb-reader.ts';
import { ProtoWriter } from './pb-writer.ts';
import { WireFormatError } from './wire-error.ts';

/** Longest `string` field accepted when decoding (bytes fields are bounded only by the message). */
export const MAX_STRING_BYTES = 1 << 20;

/** Encoder/decoder of one message type. `bytes` fields decode to views into the input buffer. */
export interface MessageCodec<T> {
  readonly name: string;
  encode(message: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  /** Append the message's fields (without tag or length) to `w`. */
  write(w: ProtoWriter, message: T): void;
  /** Decode `bytes[start, end)`; `into` is a previous value to merge into (repeated field occurrences). */
  read(bytes: Uint8Array, start: number, end: number, into?: T): T;
}

type NumberKind = 'uint32' | 'int32' | 'enum' | 'double';
type BigKind = 'uint64' | 'int64' | 'sfixed64' | 'fixed64';
export type ScalarKind = 'bytes' | 'string' | 'bool' | NumberKind | BigKind;
type Scalar = Uint8Array | string | boolean | number | bigint;

export interface SingleField<K extends ScalarKind> {
  readonly no: number;
  readonly kind: K;
  readonly repeated: false;
}
export interface RepeatedField<K extends ScalarKind> {
  readonly no: number;
  readonly kind: K;
  readonly repeated: true;
}
export interface MessageField<T> {
  readonly no: number;
  readonly kind: 'message';
  readonly repeated: boolean;
  readonly codec: MessageCodec<T>;
}

type KindFor<V> = [V] extends [Uint8Array]
  ? 'bytes'
  : [V] extends [string]
    ? 'string'
    : [V] extends [boolean]
      ? 'bool'
      : [V] extends [number]
        ? NumberKind
        : [V] extends [bigint]
          ? BigKind
          : never;

type FieldFor<V> = [V] extends [Uint8Array]
  ? SingleField<'bytes'>
  : [V] extends [readonly (infer E)[]]
    ? [E] extends [Scalar]
      ? RepeatedField<KindFor<E>>
      : MessageField<E>
    : [V] extends [Scalar]
      ? SingleField<KindFor<V>>
      : MessageField<V>;

/** The spec of message type T: one field description per property, kinds matching the types. */
export type MessageSpecOf<T> = { readonly [K in keyof T]-?: FieldFor<Exclude<T[K], undefined>> };

// Spec helpers, e.g. `{ uuid: bytes(1), start: sfixed64(2), tags: repeated(msg(3, KeyOptValueCodec)) }`.
const single =
  <K extends ScalarKind>(kind: K) =>
  (no: number): SingleField<K> => ({ no, kind, repeated: false });
export const bytes = single('bytes');
export const string = single('string');
export const bool = single('bool');
export const uint32 = single('uint32');
export const int32 = single('int32');
export const enumField = single('enum');
export const double = single('double');
export const uint64 = single('uint64');
export const int64 = single('int64');
export const sfixed64 = single('sfixed64');
export const fixed64 = single('fixed64');
export const repeated = <K extends ScalarKind>(f: SingleField<K>): RepeatedField<K> => ({ ...f, repeated: true });
export const msg = <T>(no: number, codec: MessageCodec<T>): MessageField<T> => ({
  no,
  kind: 'message',
  repeated: false,
  codec,
});
export const repeatedMsg = <T>(no: number, codec: MessageCodec<T>): MessageField<T> => ({
  no,
  kind: 'message',
  repeated: true,
  codec,
});

interface Field {
  readonly name: string;
  readonly no: number;
  readonly kind: ScalarKind | 'message';
  readonly repeated: boolean;
  readonly codec: MessageCodec<unknown> | undefined;
  readonly wire: number;
}

const wireOf = (kind: ScalarKind | 'message'): number => {
  switch (kind) {
    case 'bytes':
    case 'string':
    case 'message':
      return WIRE_LEN;
    case 'double':
    case 'sfixed64':
    case 'fixed64':
      return WIRE_I64;
    default:
      return WIRE_VARINT;
  }
};

function defaultOf(kind: ScalarKind): Scalar {
  switch (kind) {
    case 'bytes':
      return new Uint8Array(0);
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'uint64':
    case 'int64':
    case 'sfixed64':
    case 'fixed64':
      return 0n;
    default:
      return 0;
  }
}

/** Build the codec of message `name` from its spec. */
export function messageCodec<T extends object>(name: string, spec: MessageSpecOf<T>): MessageCodec<T> {
  const raw = spec as unknown as Record<string, { no: number; kind: ScalarKind | 'message'; repeated: boolean }>;
  const fields: Field[] = Object.entries(raw)
    .map(([fieldName, f]) => ({
      name: fieldName,
      no: f.no,
      kind: f.kind,
      repeated: f.repeated,
      codec: 'codec' in f ? (f.codec as MessageCodec<unknown>) : undefined,
      wire: wireOf(f.kind),
    }))
    .sort((a, b) => a.no - b.no);
  const byNumber = new Map<number, Field>(fields.map((f) => [f.no, f]));

  const codec: MessageCodec<T> = {
    name,
    encode(message) {
      const w = new ProtoWriter();
      codec.write(w, message);
      return w.finish();
    },
    decode(input) {
      return codec.read(input, 0, input.length);
    },
    write(w, message) {
      const m = message as Record<string, unknown>;
      for (const f of fields) writeField(w, f, m[f.name], `${name}.${f.name}`);
    },
    read(input, start, end, into) {
      const out: Record<string, unknown> = into ? (into as Record<string, unknown>) : {};
      if (!into) {
        for (const f of fields) {
          if (f.repeated) out[f.name] = [];
          else if (f.kind !== 'message') out[f.name] = defaultOf(f.kind);
        }
      }
      const r = new ProtoReader(input, start, end);
      while (r.pos < end) {
        const t = r.tag(name);
        const f = byNumber.get(t >>> 3);
        const wire = t & 7;
        if (f === undefined) {
          r.skip(wire, `${name} field ${t >>> 3}`, t >>> 3);
          continue;
        }
        const what = `${name}.${f.name} (field ${f.no})`;
        if (f.kind === 'message') {
          if (wire !== WIRE_LEN) throw r.fail(`${what}: wire type ${wire}, expected ${WIRE_LEN}`);
          const n = r.length(what);
          const sub = f.codec!;
          if (f.repeated) (out[f.name] as unknown[]).push(sub.read(input, r.pos, r.pos + n));
          else out[f.name] = sub.read(input, r.pos, r.pos + n, out[f.name]);
          r.pos += n;
        } else if (f.repeated && wire === WIRE_LEN && f.wire !== WIRE_LEN) {
          const n = r.length(what);
          const list = out[f.name] as Scalar[];
          const packed = new ProtoReader(input, r.pos, r.pos + n);
          while (packed.pos < packed.end) list.push(readScalar(packed, f.kind, what));
          r.pos += n;
        } else {
          if (wire !== f.wire) throw r.fail(`${what}: wire type ${wire}, expected ${f.wire}`);
          const v = readScalar(r, f.kind, what);
          if (f.repeated) (out[f.name] as Scalar[]).push(v);
          else out[f.name] = v;
        }
      }
      if (r.pos !== end) throw r.fail(`${name}: field runs past the end of the message`);
      return out as unknown as T;
    },
  };
  return codec;
}

function readScalar(r: ProtoReader, kind: ScalarKind, what: string): Scalar {
  switch (kind) {
    case 'bytes':
      return r.bytesView(what);
    case 'string':
      return r.string(what, MAX_STRING_BYTES);
    case 'bool':
      return r.bool(what);
    case 'uint32':
      return r.uint32(what);
    case 'int32':
    case 'enum':
      return r.int32(what);
    case 'double':
      return r.double(what);
    case 'uint64':
      return r.uint64(what);
    case 'int64':
      return r.int64(what);
    case 'sfixed64':
      return r.sfixed64(what);
    case 'fixed64':
      return r.ufixed64(what);
  }
}

function writeField(w: ProtoWriter, f: Field, v: unknown, what: string): void {
  if (f.kind === 'message') {
    if (v === undefined || v === null) return;
    if (f.repeated) {
      if (!Array.isArray(v)) throw new WireFormatError(`${what}: expected an array`);
      for (const item of v) writeMessage(w, f, item, what);
    } else writeMessage(w, f, v, what);
    return;
  }
  if (f.repeated) {
    if (!Array.isArray(v)) throw new WireFormatError(`${what}: expected an array`);
    if (v.length === 0) return;
    if (f.wire === WIRE_LEN) {
      for (const item of v) {
        w.tag(f.no, WIRE_LEN);
        writeScalar(w, f.kind, item, what);
      }
      return;
    }
    const packed = new ProtoWriter();
    for (const item of v) writeScalar(packed, f.kind, item, what);
    w.fieldBytes(f.no, packed.finish());
    return;
  }
  if (isDefault(f.kind, v)) return;
  w.tag(f.no, f.wire);
  writeScalar(w, f.kind, v, what);
}

function writeMessage(w: ProtoWriter, f: Field, v: unknown, what: string): void {
  if (typeof v !== 'object' || v === null) throw new WireFormatError(`${what}: expected a message object`);
  const sub = new ProtoWriter();
  f.codec!.write(sub, v);
  w.fieldBytes(f.no, sub.finish());
}

function isDefault(kind: ScalarKind, v: unknown): boolean {
  switch (kind) {
    case 'bytes':
      return v instanceof Uint8Array && v.length === 0;
    case 'string':
      return v === '';
    case 'bool':
      return v === false;
    case 'double':
      return Object.is(v, 0); // -0.0 is written, as protobuf's own encoders do
    case 'uint64':
    case 'int64':
    case 'sfixed64':
    case 'fixed64':
      return v === 0n;
    default:
      return v === 0;
  }
}

const U32_MAX = 0xffffffff;
const I64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;

function writeScalar(w: ProtoWriter, kind: ScalarKind, v: unknown, what: string): void {
  switch (kind) {
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw new WireFormatError(`${what}: expected a Uint8Array`);
      w.bytes(v);
      return;
    case 'string':
      if (typeof v !== 'string') throw new WireFormatError(`${what}: expected a string`);
      w.string(v);
      return;
    case 'bool':
      if (typeof v !== 'boolean') throw new WireFormatError(`${what}: expected a boolean`);
      w.uint32(v ? 1 : 0);
      return;
    case 'uint32':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > U32_MAX) {
        throw new WireFormatError(`${what}: expected an integer in [0, 2^32), got ${String(v)}`);
      }
      w.uint32(v);
      return;
    case 'int32':
    case 'enum':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
        throw new WireFormatError(`${what}: expected a 32-bit signed integer, got ${String(v)}`);
      }
      w.int32(v);
      return;
    case 'double':
      if (typeof v !== 'number') throw new WireFormatError(`${what}: expected a number`);
      w.double(v);
      return;
    case 'uint64':
    case 'fixed64':
      if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
        throw new WireFormatError(`${what}: expected a bigint in [0, 2^64), got ${String(v)}`);
      }
      if (kind === 'uint64') w.bigVarint(v);
      else w.bigFixed64(v);
      return;
    case 'int64':
    case 'sfixed64':
      if (typeof v !== 'bigint' || v < I64_MIN || v > -I64_MIN - 1n) {
        throw new WireFormatError(`${what}: expected a bigint in [-2^63, 2^63), got ${String(v)}`);
      }
      if (kind === 'int64') w.bigVarint(v);
      else w.bigFixed64(v);
      return;
  }
}

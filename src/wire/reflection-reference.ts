/**
 * An independent reference codec: protobufjs reflection over proto/btrdb.proto (field names kept
 * as in the proto). Tests cross-check every hand-written and table-driven codec against it, and
 * the benchmark measures it as the "generic decoder" baseline. Not used on any serving path.
 *
 * The canonical form used for comparisons is plain data: 64-bit integers as decimal strings,
 * bytes as hex, absent sub-messages omitted, point columns as lists of {time, value}.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

let root: protobuf.Root | undefined;

/** Locate proto/btrdb.proto from src/wire or from a build under dist/. */
export function protoPath(): string {
  for (const rel of ['../../proto/btrdb.proto', '../../../proto/btrdb.proto']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('proto/btrdb.proto not found next to the wire layer');
}

export function reflectionRoot(): protobuf.Root {
  if (root === undefined) {
    root = new protobuf.Root().loadSync(protoPath(), { keepCase: true });
    root.resolveAll();
  }
  return root;
}

export function reflectionType(name: string): protobuf.Type {
  return reflectionRoot().lookupType(`v5api.${name}`);
}

export type Canonical = null | boolean | number | string | readonly Canonical[] | { readonly [k: string]: Canonical };

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

const hex = (v: unknown): string => {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (Array.isArray(v)) return Buffer.from(v as number[]).toString('hex');
  throw new TypeError(`expected bytes, got ${typeof v}`);
};

/** Point columns ({times, values} typed arrays) as the list of RawPoint objects they stand for. */
function pointsOf(v: unknown): unknown[] | undefined {
  if (isRecord(v) && v.times instanceof BigInt64Array && v.values instanceof Float64Array) {
    const out: unknown[] = [];
    for (let i = 0; i < v.times.length; i++) out.push({ time: v.times[i]!, value: v.values[i]! });
    return out;
  }
  return undefined;
}

function scalarToCanonical(field: protobuf.Field, v: unknown): Canonical {
  if (field.type === 'bytes') return hex(v);
  if (LONG_TYPES.has(field.type)) {
    if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string') return String(v);
    if (isRecord(v) && typeof v.toString === 'function') return v.toString(); // Long
    throw new TypeError(`${field.fullName}: expected a 64-bit integer`);
  }
  if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  throw new TypeError(`${field.fullName}: unexpected ${typeof v}`);
}

/**
 * Canonical form of a message value, ours (bigint, Uint8Array, point columns) or a protobufjs
 * decoded message (Long, Buffer) alike. Unset oneof members and absent sub-messages are omitted.
 */
export function toCanonical(type: protobuf.Type, message: unknown): Canonical {
  if (!isRecord(message)) throw new TypeError(`${type.name}: expected an object`);
  const out: Record<string, Canonical> = {};
  for (const field of type.fieldsArray) {
    let v = message[field.name];
    if (field.repeated) {
      v = pointsOf(v) ?? v ?? [];
      if (!Array.isArray(v)) throw new TypeError(`${field.fullName}: expected an array`);
      out[field.name] = v.map((item: unknown) =>
        field.resolvedType instanceof protobuf.Type
          ? toCanonical(field.resolvedType, item)
          : scalarToCanonical(field, item),
      );
      continue;
    }
    // A oneof member is set only when it is an own property (protobufjs keeps defaults on the prototype).
    if (v === undefined || v === null || (field.partOf && !Object.hasOwn(message, field.name))) continue;
    out[field.name] =
      field.resolvedType instanceof protobuf.Type ? toCanonical(field.resolvedType, v) : scalarToCanonical(field, v);
  }
  return out;
}

/** Our message value as protobufjs `fromObject` input (64-bit integers as decimal strings). */
function toReflectionInput(type: protobuf.Type, message: unknown): Record<string, unknown> {
  if (!isRecord(message)) throw new TypeError(`${type.name}: expected an object`);
  const out: Record<string, unknown> = {};
  const conv = (field: protobuf.Field, v: unknown): unknown => {
    if (field.resolvedType instanceof protobuf.Type) return toReflectionInput(field.resolvedType, v);
    if (LONG_TYPES.has(field.type)) return String(v);
    return v;
  };
  for (const field of type.fieldsArray) {
    let v = message[field.name];
    if (v === undefined || v === null) continue;
    if (field.repeated) {
      v = pointsOf(v) ?? v;
      if (!Array.isArray(v)) throw new TypeError(`${field.fullName}: expected an array`);
      out[field.name] = v.map((item: unknown) => conv(field, item));
    } else out[field.name] = conv(field, v);
  }
  return out;
}

/** Encode our message value with protobufjs reflection. */
export function reflectionEncode(name: string, message: unknown): Uint8Array {
  const type = reflectionType(name);
  return type.encode(type.fromObject(toReflectionInput(type, message))).finish();
}

/** Decode with protobufjs reflection, straight to the canonical form. */
export function reflectionDecodeCanonical(name: string, bytes: Uint8Array): Canonical {
  const type = reflectionType(name);
  return toCanonical(type, type.decode(bytes));
}

/** Canonical form of our message value of type `name`. */
export function canonicalOf(name: string, message: unknown): Canonical {
  return toCanonical(reflectionType(name), message);
}

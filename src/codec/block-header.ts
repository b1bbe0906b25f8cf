/**
 * The first two bytes of every block the codec writes: a magic byte naming the block kind and a
 * format version, so a reader can tell blocks apart and a later build can keep reading old ones.
 * A decoder rejects any version it does not know (DbError 500) rather than guess.
 */
import type { ByteReader } from './byte-reader.ts';

/** 'L': a leaf block (docs/format/leaf-block.md). */
export const LEAF_MAGIC = 0x4c;
/** 'C': a core node (docs/format/core-node.md). */
export const CORE_MAGIC = 0x43;
/** The only format version written and read so far. */
export const FORMAT_VERSION = 1;

/** Check magic and version at the start of `r`; returns the version. */
export function readBlockHeader(r: ByteReader, magic: number): number {
  const m = r.u8('magic');
  if (m !== magic) {
    throw r.fail(`bad magic 0x${m.toString(16).padStart(2, '0')} (expected 0x${magic.toString(16)})`, 0);
  }
  const version = r.u8('format version');
  if (version !== FORMAT_VERSION) throw r.fail(`unsupported format version ${version}`, 1);
  return version;
}

/** Magic byte → block kind, for tools that see an unknown block. */
export function blockKind(bytes: Uint8Array): 'leaf' | 'core' | 'unknown' {
  if (bytes[0] === LEAF_MAGIC) return 'leaf';
  if (bytes[0] === CORE_MAGIC) return 'core';
  return 'unknown';
}

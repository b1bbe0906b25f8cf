/**
 * Two-pass decoding of a message dominated by one repeated sub-message field (the point lists).
 * Pass 1 walks the top-level fields once: it validates their framing, counts the entries of the
 * repeated field and hands every other field to the caller. The caller then allocates its typed
 * arrays at exactly that size (never from a count claimed by the input) and pass 2 visits the
 * entries. Entries are at least 2 bytes, so the count is bounded by the input length.
 */
import { ProtoReader, WIRE_LEN } from './pb-reader.ts';

/**
 * Count the entries of LEN field `no` in `bytes[start, end)`; every other field is passed to
 * `other(r, tag)`, which must consume its value (or call `r.skip`). Errors name `name`.
 */
export function countEntries(
  bytes: Uint8Array,
  start: number,
  end: number,
  no: number,
  name: string,
  other: (r: ProtoReader, tag: number) => void,
): number {
  const r = new ProtoReader(bytes, start, end);
  const entryTag = (no << 3) | WIRE_LEN;
  let count = 0;
  let p = start;
  while (p < end) {
    // Fast path: a one-byte tag and a one-byte length (every entry shorter than 128 bytes).
    if (bytes[p] === entryTag && p + 1 < end) {
      const len = bytes[p + 1]!;
      if (len < 0x80) {
        if (p + 2 + len > end) {
          throw r.fail(`${name} field ${no}: length ${len} runs past the end (${end - p - 2} bytes left)`, p + 1);
        }
        p += 2 + len;
        count++;
        continue;
      }
    }
    r.pos = p;
    const t = r.tag(name);
    if (t === entryTag) {
      const len = r.length(`${name} field ${no}`);
      r.pos += len;
      count++;
    } else if (t >>> 3 === no) {
      throw r.fail(`${name} field ${no}: wire type ${t & 7}, expected ${WIRE_LEN}`);
    } else {
      other(r, t);
    }
    p = r.pos;
  }
  if (p !== end) throw r.fail(`${name}: last field runs past the end`);
  return count;
}

/**
 * Call `entry(pos, len, index)` for each entry of LEN field `no`, in order. Only valid after
 * `countEntries` accepted the same range (framing is not re-checked).
 */
export function forEachEntry(
  bytes: Uint8Array,
  start: number,
  end: number,
  no: number,
  entry: (pos: number, len: number, index: number) => void,
): void {
  const r = new ProtoReader(bytes, start, end);
  const entryTag = (no << 3) | WIRE_LEN;
  let index = 0;
  let p = start;
  while (p < end) {
    if (bytes[p] === entryTag) {
      const len = bytes[p + 1]!;
      if (len < 0x80) {
        entry(p + 2, len, index++);
        p += 2 + len;
        continue;
      }
    }
    r.pos = p;
    const t = r.tag('');
    if (t === entryTag) {
      const len = r.length('');
      entry(r.pos, len, index++);
      r.pos += len;
    } else {
      r.skip(t & 7, '', t >>> 3);
    }
    p = r.pos;
  }
}

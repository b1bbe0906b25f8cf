/**
 * A structural check of untrusted Arrow IPC bytes (stream or file format), run before the bytes
 * reach apache-arrow. apache-arrow trusts the FlatBuffers metadata: a vector length of 2^32 − 1 in
 * a record batch's `nodes`, a schema's `fields` or any `custom_metadata` makes it loop that many
 * times building objects — a 200-byte request body runs the process out of memory (found by
 * fuzzing, src/wire/arrow-read.fuzz.test.ts). This walk bounds-checks every table, vector and
 * string apache-arrow will read (vector lengths against the bytes that are actually there, field
 * nesting ≤ 64, field visits ≤ {@link MAX_FIELD_VISITS} so offsets shared between fields cannot
 * blow up), and every message's metadata and body length against the input size.
 *
 * It validates framing only; types, row counts and buffers are the reader's business (and
 * apache-arrow's, whose exceptions callers already turn into errors). Layouts: Arrow's
 * format/Message.fbs, Schema.fbs and File.fbs.
 */

/** Deepest field nesting accepted (struct of list of …). */
export const MAX_FIELD_DEPTH = 64;
/** Most Field tables visited in one input (the schema, once per message that carries it). */
export const MAX_FIELD_VISITS = 1 << 17;

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

// Message header union types.
const HEADER_SCHEMA = 1;
const HEADER_DICTIONARY_BATCH = 2;
const HEADER_RECORD_BATCH = 3;

class Problem extends Error {}

/** A bounds-checked view of one FlatBuffers buffer (a message's metadata or the file footer). */
class Flat {
  private readonly dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(msg: string): never {
    throw new Problem(`${this.what}: ${msg}`);
  }

  private u32(at: number): number {
    if (at < 0 || at + 4 > this.bytes.length) this.fail(`offset ${at} outside ${this.bytes.length} bytes`);
    return this.dv.getUint32(at, true);
  }

  /** The table the root offset points at. */
  root(): Table {
    return this.table(this.u32(0), 'root');
  }

  /** The table at `at`, its vtable checked. */
  table(at: number, name: string): Table {
    const len = this.bytes.length;
    if (at < 0 || at + 4 > len) this.fail(`${name} table at ${at} outside ${len} bytes`);
    const vt = at - this.dv.getInt32(at, true);
    if (vt < 0 || vt + 4 > len) this.fail(`${name} vtable at ${vt} outside ${len} bytes`);
    const vtSize = this.dv.getUint16(vt, true);
    const tSize = this.dv.getUint16(vt + 2, true);
    if (vtSize < 4 || vtSize % 2 !== 0 || vt + vtSize > len)
      this.fail(`${name} vtable of ${vtSize} bytes is malformed`);
    if (tSize < 4 || at + tSize > len) this.fail(`${name} table of ${tSize} bytes runs past the end`);
    return new Table(this, at, vt, vtSize, tSize, name);
  }

  /** Where the field's target starts (an offset field: table, vector or string). */
  target(t: Table, field: number): number | undefined {
    const o = t.slot(field, 4);
    if (o === undefined) return undefined;
    return t.at + o + this.u32(t.at + o);
  }

  /** The length of the vector in `field` (0 when absent), checked to fit with `elemSize`-byte elements. */
  vector(t: Table, field: number, elemSize: number, name: string): { at: number; length: number } {
    const at = this.target(t, field);
    if (at === undefined) return { at: 0, length: 0 };
    const length = this.u32(at);
    if (at + 4 + length * elemSize > this.bytes.length) {
      this.fail(`${t.name}.${name}: vector of ${length} × ${elemSize} bytes runs past the end (${this.bytes.length})`);
    }
    return { at: at + 4, length };
  }

  /** A vector of tables: each element checked and passed to `each`. */
  tables(t: Table, field: number, name: string, each: (child: Table) => void): void {
    const v = this.vector(t, field, 4, name);
    for (let i = 0; i < v.length; i++) {
      const p = v.at + 4 * i;
      each(this.table(p + this.u32(p), `${t.name}.${name}[${i}]`));
    }
  }

  string(t: Table, field: number, name: string): void {
    this.vector(t, field, 1, name);
  }

  /** An optional sub-table. */
  child(t: Table, field: number, name: string): Table | undefined {
    const at = this.target(t, field);
    return at === undefined ? undefined : this.table(at, `${t.name}.${name}`);
  }

  /** A scalar int64 field as a number (≥ 2^53 and negative values are reported by callers). */
  int64(t: Table, field: number): number {
    const o = t.slot(field, 8);
    if (o === undefined) return 0;
    return Number(this.dv.getBigInt64(t.at + o, true));
  }

  uint8(t: Table, field: number): number {
    const o = t.slot(field, 1);
    return o === undefined ? 0 : this.bytes[t.at + o]!;
  }
}

class Table {
  constructor(
    readonly flat: Flat,
    readonly at: number,
    private readonly vt: number,
    private readonly vtSize: number,
    private readonly tSize: number,
    readonly name: string,
  ) {}

  /** Offset of `field` within the table (undefined when absent), checked to hold `size` bytes. */
  slot(field: number, size: number): number | undefined {
    const entry = 4 + 2 * field;
    if (entry + 2 > this.vtSize) return undefined;
    const bytes = this.flat.bytes;
    const o = bytes[this.vt + entry]! | (bytes[this.vt + entry + 1]! << 8);
    if (o === 0) return undefined;
    if (o + size > this.tSize)
      throw new Problem(`${this.flat.what}: ${this.name} field ${field} lies outside its table`);
    return o;
  }
}

/** Walk state shared by every message of one input. */
class Walk {
  visits = 0;

  keyValues(f: Flat, t: Table, field: number): void {
    f.tables(t, field, 'custom_metadata', (kv) => {
      f.string(kv, 0, 'key');
      f.string(kv, 1, 'value');
    });
  }

  field(f: Flat, t: Table, depth: number): void {
    if (depth > MAX_FIELD_DEPTH) throw new Problem(`${f.what}: fields nested deeper than ${MAX_FIELD_DEPTH}`);
    if (++this.visits > MAX_FIELD_VISITS) throw new Problem(`${f.what}: more than ${MAX_FIELD_VISITS} fields`);
    f.string(t, 0, 'name');
    f.child(t, 3, 'type');
    const dictionary = f.child(t, 4, 'dictionary');
    if (dictionary !== undefined) f.child(dictionary, 1, 'indexType');
    f.tables(t, 5, 'children', (c) => this.field(f, c, depth + 1));
    this.keyValues(f, t, 6);
  }

  schema(f: Flat, t: Table): void {
    f.tables(t, 1, 'fields', (c) => this.field(f, c, 1));
    this.keyValues(f, t, 2);
    f.vector(t, 3, 8, 'features');
  }

  recordBatch(f: Flat, t: Table): void {
    if (f.int64(t, 0) < 0) throw new Problem(`${f.what}: negative row count`);
    f.vector(t, 1, 16, 'nodes');
    f.vector(t, 2, 16, 'buffers');
    f.child(t, 3, 'compression');
    f.vector(t, 4, 8, 'variadicBufferCounts');
  }

  /** One message's metadata; returns its header type and body length. */
  message(metadata: Uint8Array, what: string): { type: number; body: number } {
    const f = new Flat(metadata, what);
    const m = f.root();
    const type = f.uint8(m, 1);
    const header = f.child(m, 2, 'header');
    if (header !== undefined) {
      if (type === HEADER_SCHEMA) this.schema(f, header);
      else if (type === HEADER_RECORD_BATCH) this.recordBatch(f, header);
      else if (type === HEADER_DICTIONARY_BATCH) {
        const data = f.child(header, 1, 'data');
        if (data !== undefined) this.recordBatch(f, data);
      }
    }
    this.keyValues(f, m, 4);
    const body = f.int64(m, 3);
    if (body < 0) throw new Problem(`${what}: negative body length ${body}`);
    return { type, body };
  }
}

const i32 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);

/**
 * The messages of an IPC stream in `bytes[start, end)`: returns where they end (after the
 * end-of-stream marker, or at `end`).
 */
function checkStream(bytes: Uint8Array, start: number, end: number, walk: Walk, only?: number): void {
  let pos = start;
  for (let k = 0; pos < end; k++) {
    const what = `message ${k} at byte ${pos}`;
    if (end - pos < 4) throw new Problem(`${what}: truncated length`);
    let len = i32(bytes, pos);
    pos += 4;
    if (len === -1) {
      if (end - pos < 4) throw new Problem(`${what}: truncated length`);
      len = i32(bytes, pos);
      pos += 4;
    }
    if (len === 0) return; // end of stream
    if (len < 0 || len > end - pos) throw new Problem(`${what}: metadata of ${len} bytes, ${end - pos} left`);
    const { type, body } = walk.message(bytes.subarray(pos, pos + len), what);
    // apache-arrow's file reader loops forever on a block whose message is of another type.
    if (only !== undefined && type !== only) throw new Problem(`${what}: header type ${type}, expected ${only}`);
    pos += len;
    if (body > end - pos) throw new Problem(`${what}: body of ${body} bytes, ${end - pos} left`);
    pos += body;
  }
}

function checkFile(bytes: Uint8Array, walk: Walk): void {
  const n = bytes.length;
  if (n < 8 + 4 + 6 || !MAGIC.every((c, i) => bytes[n - 6 + i] === c))
    throw new Problem('file without its closing magic');
  const footerLength = i32(bytes, n - 10);
  const footerEnd = n - 10;
  if (footerLength <= 0 || footerLength > footerEnd - 8) throw new Problem(`footer of ${footerLength} bytes`);
  const footerStart = footerEnd - footerLength;
  const f = new Flat(bytes.subarray(footerStart, footerEnd), 'footer');
  const footer = f.root();
  const schema = f.child(footer, 1, 'schema');
  if (schema !== undefined) walk.schema(f, schema);
  walk.keyValues(f, footer, 4);
  for (const [field, name, type] of [
    [2, 'dictionaries', HEADER_DICTIONARY_BATCH],
    [3, 'recordBatches', HEADER_RECORD_BATCH],
  ] as const) {
    const v = f.vector(footer, field, 24, name);
    const dv = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
    for (let i = 0; i < v.length; i++) {
      const offset = Number(dv.getBigInt64(v.at + 24 * i, true));
      const metaLength = dv.getInt32(v.at + 24 * i + 8, true);
      const bodyLength = Number(dv.getBigInt64(v.at + 24 * i + 16, true));
      const what = `footer ${name}[${i}]`;
      if (offset < 8 || metaLength <= 0 || bodyLength < 0 || offset + metaLength + bodyLength > footerStart) {
        throw new Problem(`${what}: block [${offset}, +${metaLength}, +${bodyLength}) outside the file`);
      }
      checkStream(bytes, offset, offset + metaLength + bodyLength, walk, type);
    }
  }
}

/**
 * Why `bytes` cannot safely be given to apache-arrow, or undefined when its framing is sound.
 * Linear in the input size (plus at most {@link MAX_FIELD_VISITS} field visits).
 */
export function arrowIpcProblem(bytes: Uint8Array): string | undefined {
  const walk = new Walk();
  try {
    if (bytes.length >= 6 && MAGIC.every((c, i) => bytes[i] === c)) checkFile(bytes, walk);
    else checkStream(bytes, 0, bytes.length, walk);
  } catch (e) {
    if (e instanceof Problem) return e.message;
    throw e;
  }
  return undefined;
}

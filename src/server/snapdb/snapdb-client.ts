/**
 * A small SNAPdb client written from docs/protocols/snapdb.md, independent of the server code
 * paths it exercises except the shared byte primitives and pair codec (themselves tested against
 * hand-made bytes). Used by the tests and the benchmark; not a public API.
 */
import net from 'node:net';
import { type EncodingKind, emptyPair, type HistorianPair, PairDecoder, PairEncoder } from './pair-codec.ts';
import {
  AUTH_NONE,
  Cmd,
  DATABASE_INFO_VERSION,
  ENCODING_COMBINED,
  Guid,
  HANDSHAKE_MAGIC,
  READER_OPTIONS_VERSION,
  Resp,
} from './protocol.ts';
import { Underflow, WireReader, WireWriter } from './wire-io.ts';

export class SnapdbClientError extends Error {
  constructor(
    message: string,
    readonly response: number,
  ) {
    super(message);
  }
  override get name(): string {
    return 'SnapdbClientError';
  }
}

export type SeekSpec =
  | { readonly first: bigint; readonly last: bigint }
  | {
      readonly first: bigint;
      readonly last: bigint;
      readonly main: bigint;
      readonly sub: bigint;
      readonly tolerance: bigint;
    };

export interface ReadSpec {
  readonly seek?: SeekSpec;
  readonly ids?: readonly bigint[];
  readonly maxReturned?: bigint;
}

export interface InstanceInfo {
  readonly name: string;
  readonly keyType: string;
  readonly valueType: string;
  readonly encodings: readonly string[];
}

/** A byte stream from a socket with "parse, and wait for more when incomplete". */
export class SocketInput {
  private readonly r = new WireReader(Buffer.alloc(0));
  private chunks: Buffer[] = [];
  private wake: (() => void) | null = null;
  private ended = false;

  constructor(socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.wake?.();
    });
    const end = () => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  /** Parse with `fn`, waiting for bytes as needed; throws when the stream ends first. */
  async read<T>(fn: (r: WireReader) => T): Promise<T> {
    for (;;) {
      const mark = this.r.pos;
      try {
        return fn(this.r);
      } catch (e) {
        if (!(e instanceof Underflow)) throw e;
        this.r.pos = mark;
      }
      while (this.chunks.length === 0) {
        if (this.ended) throw new SnapdbClientError('connection closed by the server', -1);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
      }
      this.r.buf = Buffer.concat([this.r.buf.subarray(this.r.pos), ...this.chunks]);
      this.r.pos = 0;
      this.chunks = [];
    }
  }

  /** Whether the server closed the connection (after draining what it sent). */
  async closed(): Promise<boolean> {
    try {
      await this.read((r) => r.u8());
      return false;
    } catch (e) {
      if (e instanceof SnapdbClientError) return true;
      throw e;
    }
  }
}

export class SnapdbClient {
  readonly input: SocketInput;
  instances: InstanceInfo[] = [];
  private encoding: EncodingKind = 'fixed';

  private constructor(readonly socket: net.Socket) {
    this.input = new SocketInput(socket);
  }

  /** Open a TCP connection without any protocol exchange (for malformed-handshake tests). */
  static async raw(host: string, port: number): Promise<SnapdbClient> {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new SnapdbClient(socket);
  }

  /** Connect, handshake with authentication "none", and list the instances. */
  static async connect(host: string, port: number): Promise<SnapdbClient> {
    const c = await SnapdbClient.raw(host, port);
    c.send(new WireWriter().i64(HANDSHAKE_MAGIC).bool(false));
    const known = await c.input.read((r) => ({ code: r.u8(), tls: r.bool() }));
    if (known.code !== Resp.knownProtocol) throw new SnapdbClientError(`handshake: response ${known.code}`, known.code);
    if (known.tls) throw new SnapdbClientError('server wants TLS', known.code);
    c.send(new WireWriter().u8(AUTH_NONE));
    const auth = await c.input.read((r) => ({ ok: r.bool(), ticket: r.bool(), root: r.u8() }));
    if (!auth.ok || auth.ticket) throw new SnapdbClientError('authentication failed', -1);
    if (auth.root !== Resp.connectedToRoot) throw new SnapdbClientError(`not at root: ${auth.root}`, auth.root);
    await c.listInstances();
    return c;
  }

  send(w: WireWriter): void {
    this.socket.write(w.take());
  }

  /** The response byte; UnhandledException (0) becomes an error carrying the server's message. */
  async response(): Promise<number> {
    const code = await this.input.read((r) => r.u8());
    if (code === Resp.unhandledException) {
      const msg = await this.input.read((r) => r.string());
      throw new SnapdbClientError(`server exception: ${msg}`, code);
    }
    return code;
  }

  private async expect(want: number): Promise<void> {
    const got = await this.response();
    if (got !== want) throw new SnapdbClientError(`expected response ${want}, got ${got}`, got);
  }

  async listInstances(): Promise<InstanceInfo[]> {
    this.send(new WireWriter().u8(Cmd.getAllDatabases));
    await this.expect(Resp.listOfDatabases);
    this.instances = await this.input.read((r) => {
      const n = r.i32();
      const out: InstanceInfo[] = [];
      for (let i = 0; i < n; i++) {
        const version = r.u8();
        if (version !== DATABASE_INFO_VERSION) throw new SnapdbClientError(`database info version ${version}`, -1);
        const name = r.string();
        const keyType = r.guid();
        const valueType = r.guid();
        const m = r.i32();
        const encodings: string[] = [];
        for (let j = 0; j < m; j++) {
          const kind = r.u8();
          encodings.push(kind === ENCODING_COMBINED ? r.guid() : `${r.guid()}+${r.guid()}`);
        }
        out.push({ name, keyType, valueType, encodings });
      }
      return out;
    });
    return this.instances;
  }

  /** ConnectToDatabase + SetEncodingMethod. */
  async open(name: string, encoding: EncodingKind = 'historian'): Promise<void> {
    this.send(
      new WireWriter().u8(Cmd.connectToDatabase).string(name).guid(Guid.historianKey).guid(Guid.historianValue),
    );
    await this.expect(Resp.successfullyConnectedToDatabase);
    const guid = encoding === 'historian' ? Guid.historianStreamEncoding : Guid.fixedSizeEncoding;
    this.send(new WireWriter().u8(Cmd.setEncodingMethod).u8(ENCODING_COMBINED).guid(guid));
    await this.expect(Resp.encodingMethodAccepted);
    this.encoding = encoding;
  }

  /** One write stream (no reply on the wire). */
  write(pairs: Iterable<HistorianPair>): void {
    const enc = new PairEncoder(this.encoding);
    const w = new WireWriter(1 << 16);
    w.u8(Cmd.write);
    for (const p of pairs) {
      enc.encode(w, p);
      if (w.length > 1 << 20) this.send(w);
    }
    enc.end(w);
    this.send(w);
  }

  /** Send a read request (filters as the Python client encodes them). */
  sendRead(spec: ReadSpec): void {
    const w = new WireWriter().u8(Cmd.read);
    const seek = spec.seek;
    if (seek === undefined) w.bool(false);
    else {
      w.bool(true).guid(Guid.timestampSeekFilter);
      if ('main' in seek) w.u8(2).u64(seek.first).u64(seek.last).u64(seek.main).u64(seek.sub).u64(seek.tolerance);
      else w.u8(1).u64(seek.first).u64(seek.last);
    }
    if (spec.ids === undefined) w.bool(false);
    else {
      const max = spec.ids.reduce((a, b) => (b > a ? b : a), 0n);
      const small = max < 1n << 32n;
      w.bool(true)
        .guid(Guid.pointIdMatchFilter)
        .u8(small ? 1 : 2)
        .u64(max)
        .i32(spec.ids.length);
      for (const id of spec.ids) small ? w.u32(Number(id)) : w.u64(id);
    }
    if (spec.maxReturned === undefined) w.bool(false);
    else w.bool(true).u8(READER_OPTIONS_VERSION).u64(0n).u64(spec.maxReturned).u64(0n).u64(0n);
    this.send(w);
  }

  /** Read and collect every pair. */
  async read(spec: ReadSpec = {}): Promise<HistorianPair[]> {
    const out: HistorianPair[] = [];
    await this.readEach(spec, (p) => out.push({ ...p }));
    return out;
  }

  /** Read, calling `each` per pair (the object is reused); returns the count. */
  async readEach(spec: ReadSpec, each: (p: HistorianPair) => void): Promise<number> {
    this.sendRead(spec);
    const code = await this.response();
    if (code === Resp.errorWhileReading) {
      const msg = await this.input.read((r) => r.string());
      throw new SnapdbClientError(`error while reading: ${msg}`, code);
    }
    if (code !== Resp.serializingPoints) throw new SnapdbClientError(`read refused: response ${code}`, code);
    const dec = new PairDecoder(this.encoding);
    const p = emptyPair();
    let n = 0;
    for (;;) {
      const batch = await this.input.read((r) => {
        const got: HistorianPair[] = [];
        // Decode as many whole pairs as have arrived; the last incomplete one is re-read later.
        for (;;) {
          const mark = r.pos;
          try {
            if (!dec.decode(r, p)) return { got, end: true };
          } catch (e) {
            if (e instanceof Underflow && got.length > 0) {
              r.pos = mark;
              return { got, end: false };
            }
            throw e;
          }
          got.push({ ...p });
        }
      });
      for (const q of batch.got) {
        each(q);
        n++;
      }
      if (batch.end) break;
    }
    const tail = await this.response();
    if (tail === Resp.errorWhileReading) {
      const msg = await this.input.read((r) => r.string());
      throw new SnapdbClientError(`error while reading: ${msg}`, tail);
    }
    if (tail !== Resp.readComplete) throw new SnapdbClientError(`read ended with response ${tail}`, tail);
    return n;
  }

  async closeInstance(): Promise<void> {
    this.send(new WireWriter().u8(Cmd.disconnectDatabase));
    await this.expect(Resp.databaseDisconnected);
  }

  /** Disconnect at root level and wait for the good-bye. */
  async disconnect(): Promise<string> {
    this.send(new WireWriter().u8(Cmd.disconnect));
    await this.expect(Resp.goodBye);
    const msg = await this.input.read((r) => r.string());
    this.socket.end();
    return msg;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * A PMU simulator for the live ingest tests: a TCP server that answers C37.118 commands like a
 * PMU ("send CFG-2" → the CFG-2, "turn on" → data frames at the configured rate, "turn off" →
 * stop) and streams data frames replayed from a capture, re-stamped to now (or as captured). It
 * records every data frame it handed to the kernel (`sent`), can drop every connection on demand,
 * and can push the same frames over UDP.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { DbError } from '../../src/core/errors.ts';
import { restamp } from '../../src/ingest/c37118/encode.ts';
import { decodeFrame } from '../../src/ingest/c37118/frame-decode.ts';
import { FrameSplitter } from '../../src/ingest/c37118/frame-splitter.ts';
import { pcapFrames } from '../../src/ingest/c37118/pcap-frames.ts';
import { C37Session } from '../../src/ingest/c37118/session.ts';
import { COMMAND, type ConfigFrame } from '../../src/ingest/c37118/types.ts';

export interface SimOptions {
  /** CFG-2 bytes and data-frame bytes of one IDCODE, e.g. from {@link framesFromCapture}. */
  readonly cfg: Uint8Array;
  readonly data: readonly Uint8Array[];
  /** 'now': frame k is stamped start + k·period (start = the first "turn on"); 'captured': as is. */
  readonly stamp: 'now' | 'captured';
  /** Interval between data frames, ms (default 1000 / DATA_RATE). */
  readonly periodMs?: number;
}

/** The CFG-2 and the in-sequence data frames of IDCODE `idcode` in a pcap capture. */
export function framesFromCapture(file: Uint8Array, idcode: number): { cfg: Uint8Array; data: Uint8Array[] } {
  const s = new C37Session();
  let cfg: Uint8Array | undefined;
  const data: Uint8Array[] = [];
  for (const f of pcapFrames(file)) {
    const d = s.decode(f.bytes, f.offset);
    if (d instanceof DbError || d.idcode !== idcode || f.outOfSequence) continue;
    if (d.type === 'cfg2') cfg = f.bytes.slice();
    if (d.type === 'data') data.push(f.bytes.slice());
  }
  if (cfg === undefined) throw new Error(`no CFG-2 of IDCODE ${idcode} in the capture`);
  return { cfg, data };
}

export class PmuSimulator {
  readonly #opts: SimOptions;
  readonly #cfg: ConfigFrame;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #paused = false;
  /** Data frames handed to the kernel, in order (the bytes as sent). */
  readonly sent: Uint8Array[] = [];
  /** Commands received, in order. */
  readonly commands: number[] = [];
  connections = 0;
  #next = 0;
  #startNs: bigint | undefined;

  constructor(opts: SimOptions) {
    this.#opts = opts;
    const c = decodeFrame(opts.cfg);
    if (c.type !== 'cfg2') throw new Error('SimOptions.cfg is not a CFG-2');
    this.#cfg = c;
    this.#server = net.createServer((s) => this.#serve(s));
  }

  get config(): ConfigFrame {
    return this.#cfg;
  }

  listen(host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve) => {
      this.#server.listen(0, host, () => resolve((this.#server.address() as net.AddressInfo).port));
    });
  }

  get #period(): number {
    return this.#opts.periodMs ?? 1000 / Math.max(1, this.#cfg.dataRate);
  }

  /** The next data frame to send (re-stamped), or null when the capture is exhausted. */
  #frame(): Uint8Array | null {
    const k = this.#next;
    const src = this.#opts.data[k % this.#opts.data.length];
    if (src === undefined || (this.#opts.stamp === 'captured' && k >= this.#opts.data.length)) return null;
    this.#next++;
    if (this.#opts.stamp === 'captured') return src;
    this.#startNs ??= ((BigInt(Date.now()) * 1_000_000n) / 1_000_000_000n) * 1_000_000_000n;
    const t = this.#startNs + BigInt(Math.round(k * this.#period * 1e6));
    const soc = Number(t / 1_000_000_000n);
    const sub = Number(t % 1_000_000_000n);
    return restamp(src, soc, Math.floor((sub * this.#cfg.timeBase) / 1e9));
  }

  #serve(sock: net.Socket): void {
    this.connections++;
    this.#sockets.add(sock);
    const splitter = new FrameSplitter();
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (timer !== undefined) {
        clearInterval(timer);
        this.#timers.delete(timer);
      }
      timer = undefined;
    };
    sock.on('data', (chunk: Buffer) => {
      for (const f of splitter.push(chunk)) {
        let cmd: number;
        try {
          const d = decodeFrame(f.bytes);
          if (d.type !== 'command') continue;
          cmd = d.command;
        } catch {
          continue;
        }
        this.commands.push(cmd);
        if (cmd === COMMAND.sendCfg2 || cmd === COMMAND.sendCfg1) sock.write(this.#opts.cfg);
        else if (cmd === COMMAND.off) stop();
        else if (cmd === COMMAND.on && timer === undefined && !this.#paused) {
          timer = setInterval(() => {
            const fr = this.#frame();
            if (fr === null) return stop();
            sock.write(fr, (err) => {
              if (!err) this.sent.push(fr);
            });
          }, this.#period);
          this.#timers.add(timer);
        }
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      stop();
      this.#sockets.delete(sock);
    });
  }

  /** Stop sending data frames on every connection (and ignore later "turn on" commands). */
  pause(): void {
    this.#paused = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
  }

  /** Drop every open connection (the link loss a client must survive). */
  dropConnections(): void {
    for (const s of this.#sockets) s.destroy();
  }

  /** Send the CFG-2 (unless `withConfig` is false) and `count` data frames over UDP, `gapMs` apart. */
  async sendUdp(host: string, port: number, count: number, gapMs = 2, withConfig = true): Promise<void> {
    const sock = dgram.createSocket('udp4');
    const send = (b: Uint8Array): Promise<void> =>
      new Promise((resolve, reject) => sock.send(b, port, host, (e) => (e ? reject(e) : resolve())));
    try {
      if (withConfig) await send(this.#opts.cfg);
      for (let i = 0; i < count; i++) {
        const fr = this.#frame();
        if (fr === null) break;
        await send(fr);
        this.sent.push(fr);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    } finally {
      sock.close();
    }
  }

  close(): Promise<void> {
    this.dropConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

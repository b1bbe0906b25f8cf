/**
 * Live C37.118 sources: a TCP client to a PMU/PDC (commands "turn off", "send CFG-2", then "turn on
 * transmission" once the CFG-2 has arrived; reconnect with exponential backoff on link loss or
 * silence) and a UDP listener (data frames after a configuration — sent over UDP by the PMU, or
 * fetched once over TCP with "send CFG-2"). Decoded frames go to a {@link FrameSink}.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { DbError } from '../../core/errors.ts';
import { commandFrame } from './encode.ts';
import { FrameSplitter } from './frame-splitter.ts';
import { C37Session } from './session.ts';
import { COMMAND, type ConfigFrame, type DataFrame } from './types.ts';

/** Where decoded frames go (a C37Writer fits). */
export interface FrameSink {
  config(cfg: ConfigFrame): Promise<void>;
  data(frame: DataFrame): Promise<void>;
}

export interface LiveEvents {
  /** A line for the operator (connects, losses, re-maps). */
  readonly log?: (line: string) => void;
  /** A sink call failed (e.g. the database refused an insert): the source stops. */
  readonly fail?: (e: unknown) => void;
}

export interface TcpClientOptions extends LiveEvents {
  readonly host: string;
  readonly port: number;
  /** IDCODE the commands are addressed to. */
  readonly idcode: number;
  /** First reconnect delay, ms (default 250); doubles up to maxBackoffMs (default 10 000). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Reconnect when nothing arrives for this long, ms (default 10 000). */
  readonly idleMs?: number;
}

export interface LiveCounts {
  connects: number;
  linkLosses: number;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Route one decoded frame to the sink; returns the frame kind handled. */
function route(
  session: C37Session,
  bytes: Uint8Array,
  offset: number,
  sink: FrameSink,
  fail: (e: unknown) => void,
): 'config' | 'data' | 'other' | 'bad' {
  const d = session.decode(bytes, offset);
  if (d instanceof DbError) return 'bad';
  if (d.type === 'data') {
    sink.data(d).catch(fail);
    return 'data';
  }
  if (d.type === 'cfg1' || d.type === 'cfg2' || d.type === 'cfg3') {
    if (session.configs.get(d.idcode) === d) sink.config(d).catch(fail);
    return 'config';
  }
  return 'other';
}

/**
 * Run the TCP client until `signal` aborts. Resolves then (after closing the socket); the session
 * (configs, counts) and link counts are returned for the summary.
 */
export async function runTcpClient(
  opts: TcpClientOptions,
  sink: FrameSink,
  signal: AbortSignal,
  session = new C37Session(),
): Promise<{ session: C37Session; link: LiveCounts }> {
  const min = opts.minBackoffMs ?? 250;
  const max = opts.maxBackoffMs ?? 10_000;
  const log = opts.log ?? (() => {});
  const fail = (e: unknown): void => {
    opts.fail?.(e);
  };
  const link: LiveCounts = { connects: 0, linkLosses: 0 };
  let delay = min;
  while (!signal.aborted) {
    const gotData = await oneConnection(opts, sink, signal, session, link, log, fail);
    if (signal.aborted) break;
    link.linkLosses++;
    if (gotData) delay = min;
    log(`link to ${opts.host}:${opts.port} lost; reconnecting in ${delay} ms`);
    await sleep(delay, signal);
    delay = Math.min(max, delay * 2);
  }
  return { session, link };
}

function oneConnection(
  opts: TcpClientOptions,
  sink: FrameSink,
  signal: AbortSignal,
  session: C37Session,
  link: LiveCounts,
  log: (line: string) => void,
  fail: (e: unknown) => void,
): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: opts.host, port: opts.port });
    const splitter = new FrameSplitter();
    let started = false;
    let gotData = false;
    let lastCfgAsk = 0;
    const send = (cmd: number): void => {
      sock.write(commandFrame(opts.idcode, cmd));
    };
    const onAbort = (): void => {
      // Polite stop: turn transmission off, then close.
      if (sock.writable) sock.end(commandFrame(opts.idcode, COMMAND.off));
      sock.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sock.setTimeout(opts.idleMs ?? 10_000, () => {
      log(`no data from ${opts.host}:${opts.port} for ${opts.idleMs ?? 10_000} ms`);
      sock.destroy();
    });
    sock.on('connect', () => {
      link.connects++;
      log(`connected to ${opts.host}:${opts.port}; requesting CFG-2 of IDCODE ${opts.idcode}`);
      send(COMMAND.off);
      send(COMMAND.sendCfg2);
    });
    sock.on('data', (chunk: Buffer) => {
      for (const f of splitter.push(chunk)) {
        const kind = route(session, f.bytes, f.offset, sink, fail);
        if (kind === 'config' && !started) {
          started = true;
          send(COMMAND.on);
        } else if (kind === 'data') {
          gotData = true;
          // STAT bit 10: the PMU's configuration changed — ask for the new CFG-2 (at most 1/s).
          if (firstStat(f.bytes) & 0x0400 && Date.now() - lastCfgAsk > 1000) {
            lastCfgAsk = Date.now();
            send(COMMAND.sendCfg2);
          }
        }
      }
    });
    sock.on('error', (e) => log(`${opts.host}:${opts.port}: ${e.message}`));
    sock.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(gotData);
    });
  });
}

/** The first PMU's STAT of a data frame's bytes (0 if too short). */
const firstStat = (b: Uint8Array): number => (b.length >= 16 ? (b[14]! << 8) | b[15]! : 0);

export interface UdpListenOptions extends LiveEvents {
  readonly host: string;
  readonly port: number;
  /** Fetch the CFG-2 over TCP from this PMU first (host, port, idcode). */
  readonly configFrom?: { readonly host: string; readonly port: number; readonly idcode: number };
  /** Called once the socket is bound, with its port (for port 0). */
  readonly bound?: (port: number) => void;
}

/** Fetch one CFG-2 over TCP ("send CFG-2"), then close. 438/timeout errors as DbError. */
export function fetchConfig(host: string, port: number, idcode: number, timeoutMs = 10_000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const splitter = new FrameSplitter();
    const session = new C37Session();
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new DbError(402, `no CFG-2 from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(commandFrame(idcode, COMMAND.sendCfg2)));
    sock.on('data', (chunk: Buffer) => {
      for (const f of splitter.push(chunk)) {
        const d = session.decode(f.bytes, f.offset);
        if (!(d instanceof DbError) && (d.type === 'cfg2' || d.type === 'cfg3' || d.type === 'cfg1')) {
          clearTimeout(timer);
          sock.destroy();
          resolve(f.bytes.slice());
          return;
        }
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new DbError(402, `cannot fetch the configuration from ${host}:${port}: ${e.message}`));
    });
  });
}

/** Listen for C37.118 frames over UDP until `signal` aborts. */
export async function runUdpListener(
  opts: UdpListenOptions,
  sink: FrameSink,
  signal: AbortSignal,
  session = new C37Session(),
): Promise<{ session: C37Session }> {
  const fail = (e: unknown): void => {
    opts.fail?.(e);
  };
  if (opts.configFrom !== undefined) {
    const c = opts.configFrom;
    const cfg = await fetchConfig(c.host, c.port, c.idcode);
    route(session, cfg, 0, sink, fail);
    opts.log?.(`configuration of IDCODE ${c.idcode} fetched from ${c.host}:${c.port}`);
  }
  // A large receive buffer rides out a stall of the event loop (e.g. while streams are created).
  const sock = dgram.createSocket({ type: opts.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 8 << 20 });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(opts.port, opts.host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  opts.bound?.(sock.address().port);
  opts.log?.(`listening on udp://${opts.host}:${sock.address().port}`);
  let offset = 0;
  sock.on('message', (msg: Buffer) => {
    const s = new FrameSplitter();
    for (const f of s.push(msg)) route(session, f.bytes, offset + f.offset, sink, fail);
    offset += msg.length;
  });
  sock.on('error', (e) => opts.log?.(`udp: ${e.message}`));
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return { session };
}

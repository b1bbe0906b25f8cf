/**
 * `arbor ingest c37118` — IEEE C37.118 synchrophasor frames into streams: replayed from a pcap
 * capture, read live from a PMU/PDC over TCP, or received over UDP. The mapping of channels to
 * streams is in docs/protocols/c37118.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { validateCollection } from '../catalog/validate.ts';
import type { Connection } from '../client/index.ts';
import { connectionOver } from '../client/index.ts';
import { connectRemote } from '../client/remote-backend.ts';
import { DbError } from '../core/errors.ts';
import { openDatabase } from '../db/database.ts';
import { C37Writer } from '../ingest/c37118/ingest-writer.ts';
import { type LiveCounts, runTcpClient, runUdpListener } from '../ingest/c37118/live.ts';
import { replayPcap } from '../ingest/c37118/pcap-replay.ts';
import type { C37Session, SessionCounts } from '../ingest/c37118/session.ts';
import type { ConfigFrame, DataFrame } from '../ingest/c37118/types.ts';
import { dataDir, flag, has, type Parsed, parseArgs } from './args.ts';
import { UsageError } from './main.ts';
import { compact, Progress } from './progress.ts';

const HELP = `arbor ingest — feed live or recorded protocol streams into streams

  arbor ingest c37118 --pcap FILE                      [target] [options]
  arbor ingest c37118 --connect HOST:PORT --idcode N   [target] [options]
  arbor ingest c37118 --listen udp://HOST:PORT [--config-from HOST:PORT --idcode N] [target] [options]

IEEE C37.118-2005/2011 synchrophasor frames (CFG-1/2/3, data, header, command; CRC-checked).
Each PMU's phasors (magnitude and angle, degrees), FREQ, DFREQ, analogs and digital words become
streams in the collection <prefix>/<station> (created on first sight, re-mapped when a new
configuration arrives); each point carries the PMU's STAT word and time quality as its quality
flags. Times are the PMU's (SOC + FRACSEC/TIME_BASE), never the arrival time.
See docs/protocols/c37118.md for the full mapping.

Sources:
  --pcap FILE           replay a classic libpcap capture (Ethernet/IPv4, TCP reassembled or UDP)
                        as fast as possible, then exit with a summary
  --connect HOST:PORT   a PMU/PDC's TCP port (usually 4712): sends "turn off transmission",
                        "send CFG-2", then "turn on transmission"; requests a new CFG-2 when STAT
                        says the configuration changed; reconnects with backoff (0.25 s doubling
                        to 10 s) when the link drops or is silent for --idle-timeout
  --idcode N            the IDCODE commands are addressed to (--connect, --config-from)
  --listen udp://HOST:PORT  receive frames over UDP (data frames are stored once a configuration
                        frame arrived over UDP, or was fetched with --config-from)
  --config-from HOST:PORT   fetch the CFG-2 over TCP before listening (with --idcode)
Target:
  --data DIR            data directory (default $ARBOR_DATA or ./data)
  --server HOST:PORT    a running server's gRPC API instead, with --api-key K (or
                        $ARBOR_API_KEY); the BTrDB wire carries no quality flags and cannot
                        create NaN-storing streams, so in this mode STAT is not stored and
                        NaN values (missing data) are skipped and counted
Options:
  --prefix P            collection prefix (default "pmu")
  --port N              (--pcap) only packets from or to this port (default: all)
  --batch-frames N      insert after N data frames (default 50; 5000 for --pcap)
  --flush-ms MS         ... or when the oldest pending frame is MS old (default 1000)
  --idle-timeout MS     (--connect) reconnect after MS without data (default 10000)
  --duration S          (live) stop after S seconds (default: run until SIGINT/SIGTERM)
  --quiet               no progress on stderr

Live ingest runs until SIGINT or SIGTERM: it then flushes every pending point and exits 0.
Summary on stdout: frames by type, bad frames, streams, points.

Examples:
  arbor ingest c37118 --pcap capture.pcap --data ./data
  arbor ingest c37118 --connect 10.0.0.5:4712 --idcode 1 --server 127.0.0.1:4410
  arbor ingest c37118 --listen udp://0.0.0.0:4713 --config-from 10.0.0.5:4712 --idcode 1
`;

const hostPort = (s: string, what: string): { host: string; port: number } => {
  const m = /^(?:udp:\/\/)?(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new UsageError(`${what} must be HOST:PORT, got ${JSON.stringify(s)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
};

const intFlag = (p: Parsed, name: string, min: number, max: number): number | undefined => {
  const v = flag(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer ${min}–${max}, got ${v}`);
  return n;
};

/** What one ingest run did. */
export interface IngestSummary {
  readonly frames: SessionCounts;
  readonly streams: number;
  readonly created: number;
  readonly points: number;
  readonly configs: number;
  readonly unmapped: number;
  readonly seconds: number;
  readonly link?: LiveCounts;
  readonly notes: readonly string[];
}

export function formatSummary(s: IngestSummary): string {
  const f = s.frames;
  const lines = [
    `ingested ${f.data} data frames (${compact(f.data / Math.max(s.seconds, 1e-9))} frames/s) into ${s.streams} streams ` +
      `(${s.created} created): ${s.points} points in ${s.seconds.toFixed(2)} s`,
    `frames: ${f.data} data, ${f.cfg1} CFG-1, ${f.cfg2} CFG-2, ${f.cfg3} CFG-3, ${f.command} command, ${f.header} header; ` +
      `${f.bad} bad; ${s.unmapped} data frames without a configuration; ${s.configs} configurations applied`,
  ];
  if (s.link) lines.push(`link: ${s.link.connects} connects, ${s.link.linkLosses} losses`);
  for (const n of s.notes) lines.push(n);
  return `${lines.join('\n')}\n`;
}

export async function ingestCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    pcap: { type: 'string' },
    connect: { type: 'string' },
    idcode: { type: 'string' },
    listen: { type: 'string' },
    'config-from': { type: 'string' },
    data: { type: 'string' },
    server: { type: 'string' },
    'api-key': { type: 'string' },
    prefix: { type: 'string' },
    port: { type: 'string' },
    'batch-frames': { type: 'string' },
    'flush-ms': { type: 'string' },
    'idle-timeout': { type: 'string' },
    duration: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help') || p.positional.length === 0) {
    process.stdout.write(HELP);
    if (!has(p, 'help')) throw new UsageError('give a protocol: arbor ingest c37118 …');
    return;
  }
  const [proto, ...extra] = p.positional;
  if (proto !== 'c37118') throw new UsageError(`unknown protocol ${JSON.stringify(proto)} (known: c37118)`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const sources = ['pcap', 'connect', 'listen'].filter((s) => flag(p, s) !== undefined);
  if (sources.length !== 1)
    throw new UsageError('give exactly one source: --pcap FILE, --connect HOST:PORT or --listen udp://HOST:PORT');
  const prefix = flag(p, 'prefix') ?? 'pmu';
  validateCollection(`${prefix}/x`);
  const server = flag(p, 'server');
  if (server !== undefined && flag(p, 'data') !== undefined) throw new UsageError('give --server or --data, not both');
  const quiet = has(p, 'quiet');
  const log = (line: string): void => {
    if (!quiet) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  };

  let conn: Connection;
  let closeTarget: () => Promise<void>;
  if (server !== undefined) {
    const apiKey = flag(p, 'api-key') ?? process.env.ARBOR_API_KEY;
    const remote = await connectRemote({ endpoints: server, ...(apiKey === undefined ? {} : { apiKey }) });
    conn = connectionOver(remote);
    closeTarget = () => remote.close();
  } else {
    const db = await openDatabase(dataDir(p), {});
    conn = connectionOver(db);
    closeTarget = () => db.close();
  }
  const notes: string[] = [];
  if (server !== undefined) notes.push('quality flags (STAT) not stored: the BTrDB wire cannot carry them');
  // A replay batches more: nothing waits for its points, and fewer, larger inserts are faster.
  const batchFrames = intFlag(p, 'batch-frames', 1, 1_000_000) ?? (flag(p, 'pcap') === undefined ? 50 : 5000);
  const writer = new C37Writer(conn, {
    prefix,
    flags: server === undefined,
    storeNonFinite: server === undefined,
    batchFrames,
    ...(intFlag(p, 'flush-ms', 1, 3_600_000) === undefined ? {} : { flushMs: intFlag(p, 'flush-ms', 1, 3_600_000)! }),
  });
  const t0 = performance.now();
  let frames: SessionCounts;
  let link: LiveCounts | undefined;
  try {
    const pcap = flag(p, 'pcap');
    if (pcap !== undefined) {
      let bytes: Uint8Array;
      try {
        bytes = fs.readFileSync(pcap);
      } catch (e) {
        throw new DbError(404, `cannot read ${pcap}: ${(e as Error).message}`);
      }
      const progress = new Progress({ label: `replay ${path.basename(pcap)}`, enabled: !quiet });
      const portFlag = intFlag(p, 'port', 0, 65535);
      // SIGINT/SIGTERM stop the replay after the current frame; what was read is flushed.
      const ac = new AbortController();
      const onSignal = (): void => {
        notes.push('stopped by a signal before the end of the capture');
        ac.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const r = await replayPcap(bytes, writer, {
          signal: ac.signal,
          ...(portFlag === undefined ? {} : { port: portFlag }),
          progress: (n) => progress.update(n, writer.counts.queued),
        });
        frames = r.frames;
        if (r.pcap.outOfSequence > 0)
          notes.push(`${r.pcap.outOfSequence} frames came in out-of-sequence TCP segments (retransmissions or strays)`);
        if (r.pcap.lostBytes > 0) notes.push(`${r.pcap.lostBytes} TCP bytes missing from the capture`);
        if (r.pcap.truncatedAt !== undefined)
          notes.push(`the capture is cut short: a partial record at offset ${r.pcap.truncatedAt} was ignored`);
        for (const e of r.errors.slice(-5)) notes.push(`bad frame: ${e}`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        progress.finish();
      }
    } else {
      const r = await runLive(p, writer, log);
      frames = r.session.counts;
      link = r.link;
      for (const e of r.session.errors.slice(-5)) notes.push(`bad frame: ${e}`);
    }
    await writer.close();
  } finally {
    await closeTarget();
  }
  const c = writer.counts;
  if (c.nonFinite > 0)
    notes.push(`${c.nonFinite} NaN/Inf values skipped (streams over the BTrDB wire cannot store them)`);
  process.stdout.write(
    formatSummary({
      frames,
      streams: c.streams,
      created: c.created,
      points: c.points,
      configs: c.configs,
      unmapped: c.unmapped,
      seconds: (performance.now() - t0) / 1000,
      notes,
      ...(link === undefined ? {} : { link }),
    }),
  );
}

/** Run a live source until SIGINT/SIGTERM (or --duration), flushing on a timer. */
async function runLive(
  p: Parsed,
  writer: C37Writer,
  log: (line: string) => void,
): Promise<{ session: C37Session; link?: LiveCounts }> {
  const ac = new AbortController();
  let failure: unknown;
  const fail = (e: unknown): void => {
    failure ??= e;
    log(`stopping: ${e instanceof Error ? e.message : String(e)}`);
    ac.abort();
  };
  const onSignal = (sig: string): void => {
    log(`${sig}: flushing and stopping`);
    ac.abort();
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const duration = intFlag(p, 'duration', 1, 10_000_000);
  const stopTimer = duration === undefined ? undefined : setTimeout(() => ac.abort(), duration * 1000);
  // Log each (re)mapping, so an operator (and the live test) sees when the streams are ready.
  const sink = {
    config: async (cfg: ConfigFrame): Promise<void> => {
      await writer.config(cfg);
      log(
        `IDCODE ${cfg.idcode}: ${writer.streamsOf(cfg.idcode).length} channels mapped to streams (${cfg.type.toUpperCase()})`,
      );
    },
    data: (f: DataFrame): Promise<void> => writer.data(f),
  };
  const tick = setInterval(() => {
    if (writer.due) writer.flush().catch(fail);
  }, 100);
  const idcode = intFlag(p, 'idcode', 0, 65535);
  try {
    const connect = flag(p, 'connect');
    if (connect !== undefined) {
      if (idcode === undefined) throw new UsageError('--connect needs --idcode N');
      const idle = intFlag(p, 'idle-timeout', 100, 3_600_000);
      const r = await runTcpClient(
        { ...hostPort(connect, '--connect'), idcode, log, fail, ...(idle === undefined ? {} : { idleMs: idle }) },
        sink,
        ac.signal,
      );
      if (failure !== undefined) throw failure;
      return r;
    }
    const listen = hostPort(flag(p, 'listen')!, '--listen');
    if (!flag(p, 'listen')!.startsWith('udp://')) throw new UsageError('--listen takes udp://HOST:PORT');
    const from = flag(p, 'config-from');
    if (from !== undefined && idcode === undefined) throw new UsageError('--config-from needs --idcode N');
    const r = await runUdpListener(
      {
        ...listen,
        log,
        fail,
        ...(from === undefined ? {} : { configFrom: { ...hostPort(from, '--config-from'), idcode: idcode! } }),
      },
      sink,
      ac.signal,
    );
    if (failure !== undefined) throw failure;
    return r;
  } finally {
    clearInterval(tick);
    if (stopTimer !== undefined) clearTimeout(stopTimer);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

/**
 * The load generator's command line: parsed and checked in one pure function (tested), with the
 * usage text beside it.
 */
import { parseArgs } from 'node:util';

export type Pacing = 'realtime' | 'max';
export type ValueSource = 'openpmu' | 'synthetic';

export interface FleetOptions {
  readonly pmus: number;
  readonly channels: number;
  /** Frames per second of every PMU (whole number). */
  readonly hz: number;
  readonly pacing: Pacing;
  /** Seconds of wall time to send for (realtime: also seconds of data). */
  readonly durationS: number;
  /** Data time each PMU batch covers (ms); hz·batchMs/1000 must be a whole number of frames. */
  readonly batchMs: number;
  /** Share of stream batches held back and sent 1…lateMaxMs later, after newer data of the stream. */
  readonly lateFrac: number;
  readonly lateMaxMs: number;
  /** Share of stream batches whose points are shuffled (the server sorts them). */
  readonly oooFrac: number;
  readonly readers: number;
  /** Pause of each reader between two queries (ms). */
  readonly readerPauseMs: number;
  /** Writer processes the streams are spread over. */
  readonly writers: number;
  /** Inserts in flight per writer process. */
  readonly inflight: number;
  /** An existing server `host:port`, or null to spawn `arbor serve` on a temp data dir. */
  readonly server: string | null;
  readonly apiKey: string;
  /** Seconds between report rows. */
  readonly intervalS: number;
  readonly out: string;
  readonly values: ValueSource;
  readonly findMax: boolean;
  /** Fleet sizes (streams) tried by --find-max, ascending. */
  readonly steps: readonly number[];
  /** Seconds of each --find-max step. */
  readonly stepDurationS: number;
  /** A run is real-time when its lag stays under this (ms) in its second half. */
  readonly maxLagMs: number;
  /** …and the read p99s under this (ms). */
  readonly maxReadP99Ms: number;
  /** Extra arguments for the spawned `arbor serve` (e.g. retention settings). */
  readonly serveArgs: readonly string[];
  /** Write V8 CPU profiles of the server and the writers into this directory. */
  readonly profileDir: string | null;
  readonly help: boolean;
}

export const FLEET_HELP = `Usage: node --import tsx bench/load/fleet.ts [options]

Replay a PMU fleet over gRPC: N PMUs × M channels, one stream each, while readers query.

  --pmus N              PMUs (default 100)
  --channels M          channels (streams) per PMU (default 12)
  --hz F                frames per second, whole number, e.g. 30–240 (default 120)
  --pacing MODE         realtime (one second of data per second) | max (as fast as acknowledged)
  --duration S          seconds to run (default 60)
  --batch-ms B          data time one PMU batch covers (default 1000); one Insert per stream per batch
  --late-frac F         share of stream batches sent late, after newer data (default 0.01)
  --late-max-ms MS      how late at most (default 5000)
  --ooo-frac F          share of stream batches with shuffled points (default 0.01)
  --readers R           concurrent reader loops: 1024 aligned windows over the last ~69 s, and raw
                        reads of the last 10 s of one stream, alternately (default 2)
  --reader-pause-ms MS  pause between a reader's queries (default 100)
  --writers W           writer processes (default 2)
  --inflight K          Inserts in flight per writer (default 512)
  --server HOST:PORT    use this server (else spawn arbor serve on a temp data dir)
  --api-key KEY         key for --server (default: the spawned server's)
  --serve-args "ARGS"   extra arguments for the spawned arbor serve, e.g. "--keep-versions 10 --compact-every 60000"
  --interval S          seconds per report row (default 10)
  --values SRC          openpmu (real OpenPMU value shapes, default) | synthetic
  --max-lag-ms MS       real-time means lag under this in the second half (default max(2000, 2·batch))
  --max-read-p99-ms MS  and read p99s under this (default 50)
  --find-max            step the fleet size up (streams = PMUs × channels) while the ingest keeps up;
                        report the largest real-time fleet and the largest whose ingest kept up
  --steps LIST          fleet sizes in streams for --find-max (default 1000,2000,4000,8000,12000,16000,24000)
  --step-duration S     seconds per --find-max step (default 60)
  --out FILE            JSON result (default .bench/load.json)
  --profile DIR         write V8 CPU profiles (.cpuprofile) of the server and the writers to DIR
`;

export class FleetUsageError extends Error {}

function num(v: string | undefined, def: number, what: string, min: number, max: number, integer = false): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new FleetUsageError(`${what} must be ${integer ? 'a whole number' : 'a number'} in ${min}–${max}, got ${v}`);
  }
  return n;
}

export function parseFleetOptions(argv: readonly string[]): FleetOptions {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (e) {
    throw new FleetUsageError(e instanceof Error ? e.message : String(e));
  }
  const pacing = values.pacing ?? 'realtime';
  if (pacing !== 'realtime' && pacing !== 'max') throw new FleetUsageError(`--pacing must be realtime or max`);
  const source = values.values ?? 'openpmu';
  if (source !== 'openpmu' && source !== 'synthetic')
    throw new FleetUsageError(`--values must be openpmu or synthetic`);
  const hz = num(values.hz, 120, '--hz', 1, 10_000, true);
  const batchMs = num(values['batch-ms'], 1000, '--batch-ms', 1, 600_000, true);
  if (!Number.isInteger((hz * batchMs) / 1000)) {
    throw new FleetUsageError(`--hz × --batch-ms / 1000 must be a whole number of frames (${hz} × ${batchMs})`);
  }
  const steps = (values.steps ?? '1000,2000,4000,8000,12000,16000,24000').split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new FleetUsageError(`--steps must list whole numbers, got ${s}`);
    return n;
  });
  for (let i = 1; i < steps.length; i++) {
    if (steps[i]! <= steps[i - 1]!) throw new FleetUsageError('--steps must be ascending');
  }
  return {
    pmus: num(values.pmus, 100, '--pmus', 1, 1_000_000, true),
    channels: num(values.channels, 12, '--channels', 1, 1000, true),
    hz,
    pacing,
    durationS: num(values.duration, 60, '--duration', 1, 86_400),
    batchMs,
    lateFrac: num(values['late-frac'], 0.01, '--late-frac', 0, 1),
    lateMaxMs: num(values['late-max-ms'], 5000, '--late-max-ms', 1, 3_600_000, true),
    oooFrac: num(values['ooo-frac'], 0.01, '--ooo-frac', 0, 1),
    readers: num(values.readers, 2, '--readers', 0, 1000, true),
    readerPauseMs: num(values['reader-pause-ms'], 100, '--reader-pause-ms', 0, 60_000),
    writers: num(values.writers, 2, '--writers', 1, 64, true),
    inflight: num(values.inflight, 512, '--inflight', 1, 100_000, true),
    server: values.server ?? null,
    apiKey: values['api-key'] ?? 'load-key',
    intervalS: num(values.interval, 10, '--interval', 1, 3600),
    out: values.out ?? '.bench/load.json',
    values: source,
    findMax: values['find-max'] === true,
    steps,
    stepDurationS: num(values['step-duration'], 60, '--step-duration', 1, 86_400),
    maxLagMs: num(values['max-lag-ms'], Math.max(2000, 2 * batchMs), '--max-lag-ms', 1, 3_600_000),
    maxReadP99Ms: num(values['max-read-p99-ms'], 50, '--max-read-p99-ms', 0.001, 3_600_000),
    profileDir: values.profile ?? null,
    serveArgs: (values['serve-args'] ?? '').split(/\s+/).filter((x) => x !== ''),
    help: values.help === true,
  };
}

function parse(argv: readonly string[]) {
  const s = { type: 'string' } as const;
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      pmus: s,
      channels: s,
      hz: s,
      pacing: s,
      duration: s,
      'batch-ms': s,
      'late-frac': s,
      'late-max-ms': s,
      'ooo-frac': s,
      readers: s,
      'reader-pause-ms': s,
      writers: s,
      inflight: s,
      server: s,
      'api-key': s,
      interval: s,
      out: s,
      values: s,
      'find-max': { type: 'boolean' },
      steps: s,
      'step-duration': s,
      'max-lag-ms': s,
      'max-read-p99-ms': s,
      profile: s,
      'serve-args': s,
      help: { type: 'boolean', short: 'h' },
    },
  });
}

// A real Ceph cluster for tests: one monitor, one OSD (BlueStore on a sparse file, so data survives
// an OSD restart) and radosgw serving S3 on loopback, started as child processes in a temp dir,
// without systemd and without a mgr. Authentication is off (`auth … required = none`).
//
// Layout of the dir: ceph.conf, monmap, mon/ceph-a (monitor store), osd/ceph-0 (OSD data and its
// 10 GiB sparse `block` file), log/ (each daemon's own log `<name>.log` plus its stdout/stderr
// `<name>.out`), run/ (admin sockets `<name>.asok` and pid files).
//
// Children die with the test process: an 'exit' handler SIGKILLs them, and a small watchdog shell
// whose stdin is a pipe from this process SIGKILLs them when that pipe closes — which also covers
// this process being SIGKILLed, where no handler runs.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePorts } from './ports.ts';

export interface StartCephOptions {
  /** Where the cluster lives; must be missing or empty. Default: a new dir under os.tmpdir(). */
  readonly dir?: string;
  /** Keep the dir (data and logs) after stop(). Default false. */
  readonly keep?: boolean;
  /** Bucket created for the tests. Default 'arbor-test'. */
  readonly bucket?: string;
  /** Deadline for the whole start, ms. Default 90 000. */
  readonly startTimeoutMs?: number;
}

export interface CephHandle {
  /** S3 endpoint of radosgw, `http://127.0.0.1:PORT`; use path-style addressing. */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly bucket: string;
  readonly region: 'us-east-1';
  readonly dir: string;
  /** Folder of the daemons' logs (`mon.a.log`, `osd.0.log`, `client.rgw.log`, `*.out`). */
  readonly logs: string;
  readonly monPort: number;
  readonly rgwPort: number;
  /** How long start took, ms, in total and per phase (for benchmarks and slow-start diagnosis). */
  readonly startup: { readonly totalMs: number; readonly phases: readonly (readonly [string, number])[] };
  /** Pids of the running daemons (undefined when stopped). */
  pids(): { mon: number | undefined; osd: number | undefined; rgw: number | undefined };
  /** SIGKILL the OSD and wait for it to exit. Requests then hang until the OSD is back. */
  killOsd(): Promise<void>;
  /** SIGTERM the OSD (clean shutdown) and wait for it to exit (SIGKILL after 20 s). */
  stopOsd(): Promise<void>;
  /** SIGSTOP / SIGCONT the OSD. */
  pauseOsd(): void;
  resumeOsd(): void;
  /** Start the OSD again (after kill/stop) and wait until it has booted and is active. */
  startOsd(timeoutMs?: number): Promise<void>;
  /** SIGKILL radosgw / start it again and wait until S3 answers. */
  killRgw(): Promise<void>;
  startRgw(timeoutMs?: number): Promise<void>;
  /** SIGKILL every daemon, then remove the dir unless `keep`. Idempotent. */
  stop(): Promise<void>;
}

const ACCESS_KEY = 'ARBORTESTACCESSKEY01';
const SECRET_KEY = 'arborTestSecretKey0123456789abcdefghijklmn';
const BINARIES = ['monmaptool', 'ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph'] as const;

/** Throws, naming the install script, when a Ceph binary is not on PATH. */
export function requireCephBinaries(): void {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  const missing = BINARIES.filter((b) => !dirs.some((d) => isExecutable(path.join(d, b))));
  if (missing.length > 0) {
    throw new Error(
      `Ceph binaries missing: ${missing.join(', ')}. Install them with: bash scripts/cluster/install-deps.sh`,
    );
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

// ---- children and their clean-up -----------------------------------------------------------

const live = new Set<ChildProcess>();
/** Dirs of clusters that are running and are to be removed when they stop. */
const tempDirs = new Set<string>();
let watchdog: ChildProcess | null = null;
let exitHookInstalled = false;

function tellWatchdog(line: string): void {
  if (watchdog?.stdin?.writable) watchdog.stdin.write(`${line}\n`);
}

function ensureReaper(): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const child of live) child.kill('SIGKILL');
      // A SIGKILLed process runs no more code, so nothing writes into the dirs any more.
      for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
    });
  }
  if (watchdog !== null && watchdog.exitCode === null && watchdog.signalCode === null) return;
  // Keeps the set of live pids ("+ pid" / "- pid") and temp dirs ("d dir" / "u dir"); on EOF (this
  // process closed the pipe or died) kills the pids and removes the dirs.
  const script = `declare -A p d
while read -r op arg; do
  case "$op" in +) p[$arg]=1 ;; -) unset "p[$arg]" ;; d) d[$arg]=1 ;; u) unset "d[$arg]" ;; esac
done
for k in "\${!p[@]}"; do kill -9 "$k" 2>/dev/null; done
for k in "\${!d[@]}"; do rm -rf -- "$k"; done`;
  const dog = spawn('bash', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'] });
  dog.unref();
  dog.on('error', () => {});
  dog.stdin?.on('error', () => {});
  watchdog = dog;
}

/** Removes `dir` when this process exits or dies, unless `untrackDir` is called first. */
function trackDir(dir: string): void {
  ensureReaper();
  tempDirs.add(dir);
  tellWatchdog(`d ${dir}`);
}

function untrackDir(dir: string): void {
  tempDirs.delete(dir);
  tellWatchdog(`u ${dir}`);
}

function spawnDaemon(command: string, args: readonly string[], outFile: string): ChildProcess {
  ensureReaper();
  const fd = fs.openSync(outFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', fd, fd], detached: false });
  } finally {
    fs.closeSync(fd);
  }
  child.on('error', () => {}); // a failed spawn shows up as an exit with a code; the caller reports it
  const pid = child.pid;
  if (pid !== undefined) {
    live.add(child);
    tellWatchdog(`+ ${pid}`);
  }
  child.once('exit', () => {
    live.delete(child);
    if (pid !== undefined) tellWatchdog(`- ${pid}`);
  });
  child.unref();
  return child;
}

function running(child: ChildProcess | null): boolean {
  return child !== null && child.exitCode === null && child.signalCode === null;
}

/** Sends `signal` and waits for the exit; escalates to SIGKILL after `graceMs`. */
async function terminate(child: ChildProcess | null, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child === null || !running(child)) return;
  child.ref(); // daemons are unref'd so a forgotten handle does not hold the process; waiting must
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  if (signal !== 'SIGKILL') child.kill('SIGCONT'); // a paused process acts on SIGTERM only once resumed
  if (signal === 'SIGKILL') {
    await exited;
    return;
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// ---- small utilities -----------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The last `bytes` of a file as text, or a note that it is missing. */
function tail(file: string, bytes = 4000): string {
  try {
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r');
    try {
      const start = Math.max(0, size - bytes);
      const buf = Buffer.alloc(size - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return `(no ${file})`;
  }
}

function logTails(logs: string, names: readonly string[]): string {
  return names
    .flatMap((n) => [
      `--- ${n}.out ---\n${tail(path.join(logs, `${n}.out`), 1500)}`,
      `--- ${n}.log ---\n${tail(path.join(logs, `${n}.log`))}`,
    ])
    .join('\n');
}

/** Runs a tool to completion within `timeoutMs`; rejects with its output on failure. */
function run(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: Math.max(1, timeoutMs), killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err) {
          const why = err.killed ? `timed out after ${timeoutMs} ms` : err.message.split('\n')[0];
          const output = `${stdout}\n${stderr}`.trim();
          reject(new Error(`${command} ${args.join(' ')}: ${why}\n${output.slice(-3000)}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

class Deadline {
  private readonly end: number;
  constructor(
    ms: number,
    private readonly what: string,
  ) {
    this.end = Date.now() + ms;
  }
  remaining(): number {
    return this.end - Date.now();
  }
  check(detail: () => string): void {
    if (this.remaining() <= 0) throw new ErrorWithLogs(`${this.what}: deadline passed\n${detail()}`);
  }
}

/** An error whose message already ends with the relevant log tails. */
class ErrorWithLogs extends Error {}

/** True once `http://…/` answers any HTTP status within 1 s. */
async function s3Answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
mon initial members = a
ms bind msgr1 = false
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
# Each monitor update (radosgw's pool creation is a dozen of them) otherwise waits for the default
# 1 s Paxos proposal interval.
paxos propose interval = 0.05

[mon]
mon data = ${dir}/mon/$cluster-$id

[osd]
osd data = ${dir}/osd/$cluster-$id
osd objectstore = bluestore
# BlueStore on a sparse file in the OSD dir (osd data/block), created by mkfs.
bluestore block create = true
bluestore block size = 10737418240
bluestore cache autotune = false
bluestore cache size = 134217728
osd memory target = 939524096
bluestore fsck on mkfs = false
# Every close of the block device waits out one poll of the aio thread (default 250 ms); BlueStore
# opens and closes it about ten times in mkfs and again at boot.
bdev aio poll ms = 20

[client]
# Tools (ceph, radosgw-admin) run beside radosgw: give each its own admin socket.
admin socket = ${dir}/run/$name.$pid.asok
ms mon client mode = crc
# Requests parked while no OSD serves their PG are resent on this tick (default 5 s): it decides how
# soon radosgw gets going after the OSD boots or restarts.
objecter tick interval = 0.5

[client.rgw]
admin socket = ${dir}/run/$name.asok
ms mon client mode = crc
auth client required = none
# tcp_nodelay: without it a small response (< ~64 KiB) waits ~40 ms for the client's delayed ACK.
rgw frontends = beast endpoint=127.0.0.1:${rgwPort} tcp_nodelay=1
rgw data = ${dir}/rgw
`;
}

// ---- the cluster ---------------------------------------------------------------------------

/**
 * Starts a one-monitor, one-OSD Ceph cluster with radosgw on loopback, creates an S3 user with a
 * fixed key pair and a bucket, and resolves once S3 answers. Rejects with the tails of the
 * relevant logs when anything fails or the deadline (`startTimeoutMs`, default 90 s) passes; the
 * daemons started so far are killed then (the dir is kept for inspection and named in the error).
 */
export async function startCeph(opts: StartCephOptions = {}): Promise<CephHandle> {
  requireCephBinaries();
  const deadline = new Deadline(opts.startTimeoutMs ?? 90_000, 'startCeph');
  const dir = prepareDir(opts.dir);
  if (!opts.keep) trackDir(dir);
  const logs = path.join(dir, 'log');
  const conf = path.join(dir, 'ceph.conf');
  const [monPort, rgwPort] = (await freePorts(2)) as [number, number];
  const fsid = randomUUID();
  fs.writeFileSync(conf, cephConf(dir, fsid, monPort, rgwPort));
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  const bucket = opts.bucket ?? 'arbor-test';

  let mon: ChildProcess | null = null;
  let osd: ChildProcess | null = null;
  let rgw: ChildProcess | null = null;
  let stopped = false;
  const t0 = performance.now();
  let tPhase = t0;
  const phases: [string, number][] = [];
  const phase = (name: string) => {
    const now = performance.now();
    phases.push([name, Math.round(now - tPhase)]);
    tPhase = now;
  };

  const base = ['-c', conf];
  const startMon = () => {
    mon = spawnDaemon('ceph-mon', [...base, '-f', '-i', 'a'], path.join(logs, 'mon.a.out'));
  };
  const startOsdProcess = () => {
    osd = spawnDaemon('ceph-osd', [...base, '-f', '-i', '0'], path.join(logs, 'osd.0.out'));
  };
  const startRgwProcess = () => {
    rgw = spawnDaemon('radosgw', [...base, '-f', '-n', 'client.rgw'], path.join(logs, 'client.rgw.out'));
  };
  const failIfDead = (names: readonly ['mon' | 'osd' | 'rgw', ChildProcess | null][]) => {
    for (const [name, child] of names) {
      if (child !== null && !running(child)) {
        const logName = { mon: 'mon.a', osd: 'osd.0', rgw: 'client.rgw' }[name];
        throw new ErrorWithLogs(
          `ceph ${name} exited (code ${child.exitCode}, signal ${child.signalCode}) in ${dir}\n${logTails(logs, [logName])}`,
        );
      }
    }
  };

  const waitForS3 = async (d: Deadline, what: string) => {
    while (!(await s3Answers(endpoint))) {
      failIfDead([
        ['mon', mon],
        ['rgw', rgw],
      ]);
      d.check(
        () => `${what}: radosgw at ${endpoint} does not answer\n${logTails(logs, ['client.rgw', 'osd.0', 'mon.a'])}`,
      );
      await sleep(250);
    }
  };

  /** Waits until the OSD log shows "state: booting -> active" past byte `from`. */
  const waitForOsdActive = async (d: Deadline, from: number) => {
    const log = path.join(logs, 'osd.0.log');
    for (;;) {
      failIfDead([['osd', osd]]);
      const text = readFrom(log, from);
      if (/state: booting -> active/.test(text)) return;
      from = Math.max(from, from + Buffer.byteLength(text) - 200); // re-read only a short overlap next time
      d.check(() => `osd.0 did not become active\n${logTails(logs, ['osd.0', 'mon.a'])}`);
      await sleep(200);
    }
  };

  const stopAll = async () => {
    await Promise.all([terminate(rgw, 'SIGKILL', 0), terminate(osd, 'SIGKILL', 0), terminate(mon, 'SIGKILL', 0)]);
  };

  try {
    await run(
      'monmaptool',
      ['--create', '--clobber', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, path.join(dir, 'monmap')],
      deadline.remaining(),
    );
    await run('ceph-mon', [...base, '--mkfs', '-i', 'a', '--monmap', path.join(dir, 'monmap')], deadline.remaining());
    phase('mon mkfs');
    startMon();
    // `ceph osd new` waits for the monitor itself (bounded by --connect-timeout).
    const osdUuid = randomUUID();
    const connect = String(Math.max(1, Math.floor(deadline.remaining() / 1000) - 1));
    const id = (
      await run('ceph', [...base, '--connect-timeout', connect, 'osd', 'new', osdUuid], deadline.remaining())
    ).trim();
    if (id !== '0') throw new Error(`ceph osd new returned id ${JSON.stringify(id)}, expected 0`);
    phase('mon start + osd new');
    fs.mkdirSync(path.join(dir, 'osd', 'ceph-0'), { recursive: true });
    await run('ceph-osd', [...base, '-i', '0', '--mkfs', '--osd-uuid', osdUuid], deadline.remaining());
    phase('osd mkfs (bluestore)');
    // radosgw creates its pools as soon as the OSD is up; start both at once.
    startOsdProcess();
    startRgwProcess();
    await waitForS3(deadline, 'startCeph');
    phase('osd boot + rgw pools + S3 answering');
    await run(
      'radosgw-admin',
      [
        ...base,
        'user',
        'create',
        '--uid=arbor',
        '--display-name=arbor',
        `--access-key=${ACCESS_KEY}`,
        `--secret-key=${SECRET_KEY}`,
      ],
      deadline.remaining(),
    );
    // The pinned SDK supports Node 20; its notice about future releases would clutter every log.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      maxAttempts: 1,
    });
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }), {
        abortSignal: AbortSignal.timeout(Math.max(1, deadline.remaining())),
      });
    } finally {
      client.destroy();
    }
    phase('user + bucket');
  } catch (err) {
    await stopAll();
    untrackDir(dir);
    const message = err instanceof Error ? err.message : String(err);
    const logsPart = err instanceof ErrorWithLogs ? '' : `\n${logTails(logs, ['mon.a', 'osd.0', 'client.rgw'])}`;
    throw new Error(`startCeph failed (dir kept: ${dir}): ${message}${logsPart}`);
  }

  return {
    endpoint,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    bucket,
    region: 'us-east-1',
    dir,
    logs,
    monPort,
    rgwPort,
    startup: { totalMs: Math.round(performance.now() - t0), phases },
    pids: () => ({ mon: livePid(mon), osd: livePid(osd), rgw: livePid(rgw) }),
    killOsd: () => terminate(osd, 'SIGKILL', 0),
    stopOsd: () => terminate(osd, 'SIGTERM', 20_000),
    pauseOsd: () => {
      if (osd !== null && running(osd)) osd.kill('SIGSTOP');
    },
    resumeOsd: () => {
      if (osd !== null && running(osd)) osd.kill('SIGCONT');
    },
    startOsd: async (timeoutMs = 60_000) => {
      if (stopped) throw new Error('startOsd: the cluster was stopped');
      if (running(osd)) throw new Error('startOsd: the OSD is already running');
      const from = fileSize(path.join(logs, 'osd.0.log'));
      startOsdProcess();
      await waitForOsdActive(new Deadline(timeoutMs, 'startOsd'), from);
    },
    killRgw: () => terminate(rgw, 'SIGKILL', 0),
    startRgw: async (timeoutMs = 60_000) => {
      if (stopped) throw new Error('startRgw: the cluster was stopped');
      if (running(rgw)) throw new Error('startRgw: radosgw is already running');
      startRgwProcess();
      await waitForS3(new Deadline(timeoutMs, 'startRgw'), 'startRgw');
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // SIGCONT first: a stopped process only dies of SIGKILL, but be explicit for clarity.
      if (osd !== null && running(osd)) osd.kill('SIGCONT');
      await stopAll();
      if (!opts.keep) {
        fs.rmSync(dir, { recursive: true, force: true });
        untrackDir(dir);
      }
    },
  };
}

function livePid(child: ChildProcess | null): number | undefined {
  return child !== null && running(child) ? child.pid : undefined;
}

function prepareDir(dir: string | undefined): string {
  let root: string;
  if (dir === undefined) {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-ceph-'));
  } else {
    root = path.resolve(dir);
    fs.mkdirSync(root, { recursive: true });
    if (fs.readdirSync(root).length > 0) throw new Error(`startCeph: dir ${root} is not empty`);
  }
  // Admin sockets are unix sockets: their path must fit in sun_path (107 bytes).
  if (path.join(root, 'run', 'client.rgw.4194304.asok').length > 107) {
    throw new Error(`startCeph: dir ${root} is too long for admin socket paths; use a shorter one`);
  }
  for (const sub of ['log', 'run', 'mon', 'osd', 'rgw']) fs.mkdirSync(path.join(root, sub));
  return root;
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, from: number): string {
  try {
    const size = fs.statSync(file).size;
    if (size <= from) return '';
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - from);
      fs.readSync(fd, buf, 0, buf.length, from);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

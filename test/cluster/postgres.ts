/**
 * A real PostgreSQL server for tests, started as a child process on a loopback port in a temp dir.
 *
 * `startPostgres()` runs `initdb` (as the `postgres` user when we are root: initdb and postgres refuse
 * to run as root) and then `postgres` itself, directly — not through `pg_ctl`, which daemonizes — so
 * the handle's `pid` is the real postmaster. `kill()` / `pause()` / `resume()` signal the postmaster
 * and every backend it forked: a paused server stops answering on connections that are already
 * open, and a killed one leaves no orphan backend holding its shared memory. Trust auth on
 * 127.0.0.1 only, `fsync=on`, `synchronous_commit=on`.
 *
 * The server dies with the test process: an `exit` hook kills every live server, and a small
 * watchdog shell (one per server, in its own session) kills the server's process group and removes
 * its temp dir once the test process is gone, even after a SIGKILL of the test process.
 *
 * A missing binary fails loudly with a message naming `bash scripts/cluster/install-deps.sh`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.ts';

export interface PgHandle {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth, no password). */
  readonly url: string;
  readonly port: number;
  /** The working dir: `data/` (PGDATA) and `postgres.log`. */
  readonly dir: string;
  /** The postmaster's pid; changes on `restart()`. */
  readonly pid: number;
  /** SIGKILL the postmaster and every backend and wait until all are gone. */
  kill(): Promise<void>;
  /** SIGSTOP the postmaster and every backend: connections stay open but nothing answers. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /**
   * Start the server again on the same dir and port and wait until it accepts connections. If it is
   * still running it is first shut down cleanly (resumed first if paused); after `kill()` this is a
   * crash restart (WAL recovery).
   */
  restart(): Promise<void>;
  /** Shut down (fast mode; SIGKILL after a deadline), stop the watchdog, remove a temp dir. */
  stop(): Promise<void>;
  /** The last lines of the server log. */
  logTail(lines?: number): string;
}

export interface StartPostgresOptions {
  /** Working dir (created if missing; kept on `stop()`). Default: a fresh temp dir, removed on `stop()`. */
  dir?: string;
  /** Loopback port. Default: a free one (retried if another process takes it first). */
  port?: number;
  /** Deadline for initdb and for the server to accept connections, in ms. Default 60 000. */
  timeoutMs?: number;
  /** Extra `-c name=value` settings. */
  settings?: Readonly<Record<string, string>>;
}

const INSTALL_HINT = 'run `bash scripts/cluster/install-deps.sh`';

/** The newest `/usr/lib/postgresql/N/bin` that has initdb and postgres, else a clear error. */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base)
    ? fs
        .readdirSync(base)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const bin = path.join(base, v, 'bin');
    if (fs.existsSync(path.join(bin, 'initdb')) && fs.existsSync(path.join(bin, 'postgres'))) return bin;
  }
  throw new Error(`PostgreSQL server binaries (initdb, postgres) not found under ${base}: ${INSTALL_HINT}`);
}

/** The uid/gid to run PostgreSQL as: `postgres` when we are root, else ourselves. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const f = line?.split(':');
  if (!f || f.length < 4) throw new Error(`running as root but there is no 'postgres' user: ${INSTALL_HINT}`);
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function chownTree(p: string, ids: { uid: number; gid: number }): void {
  fs.chownSync(p, ids.uid, ids.gid);
  if (!fs.statSync(p).isDirectory()) return;
  for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), ids);
}

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Pids whose parent is `ppid` (from /proc), zombies left out. */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (f[0] !== 'Z' && Number(f[1]) === ppid) out.push(Number(e));
  }
  return out;
}

/**
 * Signal the postmaster and every process it forked. Each backend makes itself the leader of its
 * own process group, so a signal to the postmaster's group would miss them. The postmaster is
 * stopped first so it forks nothing new while its children are listed.
 */
function signalServer(pid: number, sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): number[] {
  if (sig !== 'SIGCONT') signal(pid, 'SIGSTOP');
  const children = childrenOf(pid);
  for (const c of children) signal(c, sig);
  signal(pid, sig);
  return children;
}

/** True while `pid` exists and is not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Live servers, killed synchronously if the test process exits without stopping them. */
const live = new Map<number, { dir: string; removeDir: boolean }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [pgid, s] of live) {
      signalServer(pgid, 'SIGKILL');
      if (s.removeDir) fs.rmSync(s.dir, { recursive: true, force: true });
    }
  });
}

/** Run initdb and wait for it, with a deadline; errors carry its output. */
function initdb(bin: string, data: string, ids: { uid: number; gid: number } | null, timeoutMs: number) {
  const args = ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'];
  // initdb refuses root: as root, run it as `postgres` through runuser.
  const [cmd, argv] = ids
    ? ['runuser', ['-u', 'postgres', '--', path.join(bin, 'initdb'), ...args]]
    : [path.join(bin, 'initdb'), args];
  return new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: path.dirname(data) });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`initdb could not start (${e.message}): ${INSTALL_HINT}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`initdb failed (${code ?? signal}${signal ? `, deadline ${timeoutMs} ms` : ''}):\n${out}`));
    });
  });
}

/** One attempt to connect and run `select 1`; true when the server answers. */
async function answers(port: number): Promise<boolean> {
  const c = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 2000,
    query_timeout: 2000,
  });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * Start a PostgreSQL server for a test (see the file comment). Resolves once it accepts connections
 * on `url`; rejects with the log tail if it exits or is not ready within `timeoutMs`.
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PgHandle> {
  const bin = postgresBinDir();
  const ids = runAs();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const removeDir = opts.dir === undefined;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-pg-'));
  fs.mkdirSync(dir, { recursive: true });
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  if (ids) chownTree(dir, ids);
  try {
    if (!fs.existsSync(path.join(data, 'PG_VERSION'))) await initdb(bin, data, ids, timeoutMs);
  } catch (e) {
    if (removeDir) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  installExitHook();

  let port = opts.port ?? (await freePort());
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let paused = false;
  let restarted = false;

  const launch = async (): Promise<void> => {
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: dir,
      fsync: 'on',
      synchronous_commit: 'on',
      full_page_writes: 'on',
      max_connections: '200',
      shared_buffers: '16MB',
      logging_collector: 'off',
      log_min_messages: 'warning',
      ...opts.settings,
    };
    const args = ['-D', data];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    const logFd = fs.openSync(logFile, 'a');
    if (ids) fs.fchownSync(logFd, ids.uid, ids.gid);
    // detached: its own session, so a Ctrl-C meant for the test runner does not reach it first.
    const c = spawn(path.join(bin, 'postgres'), args, {
      cwd: dir,
      detached: true,
      stdio: ['ignore', logFd, logFd],
      ...(ids ?? {}),
    });
    fs.closeSync(logFd);
    const startErr = new Promise<Error>((r) => c.once('error', r));
    exited = new Promise<void>((r) => c.once('exit', () => r()));
    // The child is unref'd; a ref'd timer keeps the test process alive while we wait for its exit.
    let gone = false;
    void exited.then(() => {
      gone = true;
      if (c.pid !== undefined) live.delete(c.pid);
    });
    // Don't keep the test process alive for a server a test forgot to stop: the exit hook kills it.
    c.unref();
    child = c;
    paused = false;
    if (c.pid === undefined) throw new Error(`postgres could not start (${(await startErr).message}): ${INSTALL_HINT}`);
    live.set(c.pid, { dir, removeDir });
    const deadline = Date.now() + timeoutMs;
    while (!gone) {
      if (await answers(port)) return;
      if (Date.now() > deadline) {
        signalServer(c.pid, 'SIGKILL');
        await waitExited(10_000);
        throw new Error(`postgres on port ${port} not ready within ${timeoutMs} ms; log tail:\n${tail(logFile, 30)}`);
      }
      await sleep(100);
    }
    throw new Error(`postgres exited before it was ready (port ${port}); log tail:\n${tail(logFile, 30)}`);
  };

  /** Start, retrying when a port we picked ourselves was taken, or an old shm segment is still attached. */
  const startWithRetries = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const before = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
      try {
        await launch();
        return;
      } catch (e) {
        const log = fs.readFileSync(logFile, 'utf8').slice(before);
        const portTaken = /could not bind|Address already in use/.test(log);
        const shmBusy = /pre-existing shared memory block .* is still in use/.test(log);
        if (attempt >= 5 || !((portTaken && opts.port === undefined && !restarted) || shmBusy)) throw e;
        if (portTaken) port = await freePort();
        await sleep(200 * attempt);
      }
    }
  };
  /** Resolves true once the postmaster has exited, false after `ms`. */
  const waitExited = (ms: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
    return Promise.race([exited.then(() => true), timeout]).finally(() => clearTimeout(timer));
  };
  const pidOf = (): number => {
    const pid = child?.pid;
    if (pid === undefined) throw new Error('postgres is not running');
    return pid;
  };
  const isRunning = (): boolean => child?.pid !== undefined && child.exitCode === null && child.signalCode === null;

  /** SIGKILL the postmaster and its backends and wait until all of them are gone. */
  const killServer = async (): Promise<void> => {
    if (!isRunning()) return;
    const pid = pidOf();
    const children = signalServer(pid, 'SIGKILL');
    if (!(await waitExited(10_000))) throw new Error(`postgres ${pid} did not die within 10 s of SIGKILL`);
    // Wait (bounded) for the backends too, so a restart does not find their shared memory attached.
    const deadline = Date.now() + 10_000;
    while (children.some(running) && Date.now() < deadline) await sleep(20);
  };

  const stopClean = async (): Promise<void> => {
    if (!isRunning()) return;
    const pid = pidOf();
    if (paused) signalServer(pid, 'SIGCONT');
    paused = false;
    signal(pid, 'SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
    if (!(await waitExited(30_000))) await killServer();
  };

  try {
    await startWithRetries();
  } catch (e) {
    if (removeDir) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  // The watchdog: once the test process is gone, kill the server and its backends (the postmaster
  // pid is the first line of postmaster.pid, which changes across restarts; a stale file after
  // kill() is ignored unless that pid is a postgres process) and remove a temp dir.
  const script = [
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done',
    'p=$(head -n 1 "$2/data/postmaster.pid" 2>/dev/null)',
    'if [ -n "$p" ] && [ "$(cat /proc/$p/comm 2>/dev/null)" = postgres ]; then',
    '  kill -STOP "$p"; pkill -KILL -P "$p"; kill -KILL "$p"',
    'fi 2>/dev/null',
    'if [ "$3" = 1 ]; then sleep 1; rm -rf "$2"; fi',
  ].join('\n');
  const watchdog = spawn('sh', ['-c', script, 'arbor-pg-watchdog', String(process.pid), dir, removeDir ? '1' : '0'], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();

  let stopped = false;
  return {
    get url() {
      return `postgres://postgres@127.0.0.1:${port}/postgres`;
    },
    get port() {
      return port;
    },
    dir,
    get pid() {
      return pidOf();
    },
    kill: killServer,
    pause() {
      signalServer(pidOf(), 'SIGSTOP');
      paused = true;
    },
    resume() {
      signalServer(pidOf(), 'SIGCONT');
      paused = false;
    },
    async restart() {
      if (stopped) throw new Error('postgres handle was stopped');
      await stopClean();
      restarted = true;
      await startWithRetries();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopClean();
      if (watchdog.pid !== undefined && watchdog.exitCode === null) watchdog.kill('SIGKILL');
      if (removeDir) fs.rmSync(dir, { recursive: true, force: true });
    },
    logTail: (lines = 30) => tail(logFile, lines),
  };
}

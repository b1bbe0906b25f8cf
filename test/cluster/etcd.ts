// A real etcd cluster (Debian's etcd-server, v3.4) on loopback for cluster tests.
//
// Every member is a child process with its own data dir, client port and peer port. Children are
// started through `setpriv --pdeathsig SIGKILL`, so the kernel kills them if the test process dies
// (even by SIGKILL); a normal exit of the test process also kills them (process 'exit' hook).
// Every wait has a deadline; a failure names the member and ends with the tail of its log.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts } from './ports.ts';

const INSTALL_HINT = 'install it with `bash scripts/cluster/install-deps.sh` (Debian package etcd-server)';

export interface EtcdOptions {
  /** Number of members (default 3). */
  readonly members?: number;
  /** Parent folder for data dirs and logs; default a fresh temp dir, removed by `stop()`. */
  readonly dir?: string;
  /** Deadline for the cluster (or a restarted member) to become healthy, ms (default 30 000). */
  readonly readyTimeoutMs?: number;
  /** etcd binary (default `etcd` on PATH, or $ETCD_BIN). */
  readonly bin?: string;
}

export interface EtcdCluster {
  /** Client URLs, `http://127.0.0.1:PORT`, one per member, in member order. */
  readonly endpoints: readonly string[];
  /** The data/log folder. */
  readonly dir: string;
  /** SIGKILL member i and wait until it has exited. */
  kill(i: number): Promise<void>;
  /** Start member i again over the same data dir and ports; resolves when it is healthy. */
  restart(i: number): Promise<void>;
  /** SIGSTOP member i (it keeps its sockets but answers nothing). */
  pause(i: number): void;
  /** SIGCONT member i. */
  resume(i: number): void;
  /** The last `lines` lines of member i's log. */
  logTail(i: number, lines?: number): string;
  /** Kill every member and remove the folder if this module created it. */
  stop(): Promise<void>;
}

interface Member {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  child: ChildProcess | null;
  exited: Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  const text = readFileSync(file, 'utf8');
  return text
    .split('\n')
    .slice(-lines - 1)
    .join('\n');
}

/** Fails loudly (with the install command) when the etcd binary or setpriv is missing. */
function checkBinaries(bin: string): void {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`etcd binary '${bin}' not runnable (${r.error?.message ?? r.stderr}); ${INSTALL_HINT}`);
  }
  const s = spawnSync('setpriv', ['--help'], { encoding: 'utf8' });
  if (s.error !== undefined) throw new Error(`setpriv (util-linux) not found: ${s.error.message}`);
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: unknown };
    return res.ok && body.health === 'true';
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Start an etcd cluster of `members` (default 3) members on 127.0.0.1 and wait until every member
 * reports healthy (`GET /health` → `{"health":"true"}`: it has a leader and serves a quorum read).
 * Throws with the members' log tails if that does not happen within `readyTimeoutMs`.
 */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdCluster> {
  const n = options.members ?? 3;
  const bin = options.bin ?? process.env.ETCD_BIN ?? 'etcd';
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  checkBinaries(bin);
  installExitHook();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'arbor-etcd-'));
  mkdirSync(dir, { recursive: true });
  const ports = await freePorts(2 * n);
  const token = `arbor-test-${process.pid}-${Date.now().toString(36)}`;
  const members: Member[] = [];
  for (let i = 0; i < n; i++) {
    members.push({
      name: `m${i}`,
      clientPort: ports[2 * i]!,
      peerPort: ports[2 * i + 1]!,
      dataDir: path.join(dir, `m${i}.data`),
      logFile: path.join(dir, `m${i}.log`),
      child: null,
      exited: Promise.resolve(),
    });
  }
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
  const endpoints = members.map((m) => `http://127.0.0.1:${m.clientPort}`);

  const launch = (m: Member, state: 'new' | 'existing'): void => {
    const client = `http://127.0.0.1:${m.clientPort}`;
    const peer = `http://127.0.0.1:${m.peerPort}`;
    const args = [
      '--pdeathsig',
      'SIGKILL',
      '--',
      bin,
      '--name',
      m.name,
      '--data-dir',
      m.dataDir,
      '--listen-client-urls',
      client,
      '--advertise-client-urls',
      client,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      initialCluster,
      '--initial-cluster-state',
      state,
      '--initial-cluster-token',
      token,
      '--heartbeat-interval',
      '100',
      '--election-timeout',
      '1000',
      '--logger',
      'zap',
      '--log-outputs',
      'stderr',
    ];
    const fd = openSync(m.logFile, 'a');
    const child = spawn('setpriv', args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    live.add(child);
    m.child = child;
    m.exited = new Promise((resolve) => {
      child.once('exit', () => {
        live.delete(child);
        resolve();
      });
      child.once('error', () => {
        live.delete(child);
        resolve();
      });
    });
  };

  const waitHealthy = async (indices: readonly number[], what: string): Promise<void> => {
    const deadline = Date.now() + readyTimeoutMs;
    const pending = new Set(indices);
    while (pending.size > 0) {
      for (const i of [...pending]) {
        const m = members[i]!;
        if (m.child === null || m.child.exitCode !== null || m.child.signalCode !== null) {
          throw new Error(
            `etcd ${what}: member ${m.name} exited (${m.child?.exitCode ?? m.child?.signalCode}); log tail:\n${tail(m.logFile, 30)}`,
          );
        }
        if (await healthy(endpoints[i]!)) pending.delete(i);
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline) {
        const logs = [...pending].map(
          (i) => `--- ${members[i]!.name} (${endpoints[i]}) ---\n${tail(members[i]!.logFile, 30)}`,
        );
        throw new Error(`etcd ${what}: not healthy within ${readyTimeoutMs} ms\n${logs.join('\n')}`);
      }
      await sleep(100);
    }
  };

  const killMember = async (m: Member): Promise<void> => {
    const c = m.child;
    if (c === null) return;
    // SIGKILL also ends a SIGSTOPped process.
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await m.exited;
    m.child = null;
  };

  const stopAll = async (): Promise<void> => {
    await Promise.all(members.map(killMember));
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  for (const m of members) launch(m, 'new');
  try {
    await waitHealthy(
      members.map((_, i) => i),
      'start',
    );
  } catch (e) {
    await stopAll();
    throw e;
  }

  const member = (i: number): Member => {
    const m = members[i];
    if (m === undefined) throw new RangeError(`etcd: no member ${i} (cluster has ${n})`);
    return m;
  };
  const signal = (i: number, sig: NodeJS.Signals): void => {
    const c = member(i).child;
    if (c === null || c.exitCode !== null || c.signalCode !== null) throw new Error(`etcd: member ${i} is not running`);
    c.kill(sig);
  };

  return {
    endpoints,
    dir,
    async kill(i) {
      await killMember(member(i));
    },
    async restart(i) {
      const m = member(i);
      await killMember(m);
      launch(m, 'existing');
      await waitHealthy([i], `restart of member ${i}`);
    },
    pause: (i) => signal(i, 'SIGSTOP'),
    resume: (i) => signal(i, 'SIGCONT'),
    logTail: (i, lines = 30) => tail(member(i).logFile, lines),
    stop: stopAll,
  };
}

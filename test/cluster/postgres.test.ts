import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { type PgHandle, startPostgres } from './postgres.ts';

let h: PgHandle;
before(async () => {
  h = await startPostgres();
});
after(async () => {
  await h?.stop();
});

async function query(url: string, sql: string, timeoutMs = 5000): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  c.on('error', () => {});
  try {
    await c.connect();
    return await c.query(sql);
  } finally {
    await c.end().catch(() => {});
  }
}

/** True while `pid` exists and is not a zombie (read from /proc, independently of postgres.ts). */
function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of every process whose parent is `ppid`. */
function childPids(ppid: number): number[] {
  return execFileSync('pgrep', ['-P', String(ppid)], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(Number);
}

test('the server accepts trust connections on its loopback url and runs with fsync on', async () => {
  assert.match(h.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  const r = await query(h.url, 'show fsync');
  assert.equal(r.rows[0].fsync, 'on');
  const who = await query(h.url, 'select current_user as u, inet_server_addr()::text as a');
  assert.equal(who.rows[0].u, 'postgres');
  assert.match(who.rows[0].a, /^127\.0\.0\.1/);
  // The handle's pid is the real postmaster, not a wrapper.
  assert.equal(fs.readFileSync(path.join(h.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0], String(h.pid));
});

test('a paused server does not answer on an open connection, and answers again after resume', async () => {
  const c = new pg.Client({ connectionString: h.url, query_timeout: 1500 });
  c.on('error', () => {});
  await c.connect();
  try {
    assert.equal((await c.query('select 1 as x')).rows[0].x, 1);
    h.pause();
    const t0 = Date.now();
    await assert.rejects(c.query('select 2 as x'), /timeout/i);
    assert.ok(Date.now() - t0 >= 1000);
    await assert.rejects(query(h.url, 'select 1', 1000));
    h.resume();
    assert.equal((await query(h.url, 'select 3 as x')).rows[0].x, 3);
  } finally {
    h.resume();
    await c.end().catch(() => {});
  }
});

test('a killed server refuses connections, and after restart keeps every committed row on the same url', async () => {
  const url = h.url;
  await query(url, 'create table if not exists kept (n int)');
  await query(url, 'insert into kept select generate_series(1, 1000)');
  const oldPid = h.pid;
  const backends = childPids(oldPid);
  assert.ok(backends.length >= 3, `expected checkpointer, walwriter, ... under ${oldPid}`);
  await h.kill();
  assert.equal(isAlive(oldPid), false, 'the postmaster is gone');
  assert.deepEqual(backends.filter(isAlive), [], 'no backend of the killed server is left');
  await assert.rejects(query(url, 'select 1', 1000), /ECONNREFUSED/);
  await h.restart();
  assert.equal(h.url, url);
  assert.notEqual(h.pid, oldPid);
  const r = await query(url, 'select count(*)::int as n, sum(n)::int as s from kept');
  assert.deepEqual(r.rows[0], { n: 1000, s: 500500 });
});

test('restart of a running server shuts it down cleanly and starts it again', async () => {
  const oldPid = h.pid;
  await h.restart();
  assert.notEqual(h.pid, oldPid);
  assert.equal(isAlive(oldPid), false);
  assert.equal((await query(h.url, 'select count(*)::int as n from kept')).rows[0].n, 1000);
});

test('stop removes the temp dir and leaves no server process', async () => {
  const other = await startPostgres();
  const pid = other.pid;
  const dir = other.dir;
  await other.stop();
  assert.equal(isAlive(pid), false);
  assert.equal(fs.existsSync(dir), false);
});

test('a server whose test process is SIGKILLed is killed by its watchdog and its temp dir removed', async () => {
  const script = `
    import { startPostgres } from ${JSON.stringify(path.join(import.meta.dirname, 'postgres.ts'))};
    const h = await startPostgres();
    process.stdout.write(JSON.stringify({ pid: h.pid, dir: h.dir }) + '\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const info = await new Promise<{ pid: number; dir: string }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as { pid: number; dir: string });
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before starting postgres`)));
  });
  assert.equal(isAlive(info.pid), true);
  child.kill('SIGKILL');
  const deadline = Date.now() + 15_000;
  while ((isAlive(info.pid) || fs.existsSync(info.dir)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(isAlive(info.pid), false, 'server still running after its test process died');
  assert.equal(fs.existsSync(info.dir), false, 'temp dir still there after its test process died');
});

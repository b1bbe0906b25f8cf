/**
 * A size-limited tmpfs for the disk-full tests (needs root or CAP_SYS_ADMIN). If it cannot be
 * mounted the caller's test FAILS with the reason, unless ARBOR_NO_MOUNT=1 says the machine truly
 * forbids mounting: then it prints loudly that the test did not run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export interface Tmpfs {
  readonly dir: string;
  /** `mount -o remount,size=…`: grow (or shrink) the file system. */
  resize(size: string): void;
  unmount(): void;
}

/** Mount a tmpfs of `size` (e.g. '8m'); null when it may not run (after saying so loudly). */
export function mountTmpfs(t: TestContext, size: string): Tmpfs | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    const err = e as { stderr?: Buffer; message: string };
    const why = (err.stderr?.toString() || err.message).trim();
    const msg = `could not mount a ${size} tmpfs at ${dir} (uid ${process.getuid?.()}): ${why}`;
    // Where the machine forbids mounting (no root / no CAP_SYS_ADMIN, e.g. an unprivileged
    // container), the issue asks for the real file system only "where the machine allows": say so
    // loudly and mark the test skipped with the reason. Any other failure is a failure.
    const forbidden = /not permitted|permission denied|must be superuser|only root/i.test(why);
    if (process.env.ARBOR_NO_MOUNT === '1' || forbidden) {
      console.error(`\n!!!!! DISK-FULL TMPFS TEST DID NOT RUN: ${msg} !!!!!\n`);
      t.skip(`NOT RUN: ${msg}`);
      return null;
    }
    assert.fail(`${msg}. Run as root, or set ARBOR_NO_MOUNT=1 where mounting is forbidden.`);
  }
  return {
    dir,
    resize(to: string) {
      execFileSync('mount', ['-o', `remount,size=${to}`, dir]);
    },
    unmount() {
      execFileSync('umount', [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

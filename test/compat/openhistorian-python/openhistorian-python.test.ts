/**
 * The unmodified openhistorian Python client (GridProtectionAlliance/openhistorian-python 1.0.6)
 * against a real `arbor serve --snapdb`: runs run.sh, which prepares the client (setup.sh: Debian
 * python3 + python3-numpy, the client's source from the local git mirror or
 * OPENHISTORIAN_PYTHON_DIR), starts its own server on a free port with a temporary data
 * directory, runs seed_usage.py (the client's documented operations, checked against answers
 * computed in Python) and stops the server with SIGTERM.
 *
 * Never skipped: without python3, numpy or the client's source this test FAILS and says how to
 * get them.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const here = import.meta.dirname;
const python = process.env.PYTHON ?? '/usr/bin/python3';

/** Where the client's source is: OPENHISTORIAN_PYTHON_DIR, else the git mirror on this machine. */
export function openhistorianClientSource(): string | undefined {
  const dir = process.env.OPENHISTORIAN_PYTHON_DIR;
  if (dir !== undefined && dir !== '') return fs.existsSync(dir) ? dir : undefined;
  const root = '/work/.mirror';
  const mirrors = fs.existsSync(root) ? fs.readdirSync(root) : [];
  const m = mirrors.find((d) => d.startsWith('GridProtectionAlliance+openhistorian-python'));
  return m === undefined ? undefined : path.join(root, m);
}

test(
  'the unmodified openhistorian Python client performs its documented operations against arbor serve --snapdb',
  { timeout: 600_000 },
  async () => {
    assert.ok(
      fs.existsSync(python),
      `${python} is missing: install Debian's python3 and python3-numpy (apt-get install python3 python3-numpy), or set PYTHON`,
    );
    const numpy = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' });
    assert.equal(numpy.status, 0, `${python} cannot import numpy: apt-get install python3-numpy\n${numpy.stderr}`);
    assert.ok(
      openhistorianClientSource() !== undefined,
      'the openhistorian-python client source is missing. Get it and point OPENHISTORIAN_PYTHON_DIR at it:\n' +
        '  git clone https://github.com/GridProtectionAlliance/openhistorian-python /tmp/openhistorian-python\n' +
        '  export OPENHISTORIAN_PYTHON_DIR=/tmp/openhistorian-python',
    );
    const env = { ...process.env };
    delete env.ARBOR_SNAPDB_ENDPOINT; // run.sh starts its own server
    delete env.ARBOR_COMPAT_BENCH_ONLY;
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('bash', [path.join(here, 'run.sh')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('exit', (c) => resolve({ code: c, output }));
    });
    assert.equal(code, 0, `run.sh exited ${code}\n${output.slice(-6000)}`);
    assert.match(output, /seed_usage: 14 passed, 0 failed/);
    assert.doesNotMatch(output, /^FAIL /m);
    process.stdout.write(
      `${output
        .split('\n')
        .filter((l) => /^(PASS|FAIL)|seed_usage|run\.sh|setup\.sh/.test(l))
        .join('\n')}\n`,
    );
  },
);

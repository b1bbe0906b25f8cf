/**
 * The official Python client (btrdb-python 5.34.2, unmodified) against a real `arbor serve`:
 * runs test/compat/btrdb-python/run.sh, which prepares the client (setup.sh), starts its own
 * server on a free port with a temporary data directory and an API key, runs the client's
 * integration tests (all 53 cases when a real pyarrow could be installed from local wheels, else
 * the 11 that need none) and seed_usage.py, then stops the server with SIGTERM.
 *
 * Never skipped: without /usr/bin/python3 or the client's source this test FAILS and says how to
 * get them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const here = path.join(import.meta.dirname, 'btrdb-python');
const python = process.env.PYTHON ?? '/usr/bin/python3';

function clientSource(): string | undefined {
  const dir = process.env.BTRDB_PYTHON_DIR;
  if (dir !== undefined && dir !== '') return fs.existsSync(dir) ? dir : undefined;
  const mirrors = fs.existsSync('/work/.mirror') ? fs.readdirSync('/work/.mirror') : [];
  const m = mirrors.find((d) => d.startsWith('PingThingsIO+btrdb-python'));
  return m === undefined ? undefined : path.join('/work/.mirror', m);
}

test(
  'the unmodified btrdb-python client passes its integration tests and the documented usage',
  {
    timeout: 900_000,
  },
  async () => {
    assert.ok(
      fs.existsSync(python),
      `${python} is missing: install Debian's python3 (apt-get install python3), or set PYTHON to an interpreter that sees python3-grpcio, python3-pandas, python3-pytest, python3-yaml`,
    );
    assert.ok(
      clientSource() !== undefined,
      'the btrdb-python source is missing. Get it and point BTRDB_PYTHON_DIR at it:\n' +
        '  git clone --branch v5.34.2 https://github.com/PingThingsIO/btrdb-python /tmp/btrdb-python\n' +
        '  export BTRDB_PYTHON_DIR=/tmp/btrdb-python',
    );
    const env = { ...process.env };
    delete env.ARBOR_ENDPOINT; // run.sh starts its own server
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('bash', [path.join(here, 'run.sh'), '-q'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('exit', (c) => resolve({ code: c, output }));
    });
    const summary = output
      .split('\n')
      .filter((l) => /^(PASSED|XPASS|FAILED|ERROR)|\d+ passed|seed_usage|run\.sh|setup\.sh/.test(l));
    assert.equal(code, 0, `run.sh exited ${code}\n${output.slice(-6000)}`);
    assert.match(output, /seed_usage: \d+ passed, 0 failed/);
    assert.match(output, /\d+ passed/);
    assert.doesNotMatch(output, /\b[1-9]\d* (failed|errors?)\b/);
    process.stdout.write(`${summary.join('\n')}\n`);
  },
);

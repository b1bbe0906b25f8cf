/**
 * `npm start` ends in `arbor serve`, which tells the user where the web plotter is. The URL it
 * prints must be one a browser can open: the plotter's page, not an API error or a wildcard
 * address.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServe } from './spawn-serve.ts';

/** The <title> of the plotter, read from the page the server is meant to serve. */
function plotterTitle(): string {
  const html = fs.readFileSync(path.resolve(import.meta.dirname, '..', '..', 'web', 'index.html'), 'utf8');
  const m = /<title>([^<]+)<\/title>/.exec(html);
  assert.ok(m, 'web/index.html has a title');
  return m[1]!;
}

test('arbor serve prints a URL that opens the web plotter', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-serve-url-'));
  const s = await startServe(['--data', dir, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0']);
  try {
    // The URL line follows the ready line; it may arrive in a later chunk of output.
    let m: RegExpExecArray | null = null;
    for (let i = 0; i < 600 && m === null; i++) {
      m = /arbor serve: open (http:\/\/\S+) for the web plotter/.exec(s.stdout());
      if (m === null) await sleep(50);
    }
    assert.ok(m, `a URL line is printed\nstdout: ${s.stdout()}\nstderr: ${s.stderr()}`);
    const url = new URL(m[1]!);
    assert.equal(url.pathname, '/');
    assert.notEqual(url.port, '0', 'the URL names the port actually bound');
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const page = await res.text();
    assert.ok(page.includes(`<title>${plotterTitle()}</title>`), 'the page is the plotter');
  } finally {
    assert.equal(await s.stop(), 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * `arbor serve`: serve a database over the BTrDB v5 gRPC protocol. Flags, environment and
 * defaults: src/server/serve/serve-config.ts (and `arbor serve --help`); startup and graceful
 * shutdown: src/server/serve/run-server.ts. This file only wires them to the process: argv, env,
 * stdout/stderr, signals and the exit code (0 after a clean shutdown, 1 when the port is taken or
 * the data directory is locked, 2 for a bad command line).
 */
import fs from 'node:fs';
import { runClusterServer } from '../server/serve/run-cluster.ts';
import { runServer, ServeError } from '../server/serve/run-server.ts';
import { parseServeConfig, SERVE_HELP, UsageError } from '../server/serve/serve-config.ts';

export async function serveCommand(argv: string[]): Promise<void> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  let cfg: ReturnType<typeof parseServeConfig>;
  try {
    cfg = parseServeConfig(argv, process.env, (f) => fs.readFileSync(f, 'utf8'));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`arbor serve: ${e.message} (see arbor serve --help)`);
    process.exitCode = 2;
    return;
  }
  if (cfg.help) {
    out(SERVE_HELP);
    return;
  }
  let running: Awaited<ReturnType<typeof runServer>>;
  try {
    running =
      cfg.cluster === null
        ? await runServer(cfg, { out, err })
        : await runClusterServer(cfg, cfg.cluster, { out, err });
  } catch (e) {
    const msg = e instanceof ServeError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
    err(`arbor serve: error: ${msg}`);
    process.exitCode = 1;
    return;
  }
  const mode = cfg.tlsCert === null ? '' : ' tls';
  const where =
    cfg.cluster !== null ? `cluster ${cfg.cluster.name} node ${cfg.cluster.nodeId}` : (cfg.data ?? ':memory:');
  const auth = running.auth;
  const keys = auth.open
    ? 'none (open server)'
    : `${auth.plainKeyCount} plain + ${auth.fileKeyCount} in ${cfg.keysFile ?? '(no keys file)'}`;
  err(`arbor serve: data=${where} api-keys=${keys}`);
  // SIGHUP: re-read the keys file now (it is also re-read on its own when it changes).
  process.on('SIGHUP', () => {
    auth.reload();
    err(`arbor serve: SIGHUP: keys file re-read (${auth.fileKeyCount} keys)`);
  });
  const snapdb = running.snapdb === null ? '' : ` snapdb=${running.snapdb.address}`;
  out(`arbor serve: ready grpc=${running.grpc.address} http=${running.http.address}${snapdb}${mode}`);
  out(`arbor serve: open http://${running.http.address}/ for the web plotter`);

  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        err(`arbor serve: ${sig} again: exiting without waiting`);
        process.exit(1);
      }
      err(`arbor serve: ${sig}: shutting down (finishing calls for up to ${cfg.graceMs} ms)`);
      running.stop().then(
        () => {
          err('arbor serve: stopped');
          resolve();
        },
        (e: unknown) => {
          err(`arbor serve: error during shutdown: ${e instanceof Error ? e.message : String(e)}`);
          process.exitCode = 1;
          resolve();
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  // grpc-js and the catalog may keep handles open for a moment; the work is done.
  process.exit(process.exitCode ?? 0);
}

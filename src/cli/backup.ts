/**
 * `arbor backup DIR` — a consistent backup of a running server (over its HTTP admin endpoint) or
 * of a data directory not in use (docs/adr/0005-backup.md, layout docs/format/backup.md).
 */
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { DbError, ERROR_CODES, type ErrorCode } from '../core/errors.ts';
import { type BackupReport, backupDatabase } from '../db/backup.ts';
import { openDatabase } from '../db/database.ts';
import { dataDir, flag, has, parseArgs } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `arbor backup — a consistent backup, also while the server is ingesting

Usage: arbor backup DIR --server URL [--api-key KEY]     (a running server)
       arbor backup DIR [--data SRC]                     (a data directory not in use)

Every write acknowledged before the backup starts is in it; writes go on meanwhile. Every
stream's retained versions, its metadata and the obliterated uuids are kept. DIR must be new or
empty; it is complete only once its BACKUP file exists (written last, with the SHA-256 of every
file). Restore it with "arbor restore DIR DATADIR".

  --server URL      the server's HTTP API (e.g. http://127.0.0.1:9000; env ARBOR_SERVER). The
                    SERVER writes DIR on its own machine (DIR is made absolute here first), so
                    the server's user must be able to create it.
  --api-key KEY     a key with role admin, when the server has keys (env ARBOR_API_KEY)
  --data SRC        back up this data directory instead (env ARBOR_DATA, default ./data); it
                    must not be in use (stop the server, or use --server)
  --quiet           no progress lines
  --json            print the report as JSON

Examples:
  arbor backup /backups/2026-11-23 --server http://127.0.0.1:9000 --api-key "$ADMIN_KEY"
  arbor backup /backups/offline --data /var/lib/arbordb
`;

const MiB = 1024 * 1024;
const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

/**
 * Progress on stderr for a byte-counting job: a line at each phase change and, within a phase,
 * one every 2 s (redrawn in place on a terminal).
 */
export function phaseProgress(
  command: string,
  enabled: boolean,
): { update(p: { phase: string; done: number; total: number }): void; finish(): void } {
  const tty = process.stderr.isTTY === true;
  let phase = '';
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      if (!enabled) return;
      const now = Date.now();
      if (p.phase === phase && now - last < 2000) return;
      const changed = p.phase !== phase;
      phase = p.phase;
      last = now;
      const pct = p.total > 0 ? ` ${((100 * p.done) / p.total).toFixed(1)}% (${mib(p.done)} of ${mib(p.total)})` : '';
      const text = `arbor ${command}: ${p.phase}${pct}`;
      if (tty) {
        process.stderr.write(`${changed && drawn ? '\n' : '\r'}${text}\x1b[K`);
        drawn = true;
      } else process.stderr.write(`${text}\n`);
    },
    finish() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

export async function backupCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    server: { type: 'string' },
    'api-key': { type: 'string' },
    data: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (has(p, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  if (p.positional.length !== 1) throw new UsageError('give exactly one backup directory (see --help)');
  const dir = path.resolve(p.positional[0]!);
  const server = flag(p, 'server') ?? (flag(p, 'data') === undefined ? process.env.ARBOR_SERVER : undefined);
  if (server !== undefined && flag(p, 'data') !== undefined) throw new UsageError('give --server or --data, not both');
  const progress = phaseProgress('backup', !has(p, 'quiet'));
  let report: BackupReport;
  try {
    if (server !== undefined) {
      report = await remoteBackup(server, flag(p, 'api-key') ?? process.env.ARBOR_API_KEY, dir, (x) =>
        progress.update(x),
      );
    } else {
      const src = dataDir(p);
      let db: Awaited<ReturnType<typeof openDatabase>>;
      try {
        db = await openDatabase(src, { background: false });
      } catch (e) {
        if (e instanceof DbError && e.code === 453) {
          throw new DbError(453, `${e.message}; to back up a running server use --server URL`);
        }
        throw e;
      }
      try {
        report = await backupDatabase(db, dir, { onProgress: (x) => progress.update(x) });
      } finally {
        await db.close();
      }
    }
  } finally {
    progress.finish();
  }
  if (has(p, 'json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(
      `backup ${report.dir}: ${report.streams} streams, ${report.versions} versions, ${report.files} files, ` +
        `${mib(report.bytes)} in ${(report.ms / 1000).toFixed(1)} s (every write acknowledged before ${report.startedAt})\n`,
    );
  }
}

/** A DbError from an HTTP error body `{"error":{code,name,message}}` (or a plain one). */
function errorFrom(status: number, text: string): Error {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; name?: unknown; message?: unknown } };
    const code = body.error?.code;
    const msg = typeof body.error?.message === 'string' ? body.error.message : text;
    // HTTP's own errors (401 Unauthorized, 403 Forbidden …) carry the HTTP status as code.
    if (typeof code === 'number' && ERROR_CODES[code as ErrorCode] === body.error?.name) {
      return new DbError(code as ErrorCode, msg);
    }
    return new Error(`HTTP ${status} ${String(body.error?.name ?? '')}: ${msg}`);
  } catch {
    return new Error(`HTTP ${status}: ${text.slice(0, 500)}`);
  }
}

/**
 * POST /api/admin/backup and follow its NDJSON answer. node:http rather than fetch: a backup may
 * take longer than fetch's default 5-minute header/body timeouts.
 */
export function remoteBackup(
  server: string,
  apiKey: string | undefined,
  dir: string,
  onProgress: (p: { phase: string; done: number; total: number }) => void,
): Promise<BackupReport> {
  let url: URL;
  try {
    url = new URL('/api/admin/backup', server);
  } catch {
    throw new UsageError(`--server must be a URL such as http://127.0.0.1:9000, got ${JSON.stringify(server)}`);
  }
  const body = JSON.stringify({ dir });
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<BackupReport>((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
        },
      },
      (res) => {
        res.setEncoding('utf8');
        let buf = '';
        let result: BackupReport | null = null;
        let failure: Error | null = null;
        res.on('data', (chunk: string) => {
          buf += chunk;
          if (res.statusCode !== 200) return;
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const text = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (text.trim() === '') continue;
            let msg: Record<string, unknown>;
            try {
              msg = JSON.parse(text) as Record<string, unknown>;
            } catch {
              failure = new Error(`the server answered a line that is not JSON: ${text.slice(0, 200)}`);
              continue;
            }
            if (msg.done === true) result = msg.backup as BackupReport;
            else if (msg.error !== undefined) failure = errorFrom(500, text);
            else if (typeof msg.phase === 'string') {
              onProgress({ phase: msg.phase, done: Number(msg.done ?? 0), total: Number(msg.total ?? 0) });
            }
          }
        });
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode !== 200) reject(errorFrom(res.statusCode ?? 0, buf));
          else if (failure) reject(failure);
          else if (result) resolve(result);
          else reject(new Error(`the server ended the answer without a result (${server})`));
        });
      },
    );
    req.on('error', (e) => reject(new Error(`cannot reach ${url.origin}: ${e.message}`)));
    req.end(body);
  });
}

/**
 * `arbor archive` — export a collection and time range as a standalone archive, import one, show
 * one, and attach archives read-only to a running server (docs/format/archive.md).
 */
import { formatIso } from '../client/index.ts';
import { DbError } from '../core/errors.ts';
import { MAX_TIME, MIN_TIME } from '../core/time.ts';
import { exportArchive, importArchive, readArchiveManifest } from '../db/archive.ts';
import { flag, has, type Parsed, parseArgs, timeFlag } from './args.ts';
import { UsageError } from './main.ts';
import { Progress } from './progress.ts';
import { TARGET_HELP, withBackend } from './target.ts';

const HELP = `arbor archive — archives: export, import, show, attach read-only

An archive is a standalone ArborDB data directory holding a selection of streams and a time range,
plus ARCHIVE.json describing it (written last: a directory without it is an interrupted export).
Archives move data between an edge recorder and a central server, keep old data off the live
directory, and can be attached to a running server read-only, queried alongside live data.

Usage:
  arbor archive export OUT [--collection C] [--start T] [--end T] [--data DIR | --server HOST:PORT]
  arbor archive import DIR [--data DIR | --server HOST:PORT]
  arbor archive show DIR
  arbor archive attach DIR [--name NAME] --server URL      (a running server's HTTP API, admin key)
  arbor archive detach NAME --server URL
  arbor archive list --server URL

export   copies every stream of collection C (and its sub-collections; default: all) with its
         metadata and its points in [start, end) (integer ns or ISO-8601; default: everything)
         into the new or empty directory OUT.
import   copies an archive's points into the database: streams are matched by uuid and created
         with the archive's metadata when missing; points are merged with the replace policy, so
         importing again, or after an interrupted import, leaves exactly one copy. This is how a
         central server backfills a gap from an edge recorder's archive.
show     prints ARCHIVE.json: what an archive holds.
attach   serves DIR's streams read-only next to the live ones until detached or restarted
         (\`arbor serve --attach DIR\` attaches at start). A uuid that exists live is served live.

Options:
${TARGET_HELP}
  --api-key KEY       the server's key (env ARBOR_API_KEY)
  --server URL        for attach/detach/list: the server's HTTP API (e.g. http://127.0.0.1:9000)
  --quiet             no progress output

Examples:
  arbor archive export /archives/2026-11 --collection pmu --start 2026-11-01 --end 2026-12-01
  arbor archive import /archives/2026-11 --server 127.0.0.1:4410
  arbor archive attach /archives/2026-11 --server http://127.0.0.1:9000
`;

export async function archiveCommand(argv: string[]): Promise<void> {
  const p = parseArgs(argv, {
    data: { type: 'string' },
    server: { type: 'string' },
    'api-key': { type: 'string' },
    collection: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    name: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
  });
  const [sub, arg, ...rest] = p.positional;
  if (has(p, 'help') || sub === undefined) {
    process.stdout.write(HELP);
    return;
  }
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const quiet = has(p, 'quiet');
  switch (sub) {
    case 'export':
      return exportSub(p, need(arg, 'OUT'), quiet);
    case 'import':
      return importSub(p, need(arg, 'DIR'), quiet);
    case 'show':
      process.stdout.write(`${JSON.stringify(readArchiveManifest(need(arg, 'DIR')), null, 2)}\n`);
      return;
    case 'attach':
      return admin(p, 'POST', '', {
        dir: need(arg, 'DIR'),
        ...(flag(p, 'name') === undefined ? {} : { name: flag(p, 'name') }),
      });
    case 'detach':
      return admin(p, 'DELETE', `/${encodeURIComponent(need(arg, 'NAME'))}`, undefined);
    case 'list':
      return admin(p, 'GET', '', undefined);
    default:
      throw new UsageError(
        `unknown archive command ${JSON.stringify(sub)}: export, import, show, attach, detach or list`,
      );
  }
}

function need(v: string | undefined, what: string): string {
  if (v === undefined) throw new UsageError(`give ${what} (see arbor archive --help)`);
  return v;
}

async function exportSub(p: Parsed, out: string, quiet: boolean): Promise<void> {
  const start = timeFlag(p, 'start') ?? MIN_TIME;
  const end = timeFlag(p, 'end') ?? MAX_TIME;
  if (start >= end) throw new UsageError('--start must be before --end');
  const collection = flag(p, 'collection') ?? '';
  const progress = new Progress({ label: `export ${out}`, enabled: !quiet });
  const m = await withBackend(p, (b, name) =>
    exportArchive(b, out, { collection, start, end }, name, (x) => progress.update(x.streamsDone, x.points)),
  ).finally(() => progress.finish());
  const span = m.streams.filter((s) => s.first !== null);
  const first = span.reduce<bigint | null>((a, s) => (a === null || BigInt(s.first!) < a ? BigInt(s.first!) : a), null);
  const last = span.reduce<bigint | null>((a, s) => (a === null || BigInt(s.last!) > a ? BigInt(s.last!) : a), null);
  process.stdout.write(
    `archived ${m.streams.length} streams, ${m.points} points` +
      (first === null || last === null ? '' : ` from ${formatIso(first)} to ${formatIso(last)}`) +
      ` into ${out}\n`,
  );
}

async function importSub(p: Parsed, dir: string, quiet: boolean): Promise<void> {
  const manifest = readArchiveManifest(dir);
  const progress = new Progress({ label: `import ${dir}`, total: manifest.streams.length, enabled: !quiet });
  const r = await withBackend(p, (b) => importArchive(dir, b, (x) => progress.update(x.streamsDone, x.points))).finally(
    () => progress.finish(),
  );
  process.stdout.write(`imported ${r.points} points into ${r.streams} streams (${r.created} created) from ${dir}\n`);
}

/** One call to the server's /api/admin/archives; prints its JSON answer. */
async function admin(p: Parsed, method: string, suffix: string, body: unknown): Promise<void> {
  const server = flag(p, 'server') ?? process.env.ARBOR_SERVER;
  if (server === undefined)
    throw new UsageError('give --server URL: the running server’s HTTP API, e.g. http://127.0.0.1:9000');
  let url: URL;
  try {
    url = new URL(`/api/admin/archives${suffix}`, server);
  } catch {
    throw new UsageError(`--server must be a URL such as http://127.0.0.1:9000, got ${JSON.stringify(server)}`);
  }
  const apiKey = flag(p, 'api-key') ?? process.env.ARBOR_API_KEY;
  const res = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).catch((e: unknown) => {
    throw new DbError(500, `cannot reach ${url.origin}: ${e instanceof Error ? e.message : String(e)}`);
  });
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      const j = JSON.parse(text) as { error?: { message?: string } };
      message = j.error?.message ?? text;
    } catch {
      // not JSON: the text itself
    }
    throw new UsageError(`${url.origin} answered ${method} ${url.pathname} with ${res.status}: ${message}`);
  }
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * Admin endpoints (role admin, service/roles.ts): `POST /api/admin/backup` writes a consistent
 * online backup of the served database into a directory ON THE SERVER's file system
 * (docs/adr/0005-backup.md). Ingest and queries go on meanwhile.
 *
 * The answer is NDJSON so a long backup keeps the connection busy and shows progress:
 *   {"phase":"blocks","done":…,"total":…}   (at most twice a second, and at each phase change)
 *   {"done":true,"backup":{…report…}}        last line on success
 *   {"error":{"code":…,"name":…,"message":…}} last line on a failure after the answer started
 * Failures found before anything is written (bad or non-empty directory, in-memory database) are
 * plain HTTP errors (400, 501 …) with the usual JSON body.
 */
import path from 'node:path';
import { DbError } from '../../core/errors.ts';
import { AttachedBackend } from '../../db/attached-backend.ts';
import type { Backend } from '../../db/backend.ts';
import { type BackupProgress, backupDatabase } from '../../db/backup.ts';
import { Database } from '../../db/database.ts';
import { jsonBody } from './body.ts';
import { httpErrorOf } from './errors.ts';
import { stringParam } from './params.ts';
import { type AnyRoute, defineRoute } from './route.ts';
import { object, optional, str } from './shapes.ts';
import { sendJson } from './tables.ts';

const backupBody = object({
  dir: str({
    maxLength: 4096,
    description: 'absolute path of a new or empty directory on the server, outside the data directory',
  }),
});

const backup = defineRoute({
  method: 'POST',
  path: '/api/admin/backup',
  operationId: 'backup',
  summary: 'Write a consistent online backup to a directory on the server',
  description:
    'Every write acknowledged before the request is in the backup. Restore it with `arbor restore`. ' +
    'The answer is NDJSON: progress lines, then {"done":true,"backup":{…}} or {"error":{…}}.',
  tag: 'admin',
  params: {},
  body: jsonBody(backupBody, 'where to write the backup'),
  responses: {
    '200': {
      description: 'progress lines, then the report (or an error line)',
      content: { 'application/x-ndjson': { type: 'object' } },
    },
  },
  async handle({ body, res, app }) {
    const db = liveOf(app.backend);
    if (!(db instanceof Database)) throw new DbError(501, 'this server cannot make backups (no embedded database)');
    if (!path.isAbsolute(body.dir)) {
      throw new DbError(438, `dir must be an absolute path on the server, got ${JSON.stringify(body.dir)}`);
    }
    let started = false;
    let lastPhase = '';
    let lastAt = 0;
    const line = (obj: unknown): void => {
      if (!started) {
        res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
        started = true;
      }
      res.write(`${JSON.stringify(obj)}\n`);
    };
    const onProgress = (p: BackupProgress): void => {
      const now = Date.now();
      if (p.phase === lastPhase && now - lastAt < 500) return;
      lastPhase = p.phase;
      lastAt = now;
      line(p);
    };
    try {
      const report = await backupDatabase(db, body.dir, { onProgress });
      line({ done: true, backup: report });
      res.end();
    } catch (e) {
      if (!started) throw e; // nothing sent yet: an ordinary HTTP error
      line(httpErrorOf(e).body);
      res.end();
    }
  },
});

/** The served database behind the attached archives, if any. */
export function liveOf(b: Backend): Backend {
  return b instanceof AttachedBackend ? b.live : b;
}

function attachedOf(b: Backend): AttachedBackend {
  if (!(b instanceof AttachedBackend)) throw new DbError(501, 'this server cannot attach archives');
  return b;
}

const archiveJson = (a: ReturnType<AttachedBackend['attached']>[number]) => ({
  name: a.name,
  dir: a.dir,
  streams: a.streams,
  shadowed: a.shadowed,
  points: a.manifest.points,
  selection: a.manifest.selection,
  created: a.manifest.created,
  source: a.manifest.source,
});

const ARCHIVE_SCHEMA = { type: 'object' } as const;

const listArchives = defineRoute({
  method: 'GET',
  path: '/api/admin/archives',
  operationId: 'listArchives',
  summary: 'The archives attached read-only to this server',
  tag: 'admin',
  params: {},
  responses: { '200': { description: '{"archives": [...]}', content: { 'application/json': ARCHIVE_SCHEMA } } },
  async handle({ res, app }) {
    // A server without archive support has none attached.
    const b = app.backend;
    sendJson(res, 200, { archives: b instanceof AttachedBackend ? b.attached().map(archiveJson) : [] });
  },
});

const attachBody = object({
  dir: str({
    maxLength: 4096,
    description: 'absolute path of an archive directory on the server (`arbor archive export`)',
  }),
  name: optional(str({ maxLength: 255, description: 'its name (default: the directory name)' })),
});

const attachArchive = defineRoute({
  method: 'POST',
  path: '/api/admin/archives',
  operationId: 'attachArchive',
  summary: 'Attach an archive read-only: its streams are served next to the live ones',
  description: 'A uuid that exists live stays live (listed as shadowed). Until detached or the server restarts.',
  tag: 'admin',
  params: {},
  body: jsonBody(attachBody, 'the archive'),
  responses: { '201': { description: 'the attached archive', content: { 'application/json': ARCHIVE_SCHEMA } } },
  async handle({ body, res, app }) {
    if (!path.isAbsolute(body.dir))
      throw new DbError(438, `dir must be an absolute path on the server, got ${JSON.stringify(body.dir)}`);
    const a = await attachedOf(app.backend).attach(body.dir, body.name);
    sendJson(res, 201, archiveJson(a));
  },
});

const detachArchive = defineRoute({
  method: 'DELETE',
  path: '/api/admin/archives/{name}',
  operationId: 'detachArchive',
  summary: 'Detach an attached archive',
  tag: 'admin',
  params: { name: stringParam('the archive’s name', undefined, 255, 'path') },
  responses: { '200': { description: '{"detached": name}', content: { 'application/json': ARCHIVE_SCHEMA } } },
  async handle({ params, res, app }) {
    await attachedOf(app.backend).detach(params.name);
    sendJson(res, 200, { detached: params.name });
  },
});

export const ADMIN_ROUTES: readonly AnyRoute[] = [backup, listArchives, attachArchive, detachArchive];

/**
 * The web plotter's files (web/), served read-only at `/`: only regular files under the root,
 * no directory listings, no path escapes. Revalidated on every load (ETag from size and mtime),
 * with a strict Content-Security-Policy: the page loads nothing but its own files.
 */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { HttpError } from './errors.ts';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The web/ folder of the repository (from src/server/http or dist/server/http alike). */
export const DEFAULT_WEB_ROOT = path.resolve(import.meta.dirname, '..', '..', '..', 'web');

const notFound = (p: string) => new HttpError(404, 'NotFound', `no such file or endpoint: ${p}`);

/** Serve `pathname` from `root`; 404 unless it names a regular file inside it. */
export async function serveStatic(
  root: string,
  pathname: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    throw notFound(pathname);
  }
  if (rel.endsWith('/')) rel += 'index.html';
  if (rel.includes('\0')) throw notFound(pathname);
  const file = path.resolve(root, `.${path.posix.normalize(rel)}`);
  if (file !== root && !file.startsWith(root + path.sep)) throw notFound(pathname);
  const type = TYPES[path.extname(file).toLowerCase()];
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch {
    throw notFound(pathname);
  }
  if (!st.isFile() || type === undefined) throw notFound(pathname);
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  const headers = {
    'content-type': type,
    etag,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'referrer-policy': 'no-referrer',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const body = await fs.promises.readFile(file);
  res.writeHead(200, { ...headers, 'content-length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

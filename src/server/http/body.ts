/**
 * Reading request bodies with a size limit (413 PayloadTooLarge as soon as the limit is passed,
 * without reading the rest), and JSON bodies checked against a shape.
 */
import type { IncomingMessage } from 'node:http';
import { DbError } from '../../core/errors.ts';
import { HttpError } from './errors.ts';
import type { AppContext, BodySpec } from './route.ts';
import type { Shape } from './shapes.ts';

/** The media type of a request (lower case, without parameters), or '' when absent. */
export function mediaType(req: IncomingMessage): string {
  const ct = req.headers['content-type'] ?? '';
  return ct.split(';')[0]!.trim().toLowerCase();
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'PayloadTooLarge', `request body is larger than ${limit} bytes`);
}

/** Chunks of the body, failing with 413 once more than `limit` bytes arrived. */
export async function* bodyChunks(req: IncomingMessage, limit: number): AsyncGenerator<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw tooLarge(limit);
    yield b;
  }
}

/** The whole body (at most `limit` bytes). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of bodyChunks(req, limit)) parts.push(b);
  return Buffer.concat(parts);
}

/** Parse JSON text; 438 with the parser's message when it is not JSON. */
export function parseJsonText(text: string, what = 'body'): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DbError(438, `${what} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A JSON body checked against `shape`. Content-Type must be application/json (or absent). */
export function jsonBody<T>(shape: Shape<T>, description: string): BodySpec<T> {
  return {
    required: true,
    description,
    content: { 'application/json': shape.schema },
    async read(req: IncomingMessage, app: AppContext): Promise<T> {
      const mt = mediaType(req);
      if (mt !== '' && mt !== 'application/json') {
        throw new HttpError(415, 'UnsupportedMediaType', `send application/json, not ${mt}`);
      }
      const text = (await readBody(req, app.maxBodyBytes)).toString('utf8');
      if (text.trim() === '') throw new DbError(438, 'the request body is empty; send a JSON object');
      return shape.check(parseJsonText(text), 'body');
    },
  };
}

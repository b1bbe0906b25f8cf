/**
 * Streamed tabular answers (raw points, windows, list rows) in four formats, chosen by the
 * `format` parameter or the Accept header:
 *
 * | format | media type | body |
 * |---|---|---|
 * | json (default) | application/json | `{"version": 12, "points": [{...}, ...]}` written incrementally |
 * | ndjson | application/x-ndjson | one JSON object per line; an error after the first line is a last line `{"error": {...}}` |
 * | csv | text/csv | a header line, then one line per row |
 * | arrow | application/vnd.apache.arrow.stream | one Arrow IPC stream (the BTrDB raw / windows schemas) |
 *
 * The first chunk is read before anything is written, so an error there (unknown stream, bad
 * range) is a normal HTTP error; later errors end an NDJSON answer with an error line and cut the
 * connection of the other formats (a truncated body, never a silently short one). Times are ns
 * integers as strings (JSON) or bare (CSV), or ISO-8601 with `timefmt=iso`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatIso } from '../../core/time.ts';
import { ArrowStitcher } from './arrow-chunks.ts';
import { HttpError, httpErrorOf } from './errors.ts';
import type { Format } from './params.ts';
import { ResponseSink } from './response-sink.ts';

export const MEDIA_TYPES: Readonly<Record<Format, string>> = {
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  arrow: 'application/vnd.apache.arrow.stream',
};

const ACCEPT_ALIASES: Readonly<Record<string, Format>> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/json-seq': 'ndjson',
  'text/csv': 'csv',
  'application/vnd.apache.arrow.stream': 'arrow',
};

/**
 * The answer format: `explicit` (the format parameter) wins, else the first acceptable type of
 * the Accept header in q order; `*` / absent → the first allowed format. 406 when nothing fits.
 */
export function negotiate(req: IncomingMessage, explicit: Format | undefined, allowed: readonly Format[]): Format {
  if (explicit !== undefined) {
    if (!allowed.includes(explicit)) {
      throw new HttpError(406, 'NotAcceptable', `format ${explicit} is not available here; use ${allowed.join(', ')}`);
    }
    return explicit;
  }
  const header = req.headers.accept;
  if (header === undefined || header.trim() === '') return allowed[0]!;
  const ranges = header
    .split(',')
    .map((part, i) => {
      const [type = '', ...ps] = part.split(';').map((s) => s.trim().toLowerCase());
      const q = ps.find((p) => p.startsWith('q='));
      return { type, q: q === undefined ? 1 : Number(q.slice(2)) || 0, i };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    if (r.type === '*/*' || r.type === 'application/*') return allowed[0]!;
    const f = ACCEPT_ALIASES[r.type];
    if (f !== undefined && allowed.includes(f)) return f;
    if (r.type === 'text/*' && allowed.includes('csv')) return 'csv';
  }
  const types = allowed.map((f) => MEDIA_TYPES[f].split(';')[0]).join(', ');
  throw new HttpError(406, 'NotAcceptable', `cannot answer ${JSON.stringify(header)}; available: ${types}`);
}

/** How one kind of chunk (points, windows, rows) is written in each format. */
export interface TableEncoder<C> {
  /** JSON key of the row array, e.g. "points". */
  readonly key: string;
  /** Rows of a chunk as JSON object texts (no separators). */
  json(chunk: C, iso: boolean): string[];
  /** CSV header line (without newline) and rows (each without newline). */
  readonly csvHeader: string;
  csv(chunk: C, iso: boolean): string[];
  /** The chunk as a complete Arrow IPC stream, or undefined when Arrow is not offered. */
  arrow?(chunk: C): Uint8Array;
  /** Rows in a chunk (for metrics). */
  count(chunk: C): number;
}

/** A JSON number, or the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers). */
export const jsonNumber = (v: number): string => (Number.isFinite(v) ? String(v) : `"${v}"`);

export const timeText = (t: bigint, iso: boolean): string => (iso ? formatIso(t) : t.toString());

/** CSV field: quoted when it holds a comma, quote or line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface TableOptions {
  readonly format: Format;
  readonly iso: boolean;
  /** Extra top-level members of the JSON answer (e.g. `{"version": 12}`), and response headers. */
  readonly meta: () => Readonly<Record<string, unknown>>;
  readonly headers?: () => Readonly<Record<string, string>>;
  /** Called with the rows written, once per chunk. */
  readonly onRows?: (n: number) => void;
  /** File name suggested for csv/arrow downloads. */
  readonly filename?: string;
}

/**
 * Stream `chunks` as a table. The first chunk is awaited before the status line is written (so
 * its errors become HTTP errors, thrown from here); later errors are handled as described above.
 */
export async function streamTable<C>(
  res: ServerResponse,
  signal: AbortSignal,
  chunks: AsyncIterable<C>,
  enc: TableEncoder<C>,
  opts: TableOptions,
): Promise<void> {
  const it = chunks[Symbol.asyncIterator]();
  let next = await it.next(); // errors here are ordinary HTTP errors
  const { format, iso } = opts;
  const headers: Record<string, string> = { 'content-type': MEDIA_TYPES[format], ...(opts.headers?.() ?? {}) };
  if (opts.filename && (format === 'csv' || format === 'arrow')) {
    headers['content-disposition'] = `attachment; filename="${opts.filename}.${format}"`;
  }
  res.writeHead(200, headers);
  const sink = new ResponseSink(res, signal);
  const stitch = new ArrowStitcher();
  let first = true;
  try {
    if (format === 'json') {
      const meta = JSON.stringify(opts.meta()).slice(0, -1);
      await sink.text(`${meta}${meta.length > 1 ? ',' : ''}"${enc.key}":[`);
    } else if (format === 'csv') {
      await sink.text(`${enc.csvHeader}\n`);
    }
    while (!next.done) {
      const chunk = next.value;
      opts.onRows?.(enc.count(chunk));
      if (format === 'json') {
        const rows = enc.json(chunk, iso);
        if (rows.length > 0) {
          await sink.text(first ? rows.join(',') : `,${rows.join(',')}`);
          first = false;
        }
      } else if (format === 'ndjson' || format === 'csv') {
        const rows = format === 'ndjson' ? enc.json(chunk, iso) : enc.csv(chunk, iso);
        if (rows.length > 0) await sink.text(`${rows.join('\n')}\n`);
      } else {
        await sink.bytes(stitch.chunk(enc.arrow!(chunk)));
      }
      next = await it.next();
    }
    if (format === 'json') await sink.text(']}');
    if (format === 'arrow') await sink.bytes(stitch.end());
    await sink.end();
  } catch (e) {
    await it.return?.(undefined);
    if (signal.aborted || res.destroyed) return; // the client went away: nothing to tell
    if (format === 'ndjson') {
      await sink.text(`${JSON.stringify(httpErrorOf(e).body)}\n`).catch(() => undefined);
      await sink.end().catch(() => undefined);
    } else {
      res.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  }
}

/** One JSON object as the whole answer. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': MEDIA_TYPES.json,
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

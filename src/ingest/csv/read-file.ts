/** Opening input files with errors a user can act on (DbError 438 naming the file and the cause). */
import fs from 'node:fs';
import { DbError } from '../../core/errors.ts';

/** The size of `file` in bytes; 438 when it does not exist or is not a regular file. */
export function inputSize(file: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new DbError(438, `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : String(e)}`);
  }
  if (!st.isFile()) throw new DbError(438, `cannot read ${file}: not a regular file`);
  return st.size;
}

/**
 * The text of `file` in chunks of 1 MiB, with the number of bytes read so far. Reads are
 * synchronous on purpose: parsing is CPU-bound on this thread anyway, and async reads would queue
 * behind whatever else holds libuv's thread pool (a database opening: up to seconds).
 */
export function* textChunks(file: string, encoding: 'utf8' | 'latin1' = 'utf8'): Generator<[string, number]> {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    const decoder = new TextDecoder(encoding === 'latin1' ? 'latin1' : 'utf-8');
    let bytes = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      bytes += n;
      yield [decoder.decode(buf.subarray(0, n), { stream: true }), bytes];
    }
    const rest = decoder.decode();
    if (rest.length > 0) yield [rest, bytes];
  } finally {
    fs.closeSync(fd);
  }
}

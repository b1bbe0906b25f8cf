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

/** The text of `file` in chunks of about 1 MiB, with the number of bytes read so far. */
export async function* textChunks(file: string, encoding: BufferEncoding = 'utf8'): AsyncGenerator<[string, number]> {
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  let bytes = 0;
  const decoder = new TextDecoder(encoding === 'latin1' ? 'latin1' : 'utf-8');
  for await (const chunk of input) {
    const b = chunk as Buffer;
    bytes += b.length;
    yield [decoder.decode(b, { stream: true }), bytes];
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield [rest, bytes];
}

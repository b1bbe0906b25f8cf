/** Write a Frame's CSV to a file, row by row (so a large export never sits in memory as one string). */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Frame } from '../frame.ts';
import { type CsvOptions, csvChunks } from './csv.ts';

/** Write `frame` as CSV to `path` (created or truncated). Resolves once the file is closed. */
export async function writeCsvFile(path: string, frame: Frame, opts: CsvOptions = {}): Promise<void> {
  await pipeline(Readable.from(csvChunks(frame, opts)), createWriteStream(path));
}

/**
 * Writing a streamed answer with backpressure: text is gathered into chunks of ~64 KiB, and when
 * `res.write` returns false the writer waits for 'drain' before producing more, so a slow client
 * holds the read back instead of the server buffering the whole answer. Rejects with an
 * AbortError when the client goes away (the signal aborts).
 */
import type { ServerResponse } from 'node:http';

export const SINK_CHUNK_BYTES = 64 * 1024;

function waitDrain(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      signal.removeEventListener('abort', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new DOMException('the client went away', 'AbortError'));
    if (signal.aborted) return onClose();
    res.on('drain', onDrain);
    res.on('close', onClose);
    signal.addEventListener('abort', onClose);
  });
}

export class ResponseSink {
  #parts: string[] = [];
  #size = 0;
  /** Bytes handed to the socket so far (for tests and metrics). */
  written = 0;

  constructor(
    readonly res: ServerResponse,
    readonly signal: AbortSignal,
    readonly chunkBytes = SINK_CHUNK_BYTES,
  ) {}

  /** Queue text; writes (and maybe waits) once a chunk is full. */
  async text(s: string): Promise<void> {
    this.#parts.push(s);
    this.#size += s.length;
    if (this.#size >= this.chunkBytes) await this.flush();
  }

  /** Write bytes after whatever text is queued. */
  async bytes(b: Uint8Array): Promise<void> {
    await this.flush();
    await this.#write(b);
  }

  async flush(): Promise<void> {
    if (this.#size === 0) return;
    const chunk = this.#parts.join('');
    this.#parts = [];
    this.#size = 0;
    await this.#write(chunk);
  }

  /** Finish the answer; resolves when it is sent, or at once when the client is gone. */
  async end(): Promise<void> {
    await this.flush();
    if (this.res.destroyed) return;
    await new Promise<void>((resolve) => {
      // 'close' also covers a socket destroyed before the end is flushed ('finish' never comes).
      this.res.once('close', resolve);
      this.res.end(() => {
        this.res.off('close', resolve);
        resolve();
      });
    });
  }

  async #write(chunk: string | Uint8Array): Promise<void> {
    if (this.signal.aborted || this.res.destroyed) throw new DOMException('the client went away', 'AbortError');
    this.written += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (!this.res.write(chunk)) await waitDrain(this.res, this.signal);
  }
}

/**
 * Write an async iterable of messages to a grpc-js server call with backpressure: after each
 * `call.write()` that returns false (the call's buffer of 16 messages is full, which happens when
 * HTTP/2 flow control holds the data because the client reads slowly), wait for 'drain' before
 * pulling the next message from the source. So a slow reader slows the source down instead of
 * the server buffering a whole answer. Stops (closing the source) when the call is cancelled.
 */
import { once } from 'node:events';
import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';

type WritableCall<R> = ServerWritableStream<unknown, R> | ServerDuplexStream<unknown, R>;

/** Resolves true once the call can take more, false when it was cancelled or closed meanwhile. */
async function drained<R>(call: WritableCall<R>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([once(call, 'drain', { signal: ac.signal }), once(call, 'close', { signal: ac.signal })]);
    return !signal.aborted && !call.cancelled;
  } catch {
    return false; // aborted
  } finally {
    signal.removeEventListener('abort', onAbort);
    ac.abort();
  }
}

/**
 * Send every message of `source`; resolves when the source is exhausted (the caller then ends
 * the call) or when the call went away (`signal` aborted). Returns how many messages were written.
 */
export async function writeAll<R>(
  call: WritableCall<R>,
  source: AsyncIterable<R>,
  signal: AbortSignal,
): Promise<number> {
  let n = 0;
  for await (const msg of source) {
    if (signal.aborted || call.cancelled) break;
    n++;
    if (!call.write(msg) && !(await drained(call, signal))) break;
  }
  return n;
}

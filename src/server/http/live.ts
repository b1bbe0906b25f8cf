/**
 * Live mode: server-sent events with every batch of points inserted into the subscribed streams
 * after the subscription started, fed by `Backend.subscribe` (the mechanism behind the gRPC
 * Subscribe RPC).
 *
 *   event: ready     data: {"streams": ["<uuid>", …]}            once, when subscribed
 *   event: points    data: {"uuid": "…", "times": ["ns", …], "values": [...], "flags"?: [...]}
 *   event: error     data: {"error": {"code": 426, …}}            then the server ends the stream
 *   : ping                                                         a comment every heartbeatMs
 *
 * Unknown streams are a 404 before the stream starts. A client that falls more than `maxPending`
 * events behind gets 426 ResourceDepleted and is disconnected, so a slow reader cannot make the
 * server buffer without bound. The stream ends when the client goes away or the server closes.
 */
import { DbError } from '../../core/errors.ts';
import type { PointBatch, StreamId } from '../../core/types.ts';
import { parseStreamId } from '../../core/uuid.ts';
import { httpErrorOf } from './errors.ts';
import { listParam, uuidParam } from './params.ts';
import { ResponseSink } from './response-sink.ts';
import { type AnyRoute, type Call, defineRoute } from './route.ts';
import { jsonNumber } from './tables.ts';

/** Points per `points` event. */
export const LIVE_EVENT_POINTS = 5000;

function pointsEvent(id: StreamId, b: PointBatch, from: number, to: number): string {
  const times: string[] = [];
  const values: string[] = [];
  for (let i = from; i < to; i++) {
    times.push(`"${b.times[i]!}"`);
    values.push(jsonNumber(b.values[i]!));
  }
  const flags = b.flags ? `,"flags":[${Array.from(b.flags.subarray(from, to)).join(',')}]` : '';
  return `event: points\ndata: {"uuid":"${id}","times":[${times.join(',')}],"values":[${values.join(',')}]${flags}}\n\n`;
}

async function serveLive(call: Call<unknown, undefined>, ids: readonly StreamId[]): Promise<void> {
  const { res, app } = call;
  const unique = [...new Set(ids)];
  for (const id of unique) await app.backend.streamInfo(id); // 404 before the stream starts

  const ac = new AbortController();
  const stop = () => ac.abort();
  call.signal.addEventListener('abort', stop);
  app.closing.addEventListener('abort', stop);
  const queue: string[] = [];
  let wake = null as (() => void) | null;
  const post = (text: string) => {
    queue.push(text);
    wake?.();
    wake = null;
  };
  let failed: unknown = null;

  const subscription = app.backend.subscribe(unique, ac.signal)[Symbol.asyncIterator]();
  const first = subscription.next(); // registers the subscription before "ready" is sent
  const read = (async () => {
    try {
      for (let r = await first; !r.done; r = await subscription.next()) {
        const { id, batch } = r.value;
        for (let i = 0; i < batch.times.length; i += LIVE_EVENT_POINTS) {
          post(pointsEvent(id, batch, i, Math.min(batch.times.length, i + LIVE_EVENT_POINTS)));
        }
        app.metrics.livePointsPushed += batch.times.length;
        if (queue.length > app.live.maxPending) {
          throw new DbError(426, `live subscriber is more than ${app.live.maxPending} events behind; stream ended`);
        }
      }
    } catch (e) {
      if (!ac.signal.aborted) failed = e;
    } finally {
      ac.abort();
      wake?.();
    }
  })();

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'close',
    'x-accel-buffering': 'no',
  });
  const sink = new ResponseSink(res, call.signal, 0);
  const heartbeat = setInterval(() => post(': ping\n\n'), app.live.heartbeatMs);
  app.metrics.liveSubscribers++;
  try {
    await sink.text(`retry: 3000\nevent: ready\ndata: ${JSON.stringify({ streams: unique })}\n\n`);
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        await sink.text(next);
        continue;
      }
      if (ac.signal.aborted) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (failed !== null) await sink.text(`event: error\ndata: ${JSON.stringify(httpErrorOf(failed).body)}\n\n`);
    await sink.end();
  } catch {
    // the client went away
  } finally {
    clearInterval(heartbeat);
    app.metrics.liveSubscribers--;
    ac.abort();
    call.signal.removeEventListener('abort', stop);
    app.closing.removeEventListener('abort', stop);
    await read;
    if (!res.writableEnded) res.destroy();
  }
}

const SSE_DOC = {
  '200': {
    description: 'text/event-stream: `ready`, then `points` events as points are inserted',
    content: { 'text/event-stream': { type: 'string' } },
  },
};

const liveOne = defineRoute({
  method: 'GET',
  path: '/api/streams/{uuid}/live',
  operationId: 'liveStream',
  summary: 'Follow new points of one stream (server-sent events)',
  tag: 'live',
  params: { uuid: uuidParam() },
  responses: SSE_DOC,
  handle: (call) => serveLive(call, [call.params.uuid]),
});

const liveMany = defineRoute({
  method: 'GET',
  path: '/api/live',
  operationId: 'liveStreams',
  summary: 'Follow new points of several streams (server-sent events)',
  description: 'One connection for many streams (browsers allow few connections per host).',
  tag: 'live',
  params: {
    uuid: listParam(
      'streams to follow (repeat, or comma-separated)',
      { type: 'string', format: 'uuid' },
      (t) => parseStreamId(t),
      {
        min: 1,
        max: 64,
      },
    ),
  },
  responses: SSE_DOC,
  handle: (call) => serveLive(call, call.params.uuid),
});

export const LIVE_ROUTES: readonly AnyRoute[] = [liveOne, liveMany];

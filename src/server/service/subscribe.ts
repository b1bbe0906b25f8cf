/**
 * Subscribe (bidirectional; guide §4.15): the client sends ADD_UUIDS / REMOVE_UUIDS updates; the
 * server pushes `{uuid, arrowBytes}` (the raw schema) for every batch inserted into a subscribed
 * stream after it was added. Adding an unknown stream answers 404 in-band and ends the call, as
 * does a subscriber that falls more than `maxPending` pushes behind (426 ResourceDepleted), so a
 * slow reader cannot make the server buffer without bound. More than {@link MAX_SUBSCRIBED_STREAMS}
 * streams in one call is 438 (the call ends; nothing of that update is added). After the client
 * half-closes, pushes go on for the streams still subscribed until it cancels or the server shuts
 * down (an empty set ends the call at once).
 */
import { DbError } from '../../core/errors.ts';
import type { StreamId } from '../../core/types.ts';
import { streamIdToBytes } from '../../core/uuid.ts';
import type { Backend } from '../../db/backend.ts';
import {
  type SubscriptionResp,
  type SubscriptionUpdate,
  SubscriptionUpdateOp,
  subscriptionToArrow,
} from '../../wire/index.ts';
import type { RequestContext } from './context.ts';
import { streamIdOf } from './convert.ts';
import { statusOf } from './status.ts';

export const DEFAULT_MAX_PENDING_PUSHES = 1024;
/** Most streams one Subscribe call may follow at once (438 past it; the call ends). */
export const MAX_SUBSCRIBED_STREAMS = 4096;

type Item = { readonly kind: 'push'; readonly msg: SubscriptionResp } | { readonly kind: 'end' };

export async function* subscribe(
  backend: Backend,
  updates: AsyncIterable<SubscriptionUpdate>,
  ctx: RequestContext,
  maxPending = DEFAULT_MAX_PENDING_PUSHES,
): AsyncGenerator<SubscriptionResp> {
  const queue: Item[] = [];
  let wake: (() => void) | null = null;
  const post = (item: Item) => {
    queue.push(item);
    wake?.();
    wake = null;
  };
  const fail = (e: unknown, id?: StreamId) =>
    post({
      kind: 'push',
      msg: { stat: statusOf(e), uuid: id ? streamIdToBytes(id) : new Uint8Array(0), arrowBytes: new Uint8Array(0) },
    });
  const subs = new Map<StreamId, AbortController>();
  const stop = new AbortController();
  const onAbort = () => post({ kind: 'end' });
  ctx.signal.addEventListener('abort', onAbort);

  const pump = async (id: StreamId, ac: AbortController) => {
    try {
      for await (const { batch } of backend.subscribe([id], ac.signal)) {
        if (queue.length >= maxPending) {
          throw new DbError(426, `subscriber is more than ${maxPending} pushes behind; subscription ended`);
        }
        post({ kind: 'push', msg: { uuid: streamIdToBytes(id), arrowBytes: subscriptionToArrow(batch) } });
      }
    } catch (e) {
      if (!ac.signal.aborted) {
        fail(e, id);
        post({ kind: 'end' });
      }
    }
  };

  const read = async () => {
    try {
      for await (const u of updates) {
        if (stop.signal.aborted) return;
        const ids = u.uuid.map(streamIdOf);
        if (u.op === SubscriptionUpdateOp.ADD_UUIDS) {
          const adding = new Set(ids.filter((id) => !subs.has(id))).size;
          if (subs.size + adding > MAX_SUBSCRIBED_STREAMS) {
            throw new DbError(
              438,
              `Subscribe: ${subs.size + adding} streams, at most ${MAX_SUBSCRIBED_STREAMS} per call`,
            );
          }
          for (const id of ids) {
            if (subs.has(id)) continue;
            await backend.streamInfo(id); // 404 for an unknown stream
            const ac = new AbortController();
            subs.set(id, ac);
            void pump(id, ac);
          }
        } else if (u.op === SubscriptionUpdateOp.REMOVE_UUIDS) {
          for (const id of ids) {
            subs.get(id)?.abort();
            subs.delete(id);
          }
        } else {
          throw new DbError(438, `unknown subscription op ${u.op}; use 0 ADD_UUIDS or 1 REMOVE_UUIDS`);
        }
      }
      if (subs.size === 0) post({ kind: 'end' });
    } catch (e) {
      fail(e);
      post({ kind: 'end' });
    }
  };
  void read();

  try {
    for (;;) {
      if (ctx.signal.aborted) return;
      const item = queue.shift();
      if (item === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      if (item.kind === 'end') return;
      yield item.msg;
      if (item.msg.stat !== undefined) return;
    }
  } finally {
    stop.abort();
    ctx.signal.removeEventListener('abort', onAbort);
    for (const ac of subs.values()) ac.abort();
    subs.clear();
  }
}

/**
 * The shape of the transport-agnostic service: one function per BTrDB v5 RPC, typed with the wire
 * messages. Unary RPCs answer a promise, server-streaming RPCs an async iterable of messages,
 * Subscribe maps an async iterable of updates to one of pushes. No function throws for a bad
 * request or a DbError: errors are answered in-band in `stat` (a streaming RPC sends one message
 * with only `stat` and ends). Every streaming answer has at least one message.
 */
import type { BTrDBRpcs, Rpc, RpcName } from '../../wire/index.ts';
import type { RequestContext } from './context.ts';

export type UnaryService<Q, R> = (request: Q, ctx: RequestContext) => Promise<R>;
export type StreamingService<Q, R> = (request: Q, ctx: RequestContext) => AsyncIterable<R>;
export type BidiService<Q, R> = (requests: AsyncIterable<Q>, ctx: RequestContext) => AsyncIterable<R>;

type ServiceMethodOf<E> =
  E extends Rpc<'U', infer Q, infer R>
    ? UnaryService<Q, R>
    : E extends Rpc<'S', infer Q, infer R>
      ? StreamingService<Q, R>
      : E extends Rpc<'B', infer Q, infer R>
        ? BidiService<Q, R>
        : never;

export type BTrDBService = { readonly [N in RpcName]: ServiceMethodOf<BTrDBRpcs[N]> };

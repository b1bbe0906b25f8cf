/**
 * Wrappers that turn thrown errors into in-band answers: `{...empty, stat}`. `empty` is the RPC's
 * response with every field at its zero value.
 */
import type { Status } from '../../wire/index.ts';
import type { RequestContext } from './context.ts';
import type { StreamingService, UnaryService } from './service-types.ts';
import { isInternalError, statusOf } from './status.ts';

type WithStat = { readonly stat?: Status | undefined };
export type ErrorHook = ((rpc: string, error: unknown) => void) | undefined;

function report(hook: ErrorHook, rpc: string, e: unknown): Status {
  if (hook !== undefined && isInternalError(e)) hook(rpc, e);
  return statusOf(e);
}

export function guardUnary<Q, R extends WithStat>(
  rpc: string,
  empty: R,
  hook: ErrorHook,
  fn: (request: Q, ctx: RequestContext) => Promise<R>,
): UnaryService<Q, R> {
  return async (request, ctx) => {
    try {
      return await fn(request, ctx);
    } catch (e) {
      return { ...empty, stat: report(hook, rpc, e) };
    }
  };
}

/**
 * A streaming RPC: messages pass through; an error (before or after some messages) ends the
 * answer with one stat-only message; an answer without messages gets `empty` (OK) so that the
 * client always receives at least one.
 */
export function guardStream<Q, R extends WithStat>(
  rpc: string,
  empty: R,
  hook: ErrorHook,
  fn: (request: Q, ctx: RequestContext) => AsyncIterable<R>,
): StreamingService<Q, R> {
  return async function* (request, ctx) {
    let sent = 0;
    try {
      for await (const m of fn(request, ctx)) {
        sent++;
        yield m;
      }
    } catch (e) {
      yield { ...empty, stat: report(hook, rpc, e) };
      return;
    }
    if (sent === 0) yield empty;
  };
}

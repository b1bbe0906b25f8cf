/**
 * grpc-js handlers for the 26 RPCs over the transport-agnostic service: authenticate from call
 * metadata (a bad or missing key fails the call with UNAUTHENTICATED "invalid api key", a key whose
 * role is too weak with PERMISSION_DENIED — the only transport-level errors besides grpc-js's
 * own), build the request context (aborted when the
 * client cancels or the server shuts down), run the service function and send its answer —
 * unary via the callback, streams with backpressure (write-stream.ts). Everything else is
 * in-band in `stat` with gRPC status OK.
 */
import {
  type handleBidiStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type Metadata,
  status,
} from '@grpc/grpc-js';
import { BTRDB_RPCS, type BTrDBHandlers, type RpcName } from '../../wire/index.ts';
import type { ApiKeyAuth } from '../service/auth.ts';
import { INVALID_API_KEY } from '../service/auth.ts';
import type { AuthResult, RequestContext } from '../service/context.ts';
import { grpcMethodRole, permissionDenied, roleAllows } from '../service/roles.ts';
import type { BidiService, BTrDBService, StreamingService, UnaryService } from '../service/service-types.ts';
import { writeAll } from './write-stream.ts';

export interface HandlerOptions {
  readonly auth: ApiKeyAuth;
  /** Aborted when the server shuts down: long calls (Subscribe) end. */
  readonly shutdown: AbortSignal;
  /** Called when a service function rejects or a write fails (a bug: answered INTERNAL). */
  readonly onError?: (rpc: string, error: unknown) => void;
  /** Called when a call starts and when it is done (graceful-shutdown bookkeeping). */
  readonly onCallStart?: () => void;
  readonly onCallEnd?: () => void;
}

const UNAUTHENTICATED = { code: status.UNAUTHENTICATED, details: INVALID_API_KEY };

/**
 * Authenticate a call and check its key's role against the access table (roles.ts): the refusal
 * to send (UNAUTHENTICATED "invalid api key", or PERMISSION_DENIED naming the role needed), or
 * the auth result to run the call with.
 */
function admit(
  auth: ApiKeyAuth,
  rpc: RpcName,
  metadata: Metadata,
): { readonly refusal: { code: status; details: string } } | { readonly ok: AuthResult } {
  const a = auth.check(authorization(metadata));
  if (!a.ok) return { refusal: UNAUTHENTICATED };
  const have = a.role ?? 'admin';
  const need = grpcMethodRole(rpc);
  if (!roleAllows(have, need)) {
    return { refusal: { code: status.PERMISSION_DENIED, details: permissionDenied(have, need, rpc) } };
  }
  return { ok: a };
}

function authorization(metadata: Metadata): string | undefined {
  for (const v of metadata.get('authorization')) if (typeof v === 'string') return v;
  return undefined;
}

/** What every grpc-js server call has: metadata and the cancel/close events. */
interface AnyCall {
  readonly metadata: Metadata;
  once(event: 'cancelled' | 'close', listener: () => void): unknown;
}

/**
 * The call's context and a release function for when the call is done. The signal aborts when
 * the client cancels or the server shuts down. (Not AbortSignal.any: its composite signals stay
 * referenced from the long-lived shutdown signal, which would grow with every call.)
 */
/**
 * The one abort reason of every call: `abort()` without a reason builds a new DOMException (with a
 * stack) each time, which cost ~5 % of a busy server — and every finished call aborts its context.
 */
const CALL_ENDED = new Error('the call ended (cancelled, closed or server shutting down)');

function contextOf(call: AnyCall, auth: AuthResult, shutdown: AbortSignal): [RequestContext, () => void] {
  const ac = new AbortController();
  const abort = () => ac.abort(CALL_ENDED);
  call.once('cancelled', abort);
  call.once('close', abort);
  if (shutdown.aborted) ac.abort(CALL_ENDED);
  else shutdown.addEventListener('abort', abort, { once: true });
  return [{ auth, signal: ac.signal }, () => shutdown.removeEventListener('abort', abort)];
}

const errorDetails = (e: unknown): string => `internal error: ${e instanceof Error ? e.message : String(e)}`;

export function createGrpcHandlers(service: BTrDBService, opts: HandlerOptions): BTrDBHandlers {
  const { auth, shutdown } = opts;
  const start = () => opts.onCallStart?.();
  const end = () => opts.onCallEnd?.();

  const unary =
    <Q, R>(rpc: RpcName, fn: UnaryService<Q, R>): handleUnaryCall<Q, R> =>
    (call, callback) => {
      const a = admit(auth, rpc, call.metadata);
      if ('refusal' in a) return callback(a.refusal);
      start();
      const [ctx, release] = contextOf(call, a.ok, shutdown);
      fn(call.request, ctx)
        .then(
          (r) => callback(null, r),
          (e: unknown) => {
            opts.onError?.(rpc, e);
            callback({ code: status.INTERNAL, details: errorDetails(e) });
          },
        )
        .finally(() => {
          release();
          end();
        });
    };

  const serverStreaming =
    <Q, R>(rpc: RpcName, fn: StreamingService<Q, R>): handleServerStreamingCall<Q, R> =>
    (call) => {
      const a = admit(auth, rpc, call.metadata);
      if ('refusal' in a) {
        call.emit('error', a.refusal);
        return;
      }
      start();
      const [ctx, release] = contextOf(call, a.ok, shutdown);
      writeAll(call, fn(call.request, ctx), ctx.signal)
        .then(
          () => call.end(),
          (e: unknown) => {
            opts.onError?.(rpc, e);
            call.emit('error', { code: status.INTERNAL, details: errorDetails(e) });
          },
        )
        .finally(() => {
          release();
          end();
        });
    };

  const bidi =
    <Q, R>(rpc: RpcName, fn: BidiService<Q, R>): handleBidiStreamingCall<Q, R> =>
    (call) => {
      const a = admit(auth, rpc, call.metadata);
      if ('refusal' in a) {
        call.emit('error', a.refusal);
        return;
      }
      start();
      const [ctx, release] = contextOf(call, a.ok, shutdown);
      const requests = (async function* () {
        try {
          // Not `for await (… of call)`: leaving that loop early (the service stops reading
          // updates after an error) would destroy the call before the error answer is written.
          for await (const m of call.iterator({ destroyOnReturn: false })) yield m as Q;
        } catch {
          // The client went away: no more updates.
        }
      })();
      writeAll(call, fn(requests, ctx), ctx.signal)
        .then(
          () => call.end(),
          (e: unknown) => {
            opts.onError?.(rpc, e);
            call.emit('error', { code: status.INTERNAL, details: errorDetails(e) });
          },
        )
        .finally(() => {
          release();
          end();
        });
    };

  const out: Record<string, unknown> = {};
  for (const [name, rpc] of Object.entries(BTRDB_RPCS) as [RpcName, { kind: string }][]) {
    const fn: unknown = service[name];
    if (rpc.kind === 'U') out[name] = unary(name, fn as UnaryService<unknown, unknown>);
    else if (rpc.kind === 'S') out[name] = serverStreaming(name, fn as StreamingService<unknown, unknown>);
    else out[name] = bidi(name, fn as BidiService<unknown, unknown>);
  }
  return out as BTrDBHandlers;
}

/**
 * grpc-js handlers for the 26 RPCs over the transport-agnostic service: authenticate from call
 * metadata (a bad or missing key fails the call with UNAUTHENTICATED "invalid api key", a key whose
 * role is too weak with PERMISSION_DENIED — the only transport-level errors besides grpc-js's
 * own and the insert budget's RESOURCE_EXHAUSTED), build the request context (aborted when the
 * client cancels or the server shuts down), run the service function and send its answer —
 * unary via the callback, streams with backpressure (write-stream.ts). Everything else is
 * in-band in `stat` with gRPC status OK.
 *
 * Every call is counted once in the RpcMetrics given, by outcome (rpc-metrics.ts): the wrapping
 * happens here for all RPCs, outside the insert budget so that its refusals count too.
 */
import {
  type handleBidiStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type Metadata,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import { BTRDB_RPCS, type BTrDBHandlers, type RpcName } from '../../wire/index.ts';
import type { ApiKeyAuth } from '../service/auth.ts';
import { INVALID_API_KEY } from '../service/auth.ts';
import type { AuthResult, RequestContext } from '../service/context.ts';
import { grpcMethodRole, permissionDenied, roleAllows } from '../service/roles.ts';
import { RPC_OK, type RpcMetrics } from '../service/rpc-metrics.ts';
import type { BidiService, BTrDBService, StreamingService, UnaryService } from '../service/service-types.ts';
import { applyInsertBudget, type InsertBudget } from './insert-budget.ts';
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
  /** Guards Insert and ArrowInsert (insert-budget.ts); absent = no limit. */
  readonly insertBudget?: InsertBudget;
  /** Where every call is counted by RPC and outcome, with its latency. */
  readonly metrics?: RpcMetrics;
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

/** The gRPC status name of a code (`status` is a numeric enum: it maps back). */
const statusName = (code: status | undefined): string =>
  code === undefined ? 'UNKNOWN' : (status[code] ?? String(code));

/** The outcome label of an answer message: its in-band BTrDB code, or OK when it carries none. */
function stattedCode(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null || !('stat' in message)) return undefined;
  const stat = (message as { readonly stat?: { readonly code?: unknown } | undefined }).stat;
  return typeof stat?.code === 'number' && stat.code !== 0 ? String(stat.code) : undefined;
}

/** Records one call in `metrics` (at most once) with the time since its creation. */
function callRecorder(metrics: RpcMetrics | undefined, rpc: string): (code: string) => void {
  if (metrics === undefined) return () => undefined;
  const started = process.hrtime.bigint();
  let recorded = false;
  return (code) => {
    if (recorded) return;
    recorded = true;
    metrics.observe(rpc, code, Number(process.hrtime.bigint() - started) / 1e9);
  };
}

/** The messages of `source`, remembering the first in-band error code among them in `seen`. */
async function* watched<R>(source: AsyncIterable<R>, seen: { code: string }): AsyncIterable<R> {
  for await (const m of source) {
    if (seen.code === RPC_OK) seen.code = stattedCode(m) ?? RPC_OK;
    yield m;
  }
}

/** A unary handler whose every answer (refusals by outer guards included) is counted. */
function measuredUnary<Q, R>(rpc: string, handler: handleUnaryCall<Q, R>, metrics: RpcMetrics): handleUnaryCall<Q, R> {
  return (call, callback) => {
    const record = callRecorder(metrics, rpc);
    const answer: sendUnaryData<R> = (err, value, ...rest) => {
      record(err ? statusName(err.code) : (stattedCode(value) ?? RPC_OK));
      callback(err, value, ...rest);
    };
    handler(call, answer);
  };
}

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
      const record = callRecorder(opts.metrics, rpc);
      const a = admit(auth, rpc, call.metadata);
      if ('refusal' in a) {
        record(statusName(a.refusal.code));
        call.emit('error', a.refusal);
        return;
      }
      start();
      const [ctx, release] = contextOf(call, a.ok, shutdown);
      const seen = { code: RPC_OK };
      writeAll(call, watched(fn(call.request, ctx), seen), ctx.signal)
        .then(
          () => {
            record(call.cancelled ? statusName(status.CANCELLED) : seen.code);
            call.end();
          },
          (e: unknown) => {
            record(statusName(status.INTERNAL));
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
      const record = callRecorder(opts.metrics, rpc);
      const a = admit(auth, rpc, call.metadata);
      if ('refusal' in a) {
        record(statusName(a.refusal.code));
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
      const seen = { code: RPC_OK };
      writeAll(call, watched(fn(requests, ctx), seen), ctx.signal)
        .then(
          () => {
            record(call.cancelled ? statusName(status.CANCELLED) : seen.code);
            call.end();
          },
          (e: unknown) => {
            record(statusName(status.INTERNAL));
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
  const handlers = out as BTrDBHandlers;
  if (opts.insertBudget !== undefined) applyInsertBudget(handlers, opts.insertBudget);
  // Streams count themselves (above); unary calls are counted at their callback, outside the
  // budget, so that a call the budget refused is counted as RESOURCE_EXHAUSTED.
  const metrics = opts.metrics;
  if (metrics !== undefined) {
    for (const [name, rpc] of Object.entries(BTRDB_RPCS) as [RpcName, { kind: string }][]) {
      if (rpc.kind === 'U') out[name] = measuredUnary(name, out[name] as handleUnaryCall<unknown, unknown>, metrics);
    }
  }
  return handlers;
}

/**
 * `createBTrDBService(backend, options)`: the 26 BTrDB v5 RPCs over a Backend, transport-agnostic.
 * Each entry validates the decoded wire request, calls the backend and answers the wire response;
 * every error is answered in-band (guard.ts). Authentication happens before (the adapter checks
 * the key and puts the result in the RequestContext); a context that is not authenticated is
 * refused here too, as a second line of defence.
 */
import { DbError } from '../../core/errors.ts';
import type { Backend } from '../../db/backend.ts';
import type { RpcName } from '../../wire/index.ts';
import type { RequestContext, ServiceOptions } from './context.ts';
import { EMPTY_CSV, generateCSV } from './generate-csv.ts';
import { guardStream, guardUnary } from './guard.ts';
import {
  EMPTY_COLLECTIONS,
  EMPTY_LOOKUP,
  EMPTY_SQL,
  EMPTY_USAGE,
  getMetadataUsage,
  listCollections,
  lookupStreams,
  sqlQuery,
} from './lookup-rpcs.ts';
import { arrowMultiValues, EMPTY_MULTI } from './multi-values.ts';
import {
  alignedWindows,
  arrowAlignedWindows,
  arrowRawValues,
  arrowWindows,
  changes,
  EMPTY_ARROW,
  EMPTY_CHANGES,
  EMPTY_NEAREST,
  EMPTY_RAW,
  EMPTY_WINDOWS,
  nearest,
  rawValues,
  windows,
} from './read-rpcs.ts';
import { grpcMethodRole, permissionDenied, roleAllows } from './roles.ts';
import { EMPTY_FAULT, EMPTY_INFO, faultInject, info } from './server-rpcs.ts';
import type { BTrDBService } from './service-types.ts';
import { statusOf } from './status.ts';
import {
  create,
  EMPTY_STAT,
  EMPTY_STREAM_INFO,
  obliterate,
  setStreamAnnotations,
  setStreamTags,
  streamInfo,
} from './stream-rpcs.ts';
import { subscribe } from './subscribe.ts';
import { arrowInsert, deleteRange, EMPTY_VERSIONED, flush, insert } from './write-rpcs.ts';

export const DEFAULT_POINTS_PER_MESSAGE = 5000;

/** Second line of defence behind the adapters: authenticated, and the key's role suffices. */
function authorized(ctx: RequestContext, rpc: RpcName): void {
  if (!ctx.auth.ok) throw new DbError(402, 'request is not authenticated');
  const have = ctx.auth.role ?? 'admin';
  const need = grpcMethodRole(rpc);
  if (!roleAllows(have, need)) throw new DbError(402, permissionDenied(have, need, rpc));
}

export function createBTrDBService(backend: Backend, options: ServiceOptions = {}): BTrDBService {
  const size = options.pointsPerMessage ?? DEFAULT_POINTS_PER_MESSAGE;
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`pointsPerMessage must be ≥ 1, got ${size}`);
  const hook = options.onInternalError;
  const b = backend;

  const unary = <Q, R extends object>(rpc: RpcName, empty: R, fn: (req: Q) => Promise<R>) =>
    guardUnary<Q, R>(rpc, empty, hook, async (req, ctx) => {
      authorized(ctx, rpc);
      return fn(req);
    });
  const streaming = <Q, R extends object>(rpc: RpcName, empty: R, fn: (req: Q) => AsyncIterable<R>) =>
    guardStream<Q, R>(rpc, empty, hook, async function* (req, ctx) {
      authorized(ctx, rpc);
      yield* fn(req);
    });

  return {
    RawValues: streaming('RawValues', EMPTY_RAW, (r) => rawValues(b, r, size)),
    ArrowRawValues: streaming('ArrowRawValues', EMPTY_ARROW, (r) => arrowRawValues(b, r, size)),
    ArrowMultiValues: streaming('ArrowMultiValues', EMPTY_MULTI, (r) => arrowMultiValues(b, r, size)),
    AlignedWindows: streaming('AlignedWindows', EMPTY_WINDOWS, (r) => alignedWindows(b, r, size)),
    ArrowAlignedWindows: streaming('ArrowAlignedWindows', EMPTY_ARROW, (r) => arrowAlignedWindows(b, r, size)),
    Windows: streaming('Windows', EMPTY_WINDOWS, (r) => windows(b, r, size)),
    ArrowWindows: streaming('ArrowWindows', EMPTY_ARROW, (r) => arrowWindows(b, r, size)),
    StreamInfo: unary('StreamInfo', EMPTY_STREAM_INFO, (r) => streamInfo(b, r)),
    SetStreamAnnotations: unary('SetStreamAnnotations', EMPTY_STAT, (r) => setStreamAnnotations(b, r)),
    SetStreamTags: unary('SetStreamTags', EMPTY_STAT, (r) => setStreamTags(b, r)),
    Create: unary('Create', EMPTY_STAT, (r) => create(b, r)),
    ListCollections: streaming('ListCollections', EMPTY_COLLECTIONS, (r) => listCollections(b, r)),
    LookupStreams: streaming('LookupStreams', EMPTY_LOOKUP, (r) => lookupStreams(b, r)),
    Nearest: unary('Nearest', EMPTY_NEAREST, (r) => nearest(b, r)),
    Changes: streaming('Changes', EMPTY_CHANGES, (r) => changes(b, r)),
    Insert: unary('Insert', EMPTY_VERSIONED, (r) => insert(b, r)),
    ArrowInsert: unary('ArrowInsert', EMPTY_VERSIONED, (r) => arrowInsert(b, r)),
    Delete: unary('Delete', EMPTY_VERSIONED, (r) => deleteRange(b, r)),
    Info: unary('Info', EMPTY_INFO, () => info(b, options)),
    FaultInject: unary('FaultInject', EMPTY_FAULT, (r) => faultInject(r, options)),
    Flush: unary('Flush', EMPTY_VERSIONED, (r) => flush(b, r)),
    Obliterate: unary('Obliterate', EMPTY_STAT, (r) => obliterate(b, r)),
    GetMetadataUsage: unary('GetMetadataUsage', EMPTY_USAGE, (r) => getMetadataUsage(b, r)),
    GenerateCSV: streaming('GenerateCSV', EMPTY_CSV, (r) => generateCSV(b, r, size)),
    SQLQuery: streaming('SQLQuery', EMPTY_SQL, (r) => sqlQuery(b, r)),
    Subscribe: async function* (updates, ctx) {
      try {
        authorized(ctx, 'Subscribe');
      } catch (e) {
        yield { stat: statusOf(e), uuid: new Uint8Array(0), arrowBytes: new Uint8Array(0) };
        return;
      }
      yield* subscribe(b, updates, ctx);
    },
  };
}

/**
 * Errors of the HTTP API. A DbError keeps its BTrDB code and name in the JSON body, and the HTTP
 * status comes from {@link HTTP_STATUS_OF_CODE}; errors of HTTP itself (no such route, wrong
 * method, missing key, body too large, unsupported media type) are `HttpError`s. Anything else is
 * a fault of the server: 500 with a short message (the original goes to the error hook).
 *
 *   {"error": {"code": 413, "name": "InvalidTimeRange", "message": "start 5 ≥ end 3"}}
 */
import { ERROR_CODES, type ErrorCode, isDbError } from '../../core/errors.ts';
import { statusOf } from '../service/index.ts';

/**
 * BTrDB code → HTTP status. Not found → 404; a bad request (value, range, width, key, SQL) → 400;
 * a conflict with the stored state (stream exists, ambiguous, stale property version, reused
 * uuid) → 409; a pruned version → 410; resources → 507; anything unlisted → 500.
 */
export const HTTP_STATUS_OF_CODE: Readonly<Record<ErrorCode, number>> = {
  401: 404, // NoSuchPoint: nearest found nothing
  402: 401, // ContextError: not authenticated
  403: 500, // InsertFailure
  404: 404, // NoSuchStream
  407: 400, // InvalidCollection
  408: 400, // InvalidTagKey
  409: 400, // InvalidTagValue
  413: 400, // InvalidTimeRange
  414: 413, // InsertTooBig → Payload Too Large
  415: 400, // InvalidPointWidth
  417: 409, // SameStream
  418: 409, // AmbiguousStream
  421: 400, // WrongArgs
  423: 409, // AnnotationVersionMismatch (optimistic property version)
  424: 403, // FaultInjectionDisabled
  425: 400, // BadValue (NaN/±Inf)
  426: 507, // ResourceDepleted
  427: 400, // InvalidVersions
  429: 409, // ReusedUUID
  434: 500, // JournalError
  438: 400, // InvalidParameter
  441: 400, // BadSQLValue
  450: 410, // VersionNotAvailable
  453: 503, // LockFailed
  500: 500, // InvariantFailure
  501: 501, // NotImplemented
};

/** An error of the HTTP layer itself; `name` is the body's error name (e.g. "MethodNotAllowed"). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorName: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  readonly error: { readonly code: number; readonly name: string; readonly message: string };
}

export interface HttpErrorAnswer {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Readonly<Record<string, string>>;
  /** True for faults of the server (not a DbError or HttpError): worth logging. */
  readonly internal: boolean;
}

/** Map anything thrown while serving a request to its HTTP answer. */
export function httpErrorOf(e: unknown): HttpErrorAnswer {
  if (e instanceof HttpError) {
    return {
      status: e.status,
      body: { error: { code: e.status, name: e.errorName, message: e.message } },
      headers: e.headers,
      internal: false,
    };
  }
  const s = statusOf(e);
  const code = s.code as ErrorCode;
  const status = HTTP_STATUS_OF_CODE[code] ?? 500;
  const name = isDbError(e) ? e.name : (ERROR_CODES[code] ?? 'InvariantFailure');
  return { status, body: { error: { code: s.code, name, message: s.msg } }, headers: {}, internal: !isDbError(e) };
}

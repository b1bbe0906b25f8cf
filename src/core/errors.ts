/**
 * The one error class of ArborDB. Its code is one of BTrDB's status codes, so the service layer
 * maps it to the wire without a table: BTrDB `Status{code,msg}`, HTTP status + JSON body.
 */

/** Every code ArborDB emits, with its BTrDB server name. */
export const ERROR_CODES = {
  401: 'NoSuchPoint',
  402: 'ContextError',
  403: 'InsertFailure',
  404: 'NoSuchStream',
  407: 'InvalidCollection',
  408: 'InvalidTagKey',
  409: 'InvalidTagValue',
  413: 'InvalidTimeRange',
  414: 'InsertTooBig',
  415: 'InvalidPointWidth',
  417: 'SameStream',
  418: 'AmbiguousStream',
  421: 'WrongArgs',
  423: 'AnnotationVersionMismatch',
  424: 'FaultInjectionDisabled',
  425: 'BadValue',
  426: 'ResourceDepleted',
  427: 'InvalidVersions',
  429: 'ReusedUUID',
  434: 'JournalError',
  438: 'InvalidParameter',
  441: 'BadSQLValue',
  450: 'VersionNotAvailable',
  453: 'LockFailed',
  500: 'InvariantFailure',
  501: 'NotImplemented',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorName = (typeof ERROR_CODES)[ErrorCode];

/** Where on disk a corruption was found: reported, never returned as data. */
export interface CorruptionLocation {
  readonly file: string;
  readonly offset: number;
}

export class DbError extends Error {
  readonly code: ErrorCode;
  readonly location: CorruptionLocation | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; location?: CorruptionLocation }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.location = options?.location;
  }

  override get name(): string {
    return ERROR_CODES[this.code];
  }
}

/** True when `e` is a DbError, optionally with the given code. */
export function isDbError(e: unknown, code?: ErrorCode): e is DbError {
  return e instanceof DbError && (code === undefined || e.code === code);
}

/** A checksum mismatch, torn record or impossible structure on disk (code 500, with location). */
export function corruption(file: string, offset: number, what: string): DbError {
  return new DbError(500, `corruption in ${file} at offset ${offset}: ${what}`, { location: { file, offset } });
}

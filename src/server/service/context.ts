/**
 * What every service function receives besides its request, and the options of the service.
 * Transport-agnostic: the gRPC adapter fills it from call metadata, a future HTTP adapter from
 * its request headers.
 */
import type { Role } from './roles.ts';

/** The outcome of authentication for one request. */
export interface AuthResult {
  /** True when the request may proceed (a valid key, or a server without keys). */
  readonly ok: boolean;
  /**
   * Which configured key matched (its position in the key list, counted from 0), or null when
   * the server is open (no keys) or the key was wrong.
   */
  readonly keyIndex: number | null;
  /**
   * What the request may do (roles.ts): the key's role; admin for an open server and for plain
   * `--api-key` keys; null when refused. Absent = admin (in-process callers, older tests).
   */
  readonly role?: Role | null;
  /** The keys-file id of the key that matched (never the secret), or null. */
  readonly keyId?: string | null;
}

export interface RequestContext {
  readonly auth: AuthResult;
  /** Aborted when the caller goes away or the server shuts down; long calls stop early. */
  readonly signal: AbortSignal;
}

/** How the service behaves; every field has a default. */
export interface ServiceOptions {
  /** Answer FaultInject instead of 424 (default false). */
  readonly enableFaultInject?: boolean;
  /**
   * Called for an enabled FaultInject of type 1 (panic, delay 0) or 2 (delayed panic, delay in
   * ms). The CLI kills the process; tests record the call. Default: nothing happens.
   */
  readonly onFault?: (kind: 'panic', delayMs: number) => void;
  /**
   * Endpoints reported by Info in `proxy.proxyEndpoints` when the backend reports none: a list,
   * or a function read at each Info (the gRPC adapter knows its port only after binding).
   */
  readonly proxyEndpoints?: readonly string[] | (() => readonly string[]);
  /** Points, windows or rows per streamed message (default 5000, as BTrDB v4). */
  readonly pointsPerMessage?: number;
  /** Called with errors that are not DbErrors (bugs, I/O failures) before they are answered 500. */
  readonly onInternalError?: (rpc: string, error: unknown) => void;
}

/** A context for calls made from inside the process (tests, the HTTP API later). */
export function localContext(signal: AbortSignal = new AbortController().signal): RequestContext {
  return { auth: { ok: true, keyIndex: null, role: 'admin', keyId: null }, signal };
}

/**
 * grpc-js server settings for bulk BTrDB traffic.
 *
 * grpc-js 1.14 reads `grpc-node.flow_control_window` only on the client side; its server keeps
 * Node's HTTP/2 defaults (64 KiB per stream and per connection), which caps Insert throughput
 * (PERF-NOTES: ~4.3M points/s with a server doing no work). `raiseServerFlowControlWindow`
 * fixes that by (1) advertising a larger SETTINGS_INITIAL_WINDOW_SIZE for every stream and
 * (2) raising each connection's window with `session.setLocalWindowSize` as sessions open.
 * It relies on two grpc-js internals (`commonServerOptions`, `createHttp2Server`); the version is
 * pinned, and the function throws if they are missing rather than silently doing nothing.
 */
import type { Http2Server, Http2Session } from 'node:http2';
import type { Server, ServerOptions } from '@grpc/grpc-js';

/** Largest HTTP/2 window (2^31 − 1). */
export const MAX_HTTP2_WINDOW = 2 ** 31 - 1;

/** Window we recommend: 16 MiB per stream and per connection. */
export const RECOMMENDED_WINDOW_BYTES = 16 << 20;

/**
 * Server options for `new grpc.Server(...)`: accept requests up to 64 MiB (a 50,000-point Insert
 * is ~1 MB; the 4 MiB default leaves little headroom for other clients' batch sizes), answers of
 * any size (we keep answer messages small ourselves: ~5,000 points each).
 */
export const RECOMMENDED_SERVER_OPTIONS: ServerOptions = {
  'grpc.max_receive_message_length': 64 << 20,
  'grpc.max_send_message_length': -1,
};

interface ServerInternals {
  commonServerOptions?: { settings?: Record<string, unknown> };
  createHttp2Server?: (this: Server, credentials: unknown) => Http2Server;
}

/**
 * Raise the HTTP/2 flow-control windows of every listener bound AFTER this call. Call it
 * between `new Server(...)` and `bindAsync`. `bytes` is clamped to [65,535, 2^31 − 1].
 */
export function raiseServerFlowControlWindow(server: Server, bytes = RECOMMENDED_WINDOW_BYTES): void {
  const window = Math.max(65_535, Math.min(MAX_HTTP2_WINDOW, Math.floor(bytes)));
  const internals = server as unknown as ServerInternals;
  const original = internals.createHttp2Server;
  if (internals.commonServerOptions === undefined || typeof original !== 'function') {
    throw new Error(
      'raiseServerFlowControlWindow: this @grpc/grpc-js version has no createHttp2Server/commonServerOptions',
    );
  }
  internals.commonServerOptions.settings = { ...internals.commonServerOptions.settings, initialWindowSize: window };
  internals.createHttp2Server = function (this: Server, credentials: unknown): Http2Server {
    const http2Server = original.call(this, credentials);
    http2Server.on('session', (session: Http2Session) => {
      const raise = () => {
        try {
          session.setLocalWindowSize(window);
        } catch {
          // The session closed before it was ready; nothing to tune.
        }
      };
      if (session.connecting) session.once('connect', raise);
      else raise();
    });
    return http2Server;
  };
}

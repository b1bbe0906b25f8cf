/**
 * A typed grpc-js client of v5api.BTrDB over our codecs, for ArborDB's remote TS client.
 * Methods keep grpc-js's calling conventions (callbacks for unary calls, readable streams for
 * server-streaming calls, a duplex stream for Subscribe); errors arrive in-band in `stat`.
 */
import {
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientUnaryCall,
  type Metadata,
  makeGenericClientConstructor,
  type requestCallback,
} from '@grpc/grpc-js';
import type { BTrDBRpcs, Rpc, RpcName } from './rpc-table.ts';
import { BTrDBService } from './service-definition.ts';

export interface UnaryMethod<Q, R> {
  (request: Q, callback: requestCallback<R>): ClientUnaryCall;
  (request: Q, metadata: Metadata, callback: requestCallback<R>): ClientUnaryCall;
  (request: Q, metadata: Metadata, options: Partial<CallOptions>, callback: requestCallback<R>): ClientUnaryCall;
}
export type ServerStreamingMethod<Q, R> = (
  request: Q,
  metadata?: Metadata,
  options?: Partial<CallOptions>,
) => ClientReadableStream<R>;
export type BidiStreamingMethod<Q, R> = (
  metadata?: Metadata,
  options?: Partial<CallOptions>,
) => ClientDuplexStream<Q, R>;

type ClientMethodOf<E> =
  E extends Rpc<'U', infer Q, infer R>
    ? UnaryMethod<Q, R>
    : E extends Rpc<'S', infer Q, infer R>
      ? ServerStreamingMethod<Q, R>
      : E extends Rpc<'B', infer Q, infer R>
        ? BidiStreamingMethod<Q, R>
        : never;

/** A grpc-js Client with one typed method per RPC (proto names, e.g. `client.RawValues(...)`). */
export type BTrDBClient = Client & { [N in RpcName]: ClientMethodOf<BTrDBRpcs[N]> };

/**
 * Channel options for talking to an ArborDB (or BTrDB) server: no receive limit (as
 * btrdb-python sets) and a 16 MiB HTTP/2 flow-control window instead of the 64 KiB default,
 * which otherwise caps bulk transfers on a connection.
 */
export const RECOMMENDED_CLIENT_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  'grpc-node.flow_control_window': 16 << 20,
};

const BTrDBClientConstructor = makeGenericClientConstructor(BTrDBService, 'BTrDB');

/** Connect to `address` (`host:port`). Options are merged over RECOMMENDED_CLIENT_OPTIONS. */
export function createBTrDBClient(
  address: string,
  credentials: ChannelCredentials,
  options: Partial<ChannelOptions> = {},
): BTrDBClient {
  const client: Client = new BTrDBClientConstructor(address, credentials, {
    ...RECOMMENDED_CLIENT_OPTIONS,
    ...options,
  });
  return client as BTrDBClient;
}

/**
 * The grpc-js service definition of v5api.BTrDB, wired to our codecs: usable as is by
 * `server.addService(BTrDBService, handlers)` and by `makeGenericClientConstructor(BTrDBService,
 * 'BTrDB')` (see grpc-client.ts). Method keys are the proto's RPC names (`RawValues`); the
 * lower-camel alias (`rawValues`) is set as `originalName`, which grpc-js accepts on both sides.
 *
 * A request that cannot be decoded never reaches a handler: grpc-js fails the call with status
 * INTERNAL and the fixed details "Error deserializing request". The WireFormatError itself goes
 * only to the optional `onDecodeError` hook (for logging).
 */
import type {
  handleBidiStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  MethodDefinition,
} from '@grpc/grpc-js';
import { DEFAULT_MAX_INSERT_POINTS, decodeInsertParams } from './insert-codec.ts';
import type { MessageCodec } from './message-codec.ts';
import { BTRDB_RPCS, type BTrDBRpcs, type Rpc, type RpcName } from './rpc-table.ts';

export const BTRDB_SERVICE_NAME = 'v5api.BTrDB';

/** Zero-copy view of encoded bytes as the Buffer grpc-js wants. */
const asBuffer = (u8: Uint8Array): Buffer => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

type MethodOf<E> = E extends Rpc<infer _K, infer Q, infer R> ? MethodDefinition<Q, R> : never;

/** The definition object: one grpc-js MethodDefinition per RPC, typed with its messages. */
export type BTrDBServiceDefinition = { readonly [N in RpcName]: MethodOf<BTrDBRpcs[N]> };

type HandlerOf<E> =
  E extends Rpc<'U', infer Q, infer R>
    ? handleUnaryCall<Q, R>
    : E extends Rpc<'S', infer Q, infer R>
      ? handleServerStreamingCall<Q, R>
      : E extends Rpc<'B', infer Q, infer R>
        ? handleBidiStreamingCall<Q, R>
        : never;

/** What a server implements: one grpc-js handler per RPC, typed with its messages. */
export type BTrDBHandlers = { [N in RpcName]: HandlerOf<BTrDBRpcs[N]> };

export interface ServiceDefinitionOptions {
  /** Most points accepted in one InsertParams (default DEFAULT_MAX_INSERT_POINTS). */
  readonly maxInsertPoints?: number;
  /** Called with the RPC name and the error when a request cannot be decoded (then rethrown). */
  readonly onDecodeError?: (rpc: RpcName, error: unknown) => void;
}

const lowerCamel = (s: string): string => s[0]!.toLowerCase() + s.slice(1);

function method<Q, R>(name: string, kind: string, req: MessageCodec<Q>, res: MessageCodec<R>): MethodDefinition<Q, R> {
  return {
    path: `/${BTRDB_SERVICE_NAME}/${name}`,
    requestStream: kind === 'B',
    responseStream: kind !== 'U',
    requestSerialize: (m: Q) => asBuffer(req.encode(m)),
    requestDeserialize: (b: Buffer) => req.decode(b),
    responseSerialize: (m: R) => asBuffer(res.encode(m)),
    responseDeserialize: (b: Buffer) => res.decode(b),
    originalName: lowerCamel(name),
  };
}

/** Build the definition; options change only how requests are decoded. */
export function createBTrDBServiceDefinition(options: ServiceDefinitionOptions = {}): BTrDBServiceDefinition {
  const out: Record<string, MethodDefinition<unknown, unknown>> = {};
  const maxPoints = options.maxInsertPoints ?? DEFAULT_MAX_INSERT_POINTS;
  const hook = options.onDecodeError;
  for (const [name, r] of Object.entries(BTRDB_RPCS) as [RpcName, Rpc<'U' | 'S' | 'B', unknown, unknown>][]) {
    const m = method(name, r.kind, r.request, r.response);
    const decode =
      name === 'Insert' && maxPoints !== DEFAULT_MAX_INSERT_POINTS
        ? (b: Buffer): unknown => decodeInsertParams(b, { maxPoints })
        : m.requestDeserialize;
    const requestDeserialize =
      hook === undefined
        ? decode
        : (b: Buffer): unknown => {
            try {
              return decode(b);
            } catch (e) {
              hook(name, e);
              throw e;
            }
          };
    out[name] = { ...m, requestDeserialize };
  }
  return out as unknown as BTrDBServiceDefinition;
}

/** The definition with default options. */
export const BTrDBService: BTrDBServiceDefinition = createBTrDBServiceDefinition();

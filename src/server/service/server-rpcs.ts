/**
 * Info and FaultInject (guide §4.13, §4.15).
 *
 * Info reports the backend's protocol version (5.34: btrdb-python turns Arrow on at ≥ 5.30), its
 * build string and the proxy endpoints (the server's own gRPC address when the backend reports
 * none). FaultInject is 424 FaultInjectionDisabled unless the server was started with it enabled;
 * then type 1 "panic" and type 2 "delayed panic" (params: the delay in ms as decimal text, default
 * 1000) call the `onFault` hook after answering, and type 3 "drop caches" is accepted as a no-op.
 */
import { DbError } from '../../core/errors.ts';
import type { Backend } from '../../db/backend.ts';
import type { FaultInjectParams, FaultInjectResponse, InfoResponse } from '../../wire/index.ts';
import type { ServiceOptions } from './context.ts';

export const EMPTY_INFO: InfoResponse = { majorVersion: 0, minorVersion: 0, build: '' };
export const EMPTY_FAULT: FaultInjectResponse = { rv: new Uint8Array(0) };

export async function info(backend: Backend, opts: ServiceOptions): Promise<InfoResponse> {
  const i = await backend.info();
  const own = typeof opts.proxyEndpoints === 'function' ? opts.proxyEndpoints() : (opts.proxyEndpoints ?? []);
  const proxyEndpoints = i.proxyEndpoints.length > 0 ? i.proxyEndpoints : own;
  return { majorVersion: i.majorVersion, minorVersion: i.minorVersion, build: i.build, proxy: { proxyEndpoints } };
}

export async function faultInject(req: FaultInjectParams, opts: ServiceOptions): Promise<FaultInjectResponse> {
  if (opts.enableFaultInject !== true) {
    throw new DbError(424, 'fault injection is disabled (start the server with --enable-fault-inject)');
  }
  const rv = new Uint8Array(0);
  switch (req.type) {
    case 1n:
      setImmediate(() => opts.onFault?.('panic', 0));
      return { rv };
    case 2n: {
      const text = Buffer.from(req.params).toString('utf8').trim();
      const delay = text === '' ? 1000 : Number(text);
      if (!Number.isSafeInteger(delay) || delay < 0)
        throw new DbError(438, `FaultInject 2: bad delay ${JSON.stringify(text)} (ms)`);
      setImmediate(() => opts.onFault?.('panic', delay));
      return { rv };
    }
    case 3n:
      return { rv };
    default:
      throw new DbError(438, `unknown fault type ${req.type}; known: 1 panic, 2 delayed panic, 3 drop caches`);
  }
}

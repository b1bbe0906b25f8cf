/**
 * Prometheus metrics of the BTrDB RPCs: requests by RPC and outcome, and a latency histogram per
 * RPC. Transport-agnostic: the gRPC adapter records each call once when it is answered, and the
 * HTTP server's /metrics page renders the same registry (`arbor serve` hands one to both).
 */
import { familyHead, LatencyHistogram, labels } from './prometheus-text.ts';

/** The outcome label of a request answered in full with an OK status. */
export const RPC_OK = 'OK';

export class RpcMetrics {
  readonly #requests = new Map<string, number>();
  readonly #latency = new Map<string, LatencyHistogram>();

  /**
   * Count one finished call. `code`: "OK"; the BTrDB status code of an error answered in-band in
   * the response's stat ("413"); or the gRPC status name of a call that failed at the transport
   * ("UNAUTHENTICATED", "RESOURCE_EXHAUSTED", "CANCELLED", "INTERNAL"). `seconds`: from the
   * call's arrival until its answer (a stream's last message) was handed to the transport.
   */
  observe(rpc: string, code: string, seconds: number): void {
    const key = JSON.stringify([rpc, code]);
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    let h = this.#latency.get(rpc);
    if (h === undefined) {
      h = new LatencyHistogram();
      this.#latency.set(rpc, h);
    }
    h.observe(seconds);
  }

  /** Calls of `rpc` counted with outcome `code` so far (tests). */
  requests(rpc: string, code: string): number {
    return this.#requests.get(JSON.stringify([rpc, code])) ?? 0;
  }

  /** Exposition lines (HELP/TYPE included), series sorted by label. */
  lines(): string[] {
    const out = familyHead(
      'arbordb_grpc_requests_total',
      'counter',
      'gRPC (BTrDB v5) requests by RPC and outcome: code is OK, the BTrDB status code of an error answered ' +
        'in the response stat (e.g. 413), or the gRPC status name of a call that failed at the transport ' +
        '(e.g. UNAUTHENTICATED, RESOURCE_EXHAUSTED, CANCELLED, INTERNAL).',
    );
    for (const [key, n] of [...this.#requests].sort(([a], [b]) => a.localeCompare(b))) {
      const [rpc, code] = JSON.parse(key) as [string, string];
      out.push(`arbordb_grpc_requests_total${labels({ rpc, code })} ${n}`);
    }
    out.push(
      ...familyHead(
        'arbordb_grpc_request_duration_seconds',
        'histogram',
        'gRPC request latency by RPC, every outcome included (a stream until its last message is sent).',
      ),
    );
    for (const [rpc, h] of [...this.#latency].sort(([a], [b]) => a.localeCompare(b))) {
      out.push(...h.lines('arbordb_grpc_request_duration_seconds', { rpc }));
    }
    return out;
  }
}

/**
 * Prometheus metrics of the HTTP server, in the text exposition format (version 0.0.4): requests
 * by endpoint (the route's path template, so uuids do not explode the label set), method and
 * status; a latency histogram per endpoint; points ingested and read; live subscribers. The gRPC
 * server's requests (RpcMetrics, when `arbor serve` shares its registry) and the database's
 * figures (engine counters, catalog size, disk bytes) are added at scrape time, so one /metrics
 * page covers the whole server.
 */
import { familyHead, LatencyHistogram, labels } from '../service/prometheus-text.ts';
import type { RpcMetrics } from '../service/rpc-metrics.ts';
import type { ServerStats } from './route.ts';

/** Engine counters (EngineStats) exported as `arbordb_engine_<snake>` with their type. */
const ENGINE_METRICS: Readonly<
  Record<string, { readonly name: string; readonly type: 'counter' | 'gauge'; readonly help: string }>
> = {
  streams: { name: 'arbordb_engine_streams', type: 'gauge', help: 'Streams open in the engine.' },
  commits: { name: 'arbordb_engine_commits_total', type: 'counter', help: 'Tree commits (new versions).' },
  walSyncs: {
    name: 'arbordb_engine_wal_syncs_total',
    type: 'counter',
    help: 'WAL fdatasyncs since the WAL was opened (object creates for a cluster shard); concurrent inserts share them (group commit).',
  },
  walSyncedRecords: {
    name: 'arbordb_engine_wal_synced_records_total',
    type: 'counter',
    help: 'WAL records made durable by those syncs; divided by arbordb_engine_wal_syncs_total it is the average group-commit size.',
  },
  walRecords: {
    name: 'arbordb_engine_wal_records_total',
    type: 'counter',
    help: 'WAL records appended (one per insert smaller than the direct-insert threshold).',
  },
  pointsInserted: {
    name: 'arbordb_engine_points_inserted_total',
    type: 'counter',
    help: 'Points inserted into the engine.',
  },
  blocksWritten: { name: 'arbordb_engine_blocks_written_total', type: 'counter', help: 'Tree blocks written.' },
  bytesWritten: { name: 'arbordb_engine_bytes_written_total', type: 'counter', help: 'Bytes of tree blocks written.' },
  coreCacheHits: { name: 'arbordb_engine_core_cache_hits_total', type: 'counter', help: 'Core node cache hits.' },
  coreCacheMisses: { name: 'arbordb_engine_core_cache_misses_total', type: 'counter', help: 'Core node cache misses.' },
  leafCacheHits: { name: 'arbordb_engine_leaf_cache_hits_total', type: 'counter', help: 'Leaf cache hits.' },
  leafCacheMisses: { name: 'arbordb_engine_leaf_cache_misses_total', type: 'counter', help: 'Leaf cache misses.' },
  readOnly: {
    name: 'arbordb_engine_read_only',
    type: 'gauge',
    help: '1 while writes are refused after a failed write (e.g. a full disk); reads still work.',
  },
  readOnlyEntries: {
    name: 'arbordb_engine_read_only_entries_total',
    type: 'counter',
    help: 'Times the engine turned read-only since it was opened.',
  },
};

export class HttpMetrics {
  readonly #requests = new Map<string, number>();
  readonly #latency = new Map<string, LatencyHistogram>();
  pointsIngested = 0;
  pointsRead = 0;
  windowsRead = 0;
  liveSubscribers = 0;
  livePointsPushed = 0;

  /** `rpc`: the gRPC server's registry, rendered on the same page (absent: no gRPC lines). */
  constructor(private readonly rpc?: RpcMetrics) {}

  /** Count one finished request. `endpoint` is the route template (or "static", "unmatched"). */
  observe(endpoint: string, method: string, status: number, seconds: number): void {
    const key = JSON.stringify([endpoint, method, String(status)]);
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    let h = this.#latency.get(endpoint);
    if (h === undefined) {
      h = new LatencyHistogram();
      this.#latency.set(endpoint, h);
    }
    h.observe(seconds);
  }

  /** Requests counted so far for an endpoint/method/status (tests). */
  requests(endpoint: string, method: string, status: number): number {
    return this.#requests.get(JSON.stringify([endpoint, method, String(status)])) ?? 0;
  }

  /** The exposition text, with the database's figures when given. */
  render(stats?: ServerStats): string {
    const out: string[] = [];
    const head = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string) =>
      out.push(...familyHead(name, type, help));

    head('arbordb_http_requests_total', 'counter', 'HTTP requests by endpoint, method and status.');
    for (const [key, n] of [...this.#requests].sort()) {
      const [endpoint, method, status] = JSON.parse(key) as [string, string, string];
      out.push(`arbordb_http_requests_total${labels({ endpoint, method, status })} ${n}`);
    }
    head(
      'arbordb_http_request_duration_seconds',
      'histogram',
      'HTTP request latency by endpoint (until the answer is sent).',
    );
    for (const [endpoint, h] of [...this.#latency].sort(([a], [b]) => a.localeCompare(b))) {
      out.push(...h.lines('arbordb_http_request_duration_seconds', { endpoint }));
    }
    const simple = (name: string, type: 'counter' | 'gauge', help: string, v: number) => {
      head(name, type, help);
      out.push(`${name} ${v}`);
    };
    simple(
      'arbordb_http_points_ingested_total',
      'counter',
      'Points inserted through the HTTP API.',
      this.pointsIngested,
    );
    simple('arbordb_http_points_read_total', 'counter', 'Raw points answered by the HTTP API.', this.pointsRead);
    simple(
      'arbordb_http_windows_read_total',
      'counter',
      'Statistical windows answered by the HTTP API.',
      this.windowsRead,
    );
    simple('arbordb_http_live_subscribers', 'gauge', 'Open live (SSE) connections.', this.liveSubscribers);
    simple('arbordb_http_live_points_total', 'counter', 'Points pushed to live subscribers.', this.livePointsPushed);
    if (this.rpc !== undefined) out.push(...this.rpc.lines());

    if (stats !== undefined) {
      for (const [k, v] of Object.entries(stats.engine)) {
        const m = ENGINE_METRICS[k];
        if (m !== undefined && typeof v === 'number') simple(m.name, m.type, m.help, v);
      }
      simple('arbordb_catalog_streams', 'gauge', 'Live streams in the catalog.', stats.streams);
      simple(
        'arbordb_catalog_collections',
        'gauge',
        'Collections holding at least one live stream.',
        stats.collections,
      );
      if (stats.diskBytes !== null)
        simple('arbordb_disk_bytes', 'gauge', 'Bytes of the data directory on disk.', stats.diskBytes);
    }
    const mem = process.memoryUsage();
    simple('process_resident_memory_bytes', 'gauge', 'Resident memory of the server process.', mem.rss);
    simple('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', mem.heapUsed);
    return `${out.join('\n')}\n`;
  }
}
